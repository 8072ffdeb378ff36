"""The single seam for translating what users read: English, 日本語, 简体中文.

Every user-visible English string passes through :func:`_` with its values as
named parameters (``_("No instance {instance} in {region}.", instance=..., region=...)``),
never pre-formatted: the English template is the gettext message id, looked up
in the reader's catalogue (``bot/locale/<locale>/LC_MESSAGES/messages.po``),
then filled in. :func:`_n` does the same for a sentence with a count.

Who reads. The reader's locale (``en``, ``ja``, ``zh_CN``) lives in a context
variable, so it follows the work into threads that copy the context
(:class:`bot.workflow.background.Background` does). A :class:`Reader` may be
lazy: the Slack layer sets one per request that asks Slack for the person's
locale only when something is first translated, so acknowledging stays fast.
Outside any reader (start-up, the command line, background jobs) text is
English. Use :func:`use_locale` to render for someone in particular (the
outbox renders each notice for where it lands), :func:`in_english` for what is
recorded rather than read (the audit trail).

Import time. Strings wrapped at import (field labels, hints, option names,
operation titles, state labels) are rendered with no reader, so they stay
English message ids for ever; they are translated where they are shown, with
:func:`tr` (or read through :class:`Translated`, a table that translates its
values when read). Modules holding such strings are imported at start-up,
never first inside a request, or a reader's language would stick to them.

Catalogues. The ``.po`` files are read at run time with Babel and compiled in
memory (no compile step: a fresh ``pip install -e .`` works), once per locale,
on first use. A fuzzy or empty entry falls back to English. Catalogue tooling
(extract, update, check) is :mod:`bot.i18n_catalog`.

Field errors also carry a stable key and their parameters
(:class:`bot.operations.base.FieldError`), so they can be re-rendered in
another language without parsing English.
"""

from __future__ import annotations

import gettext
import io
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from pathlib import Path
from typing import TypeVar

log = logging.getLogger(__name__)

SOURCE = "en"  # the language of the message ids
LOCALES = ("en", "ja", "zh_CN")
LOCALE_DIR = Path(__file__).resolve().with_name("locale")
DOMAIN = "messages"
# The spelling the settings use (DESIGN.md: `en`, `ja`, `zh-CN`) -> ours.
SETTING_VALUES = {"en": "en", "ja": "ja", "zh-CN": "zh_CN"}


def normalize(slack_locale: str | None) -> str | None:
    """Our locale for a Slack (or settings) locale: ``ja-JP`` -> ``ja``, ``zh-CN`` -> ``zh_CN``,
    ``en-US``/``en-GB`` -> ``en``; None for a language we do not speak (``zh-TW``, ``fr-FR``)."""
    if not slack_locale:
        return None
    parts = slack_locale.strip().replace("_", "-").lower().split("-")
    language, region = parts[0], (parts[1] if len(parts) > 1 else "")
    if language == "en":
        return "en"
    if language == "ja":
        return "ja"
    if language == "zh" and region in {"", "cn", "hans", "sg"}:
        return "zh_CN"
    return None


class Reader:
    """Who will read what is being rendered: a locale, or a way to find it out on first use.

    ``resolve`` returns a Slack locale (or None when unknown); it runs at most
    once, only when some text is actually translated. ``fallback`` is the
    locale when it cannot say (RDSBOT_DEFAULT_LOCALE).
    """

    __slots__ = ("_locale", "_resolve", "fallback")

    def __init__(self, resolve: Callable[[], str | None], *, fallback: str = SOURCE) -> None:
        self._resolve = resolve
        self._locale: str | None = None
        self.fallback = fallback

    @classmethod
    def fixed(cls, locale: str) -> Reader:
        """A reader whose locale is known (``en``, ``ja``, ``zh_CN``; ``zh-CN`` is accepted)."""
        found = normalize(locale)
        if found is None:
            raise ValueError(f"unsupported locale {locale!r}: use one of {', '.join(LOCALES)}")
        reader = cls(lambda: found, fallback=found)
        reader._locale = found
        return reader

    @property
    def locale(self) -> str:
        if self._locale is None:
            try:
                found = normalize(self._resolve())
            except Exception:  # noqa: BLE001 - someone we cannot look up reads the default language
                log.warning("the reader's locale could not be looked up", exc_info=True)
                found = None
            self._locale = found or self.fallback  # two threads racing here compute the same answer
        return self._locale


_READER: ContextVar[Reader | None] = ContextVar("rdsbot_reader", default=None)


def current_locale() -> str:
    """The locale text is rendered in right now (``en`` outside any reader)."""
    reader = _READER.get()
    return reader.locale if reader is not None else SOURCE


def set_reader(reader: Reader | None) -> Token[Reader | None]:
    """Make ``reader`` the reader of everything rendered in this context from now on (see :func:`use_reader`)."""
    return _READER.set(reader)


@contextmanager
def use_reader(reader: Reader | None) -> Iterator[Reader | None]:
    """Render for ``reader`` inside the block (None: English)."""
    token = _READER.set(reader)
    try:
        yield reader
    finally:
        _READER.reset(token)


@contextmanager
def use_locale(locale: str) -> Iterator[str]:
    """Render in ``locale`` inside the block: ``with use_locale("ja"): text = _("Close")``."""
    reader = Reader.fixed(locale)
    with use_reader(reader):
        yield reader.locale


def in_english(render: Callable[[], str]) -> str:
    """What ``render`` says in English, whoever reads now: for records (the audit trail), not for people."""
    with use_locale(SOURCE):
        return render()


# ------------------------------------------------------------------ catalogues
_CATALOGUES: dict[str, gettext.NullTranslations] = {}
_LOADING = threading.Lock()


def catalogue(locale: str) -> gettext.NullTranslations:
    """The compiled catalogue of ``locale``, loaded on first use (English: none, ids are English)."""
    found = _CATALOGUES.get(locale)
    if found is None:
        with _LOADING:
            found = _CATALOGUES.get(locale)
            if found is None:
                found = _CATALOGUES[locale] = _load(locale)
    return found


def po_path(locale: str) -> Path:
    """Where the catalogue of ``locale`` is kept."""
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def _load(locale: str) -> gettext.NullTranslations:
    if locale == SOURCE:
        return gettext.NullTranslations()
    path = po_path(locale)
    if not path.exists():
        log.error("no %s catalogue at %s; English is shown instead", locale, path)
        return gettext.NullTranslations()
    try:
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        with path.open("rb") as handle:
            po = read_po(handle, locale=locale, domain=DOMAIN, ignore_obsolete=True)
        for message in list(po)[1:]:  # [0] is the header
            strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
            if message.fuzzy or not all(strings):
                po.delete(message.id, context=message.context)  # English until someone translates it
        compiled = io.BytesIO()
        write_mo(compiled, po, use_fuzzy=False)
        compiled.seek(0)
        return gettext.GNUTranslations(compiled)
    except Exception:  # noqa: BLE001 - a broken catalogue must not take the bot down: its readers get English
        log.exception("the %s catalogue could not be loaded; English is shown instead", locale)
        return gettext.NullTranslations()


def forget_catalogues() -> None:
    """Drop loaded catalogues so the next use reads the files again (tests, catalogue tooling)."""
    with _LOADING:
        _CATALOGUES.clear()


# ---------------------------------------------------------------- translating
def _(text: str, /, **params: object) -> str:
    """``text`` in the reader's language, with ``params`` filled in (str.format)."""
    translated = catalogue(current_locale()).gettext(text)
    return translated.format(**params) if params else translated


def _n(singular: str, plural: str, n: int, /, **params: object) -> str:
    """The form of a sentence with a count that fits ``n``, in the reader's language; ``{n}`` is the count."""
    translated = catalogue(current_locale()).ngettext(singular, plural, n)
    return translated.format(**{"n": n, **params})


def tr(text: str) -> str:
    """An English message id wrapped at import time (a label, a hint), in the reader's language.

    For a parameter-free string that is already English (``_()`` ran with no
    reader); anything not in the catalogue (a value, an ID) comes back as it is.
    """
    return catalogue(current_locale()).gettext(text) if text else text


K = TypeVar("K")


class Translated(Mapping[K, str]):
    """A constant table whose values are English message ids, each read in the reader's language."""

    def __init__(self, items: Mapping[K, str]) -> None:
        self._items = dict(items)

    def __getitem__(self, key: K) -> str:
        return tr(self._items[key])

    def __iter__(self) -> Iterator[K]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)
