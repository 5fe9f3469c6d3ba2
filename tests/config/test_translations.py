"""The Japanese translation is complete: every template string and every string in the
catalogue has a Japanese text, and the compiled catalogue is the current one."""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

from django.conf import settings
from django.utils.translation.template import templatize

ROOT = Path(settings.BASE_DIR)
CATALOGUE = ROOT / "locale" / "ja" / "LC_MESSAGES"
# Django's templatize turns {% translate %} / {% blocktranslate %} into gettext calls.
CALL = re.compile(
    r"\b(?P<fn>gettext|pgettext|ngettext|npgettext)\("
    r"(?P<args>(?:u?'(?:[^'\\]|\\.)*'|u?\"(?:[^\"\\]|\\.)*\"|[^'\")])*)\)"
)


def _strings(args: str) -> list[str]:
    tokens = re.findall(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"", args)
    return [ast.literal_eval(token) for token in tokens]


def template_messages() -> set[tuple[str, str]]:
    """(context, msgid) of every translatable string in the project's templates."""
    found: set[tuple[str, str]] = set()
    for path in sorted((ROOT / "templates").rglob("*.html")) + sorted(
        (ROOT / "templates").rglob("*.txt")
    ):
        for match in CALL.finditer(templatize(path.read_text(), origin=str(path))):
            strings = _strings(match["args"])
            if match["fn"] in {"pgettext", "npgettext"}:
                found.add((strings[0], strings[1]))
            else:
                found.add(("", strings[0]))
    return found


def po_entries(path: Path) -> list[dict[str, object]]:
    """The entries of a .po file: msgctxt, msgid, msgstr (all forms) and whether fuzzy."""
    entries: list[dict[str, object]] = []
    entry: dict[str, object] = {}
    key = ""

    def finish() -> None:
        if "msgid" in entry:
            entries.append(dict(entry))
        entry.clear()

    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line:
            finish()
            continue
        if line.startswith("#,") and "fuzzy" in line:
            finish()
            entry["fuzzy"] = True
            continue
        if line.startswith("#"):
            continue
        if line.startswith('"'):
            entry[key] = str(entry[key]) + ast.literal_eval(line)
            continue
        key, _, value = line.partition(" ")
        if key == "msgctxt" and "msgid" in entry:
            finish()
        entry[key] = ast.literal_eval(value)
    finish()
    return entries


def test_every_template_string_has_a_japanese_translation():
    translated = {
        (str(e.get("msgctxt", "")), str(e["msgid"]))
        for e in po_entries(CATALOGUE / "django.po")
        if e["msgid"]
        and not e.get("fuzzy")
        and all(str(v) for k, v in e.items() if str(k).startswith("msgstr"))
    }
    missing = sorted(template_messages() - translated)
    assert not missing, f"{len(missing)} template strings lack Japanese: {missing[:20]}"


def test_the_catalogue_has_no_empty_or_fuzzy_entry():
    entries = [e for e in po_entries(CATALOGUE / "django.po") if e["msgid"]]
    assert len(entries) > 100
    untranslated = [
        e["msgid"]
        for e in entries
        if e.get("fuzzy") or not all(str(v) for k, v in e.items() if str(k).startswith("msgstr"))
    ]
    assert not untranslated, f"{len(untranslated)} entries untranslated: {untranslated[:20]}"


def test_the_compiled_catalogue_matches_the_po_file():
    with (CATALOGUE / "django.mo").open("rb") as compiled:
        catalogue = gettext.GNUTranslations(compiled)
    for entry in po_entries(CATALOGUE / "django.po"):
        msgid, msgstr = str(entry["msgid"]), entry.get("msgstr")
        if not msgid or entry.get("fuzzy") or msgstr is None or "msgctxt" in entry:
            continue
        assert catalogue.gettext(msgid) == msgstr, f"run compilemessages: {msgid!r} differs"
