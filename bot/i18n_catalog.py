"""Catalogue tooling over Babel's Python API: extract the English message ids, merge them into the
translations, and check the translations.

    python -m bot.i18n_catalog extract   # write bot/locale/messages.pot from the source
    python -m bot.i18n_catalog update    # extract, then merge into each .po (new ids empty, gone ids dropped)
    python -m bot.i18n_catalog check     # list missing, fuzzy, stale, placeholder and glossary problems

Message ids are the first argument of ``_()``, both of ``_n()``, the template of
``Checker.fail`` (third) and ``FieldError.of`` (second), and the words of an RDS
error ``Entry`` (first). bot/sandbox (the emulators, English for developers) is
not extracted. A ``# i18n:`` comment just above a string reaches the translator.

The glossary (``bot/locale/glossary/<locale>.toml``: ``[[term]]`` tables with
``en``, ``target`` and an optional ``note``) says how RDS terms are written:
every translation of an id that holds ``en`` (as a word, outside placeholders
and code spans) must hold ``target``.
"""

from __future__ import annotations

import argparse
import functools
import io
import re
import string
import sys
import tomllib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po, write_po

from bot.i18n import DOMAIN, LOCALE_DIR, LOCALES, SOURCE, po_path

BOT = Path(__file__).resolve().parent
KEYWORDS: dict[str, tuple[int, ...] | None] = {"_": None, "_n": (1, 2), "fail": (3,), "of": (2,), "Entry": (1,), "TableMetaError": (2,)}
NOT_EXTRACTED = {"sandbox", "__pycache__", "locale"}
TEMPLATE = LOCALE_DIR / f"{DOMAIN}.pot"
TRANSLATED = tuple(locale for locale in LOCALES if locale != SOURCE)
GLOSSARY_DIR = LOCALE_DIR / "glossary"


def source_files() -> list[Path]:
    """Every module whose strings may reach a person."""
    return sorted(p for p in BOT.rglob("*.py") if not NOT_EXTRACTED & set(p.relative_to(BOT).parts[:-1]))


def extract() -> Catalog:
    """The template: every message id in the source, in file order."""
    template = Catalog(project="rdsbot", domain=DOMAIN, charset="utf-8", fuzzy=False)
    for path in source_files():
        where = path.relative_to(BOT.parent).as_posix()
        for lineno, message, comments, context in extract_from_file(
                "python", path, keywords=KEYWORDS, comment_tags=("i18n:",), strip_comment_tags=True):
            template.add(message, None, [(where, lineno)], auto_comments=comments, context=context)
    return template


@functools.cache
def extracted() -> Catalog:
    """:func:`extract`, once per process (tests read it many times; do not change it)."""
    return extract()


def load(locale: str) -> Catalog | None:
    """The catalogue of ``locale`` as written (fuzzy and empty entries included), None when there is none."""
    path = po_path(locale)
    if not path.exists():
        return None
    with path.open("rb") as handle:
        return read_po(handle, locale=locale, domain=DOMAIN)


def write(catalog: Catalog, path: Path) -> None:
    """Write a .po/.pot the way every catalogue here is written: no locations, no wrapping, no obsolete ids."""
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=0, no_location=True, ignore_obsolete=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())


def update(template: Catalog | None = None) -> list[Path]:
    """Write the template, and merge it into each translation: translations kept, new ids empty
    (or fuzzy, holding the translation of a similar old id), ids gone from the source dropped."""
    template = template or extract()
    write(template, TEMPLATE)
    written = [TEMPLATE]
    for locale in TRANSLATED:
        catalog = load(locale) or Catalog(locale=locale, domain=DOMAIN, project="rdsbot", charset="utf-8")
        catalog.update(template, update_creation_date=False)
        write(catalog, po_path(locale))
        written.append(po_path(locale))
    return written


# ------------------------------------------------------------------- checking
@dataclass(frozen=True)
class Problem:
    """One thing wrong with a translation."""

    locale: str
    kind: str  # missing | fuzzy | stale | placeholders | glossary
    msgid: str
    detail: str = ""

    def __str__(self) -> str:
        detail = f" ({self.detail})" if self.detail else ""
        return f"{self.locale}: {self.kind}{detail}: {self.msgid[:90]!r}"


def ids(message: Message) -> tuple[str, ...]:
    """The singular (and plural) id of ``message``."""
    return tuple(message.id) if isinstance(message.id, tuple | list) else (message.id,)


def strings(message: Message) -> tuple[str, ...]:
    """The translation(s) of ``message`` (one per plural form)."""
    if isinstance(message.string, tuple | list):
        return tuple(s or "" for s in message.string)
    return (message.string or "",)


def placeholders(text: str) -> set[str]:
    """The ``{names}`` str.format fills in (``{{`` is a brace, not a placeholder)."""
    try:
        return {name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError:
        return {"<unbalanced braces>"}


def _messages(catalog: Catalog) -> Iterator[Message]:
    return (m for m in catalog if m.id)


def problems(locale: str, template: Catalog | None = None, catalog: Catalog | None = None) -> list[Problem]:
    """Everything wrong with the ``locale`` catalogue against the source (``template``)."""
    template = template if template is not None else extracted()
    catalog = catalog if catalog is not None else load(locale)
    if catalog is None:
        return [Problem(locale, "missing", "*", f"no catalogue at {po_path(locale)}")]
    found: list[Problem] = []
    for wanted in _messages(template):
        message = catalog.get(wanted.id, context=wanted.context)
        msgid = ids(wanted)[0]
        if message is None or not all(strings(message)):
            found.append(Problem(locale, "missing", msgid))
        elif message.fuzzy:
            found.append(Problem(locale, "fuzzy", msgid))
        else:
            expected = set().union(*(placeholders(i) for i in ids(wanted)))
            for text in strings(message):
                got = placeholders(text)
                if got != expected and not (len(ids(wanted)) > 1 and got <= expected):
                    found.append(Problem(locale, "placeholders", msgid, f"{sorted(got)} != {sorted(expected)}"))
    for message in _messages(catalog):
        if template.get(message.id, context=message.context) is None:
            found.append(Problem(locale, "stale", ids(message)[0], "no longer in the source"))
    return found + glossary_problems(locale, catalog)


@dataclass(frozen=True)
class Term:
    """How one English RDS term is written in a language."""

    en: str
    target: str
    note: str = ""

    @functools.cached_property
    def pattern(self) -> re.Pattern[str]:
        return re.compile(rf"(?<![A-Za-z0-9_-]){re.escape(self.en)}(?![A-Za-z0-9_])", re.IGNORECASE)


def glossary(locale: str) -> list[Term]:
    """The terms of ``locale``'s glossary (none when it has no file)."""
    path = GLOSSARY_DIR / f"{locale}.toml"
    if not path.exists():
        return []
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return [Term(str(t["en"]), str(t["target"]), str(t.get("note", ""))) for t in data.get("term", [])]


_NOT_WORDS = re.compile(r"\{[^{}]*\}|`[^`]*`")  # placeholders and code spans keep their English


def glossary_problems(locale: str, catalog: Catalog) -> list[Problem]:
    """Translations that do not write a glossary term the glossary's way."""
    terms = glossary(locale)
    found = []
    for message in _messages(catalog):
        texts = strings(message)
        if message.fuzzy or not all(texts):
            continue  # reported as missing or fuzzy already
        words = " ".join(_NOT_WORDS.sub(" ", i) for i in ids(message))
        for term in terms:
            if term.pattern.search(words) and not all(term.target in text for text in texts):
                found.append(Problem(locale, "glossary", ids(message)[0], f"{term.en!r} is written {term.target!r}"))
    return found


def all_problems(locales: Sequence[str] = TRANSLATED) -> list[Problem]:
    return [problem for locale in locales for problem in problems(locale)]


def _report(found: Iterable[Problem]) -> int:
    count = 0
    for problem in found:
        print(problem)
        count += 1
    print(f"{count} problem(s)" if count else "the catalogues are complete")
    return 1 if count else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.i18n_catalog", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("extract", "update", "check"))
    args = parser.parse_args(argv)
    if args.command == "extract":
        write(extract(), TEMPLATE)
        print(TEMPLATE)
        return 0
    if args.command == "update":
        for path in update():
            print(path)
        return 0
    return _report(all_problems())


if __name__ == "__main__":
    sys.exit(main())
