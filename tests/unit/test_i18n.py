"""The translation machinery: whose language, catalogues read from .po at run time, fallbacks, plurals."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import i18n
from bot.i18n import Reader, Translated, _, _n, current_locale, normalize, tr, use_locale, use_reader
from bot.workflow.background import Background

PO = r'''msgid ""
msgstr ""
"Language: ja\n"
"MIME-Version: 1.0\n"
"Content-Type: text/plain; charset=utf-8\n"
"Plural-Forms: nplurals=1; plural=0;\n"

msgid "Close"
msgstr "閉じる"

msgid "No instance {instance} in {region}."
msgstr "{region} にインスタンス {instance} はありません。"

#, fuzzy
msgid "Reject"
msgstr "却下（古い訳）"

msgid "Run"
msgstr ""

msgid "{n} approval"
msgid_plural "{n} approvals"
msgstr[0] "承認 {n} 件"
'''


@pytest.fixture
def catalogues(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A ``ja`` catalogue of a few entries in place of the real ones."""
    po = tmp_path / "ja" / "LC_MESSAGES" / "messages.po"
    po.parent.mkdir(parents=True)
    po.write_text(PO, encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    i18n.forget_catalogues()
    yield tmp_path
    i18n.forget_catalogues()


@pytest.mark.parametrize(("slack", "ours"), [
    ("ja-JP", "ja"), ("ja", "ja"), ("zh-CN", "zh_CN"), ("zh_CN", "zh_CN"), ("en-US", "en"), ("en-GB", "en"),
    ("zh-TW", None), ("fr-FR", None), ("", None), (None, None),
])
def test_slack_locales_map_to_ours(slack: str | None, ours: str | None) -> None:
    assert normalize(slack) == ours


def test_a_catalogue_is_read_from_its_po_and_untranslated_or_fuzzy_entries_stay_english(catalogues: Path) -> None:
    with use_locale("ja"):
        assert _("Close") == "閉じる"
        assert _("No instance {instance} in {region}.", instance="rm-1", region="cn-hangzhou") == \
            "cn-hangzhou にインスタンス rm-1 はありません。"
        assert _("Reject") == "Reject"  # fuzzy: a guess nobody checked is never shown
        assert _("Run") == "Run"  # empty
        assert _("Not in the catalogue") == "Not in the catalogue"
        assert _n("{n} approval", "{n} approvals", 3) == "承認 3 件"
    assert _("Close") == "Close" and _n("{n} approval", "{n} approvals", 1) == "1 approval"
    assert _n("{n} approval", "{n} approvals", 2) == "2 approvals"


def test_the_reader_is_per_context_and_english_outside(catalogues: Path) -> None:
    assert current_locale() == "en"
    with use_locale("ja"):
        with use_locale("zh-CN"):
            assert current_locale() == "zh_CN"
        assert current_locale() == "ja"
        seen: list[str] = []
        other = threading.Thread(target=lambda: seen.append(current_locale()))
        other.start()
        other.join()
        assert seen == ["en"]  # a plain thread does not inherit it; Background does (below)
    assert current_locale() == "en"
    with pytest.raises(ValueError):
        with use_locale("fr"):
            pass


def test_a_lazy_reader_asks_once_and_only_when_something_is_translated(catalogues: Path) -> None:
    asked: list[int] = []

    def slack_says() -> str:
        asked.append(1)
        return "ja-JP"

    with use_reader(Reader(slack_says)):
        assert asked == []
        assert _("Close") == "閉じる" and tr("Close") == "閉じる"
    assert asked == [1]
    with use_reader(Reader(lambda: "de-DE", fallback="ja")):
        assert _("Close") == "閉じる"  # a language we do not speak: the default locale
    with use_reader(Reader(lambda: None)):
        assert _("Close") == "Close"

    def broken() -> str:
        raise OSError("Slack is down")

    with use_reader(Reader(broken, fallback="ja")):
        assert _("Close") == "閉じる"


def test_import_time_strings_are_english_ids_read_in_the_readers_language(catalogues: Path) -> None:
    table = Translated({"a": _("Close")})  # built with no reader, as at import
    assert table["a"] == "Close"
    with use_locale("ja"):
        assert table["a"] == "閉じる" and table.get("a") == "閉じる" and tr("Close") == "閉じる"
        assert tr("rm-bp1prod") == "rm-bp1prod" and tr("") == ""


def test_background_work_keeps_the_language_of_whoever_submitted_it(catalogues: Path) -> None:
    pool = Background(max_workers=2)
    try:
        with use_locale("ja"):
            japanese = pool.submit(lambda: _("Close"))
        english = pool.submit(lambda: _("Close"))
        assert japanese.result(5) == "閉じる" and english.result(5) == "Close"
    finally:
        pool.shutdown()


def test_a_missing_catalogue_means_english_not_a_crash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    i18n.forget_catalogues()
    try:
        with use_locale("zh_CN"):
            assert _("Close") == "Close"
    finally:
        i18n.forget_catalogues()


def test_update_keeps_translations_adds_new_ids_empty_and_drops_gone_ones(
        catalogues: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from babel.messages.catalog import Catalog

    from bot import i18n_catalog

    monkeypatch.setattr(i18n_catalog, "TEMPLATE", catalogues / "messages.pot")
    monkeypatch.setattr(i18n_catalog, "TRANSLATED", ("ja",))
    template = Catalog(project="rdsbot", charset="utf-8", fuzzy=False)
    template.add("Close")
    template.add("A sentence nobody translated yet.")
    template.add(("{n} approval", "{n} approvals"))
    i18n_catalog.update(template)
    ja = i18n_catalog.load("ja")
    assert ja is not None and (catalogues / "messages.pot").exists()
    assert ja.get("Close").string == "閉じる"  # kept
    assert ja.get("{n} approval").string[0] == "承認 {n} 件"
    assert ja.get("Run") is None and ja.get("No instance {instance} in {region}.") is None  # gone from the source
    kinds = {(p.kind, p.msgid) for p in i18n_catalog.problems("ja", template, ja)}
    assert ("missing", "A sentence nobody translated yet.") in kinds
    assert not any(kind == "stale" for kind, _msgid in kinds)
    ja.get("Close").string = "閉じる {x}"
    assert any(p.kind == "placeholders" for p in i18n_catalog.problems("ja", template, ja))
