"""The shipped catalogues: one per language offered, complete, compiled, and in step with the code's messages."""

import gettext
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings as django_settings


@dataclass
class Entry:
    msgid: str = ""
    context: str | None = None
    plural: str | None = None
    msgstrs: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    obsolete: bool = False


def unquote(text: str) -> str:
    return text.strip()[1:-1].encode().decode("unicode_escape").encode("latin-1").decode()


FIELD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?) (".*")$')


def po_entry(block: str) -> Entry | None:
    """One blank-line-separated block of a .po file (gettext's own format, read without a dependency)."""
    entry, fields, key = Entry(), {}, ""
    for line in block.strip().splitlines():
        if line.startswith("#,"):
            entry.flags = [flag.strip() for flag in line[2:].split(",")]
        entry.obsolete |= line.startswith("#~")
        found = FIELD.match(line)
        if found:
            key = found.group(1)
            fields[key] = unquote(found.group(2))
        elif line.startswith('"') and key:
            fields[key] += unquote(line)
    if "msgid" not in fields and not entry.obsolete:
        return None
    entry.msgid = fields.get("msgid", "")
    entry.plural = fields.get("msgid_plural")
    entry.context = fields.get("msgctxt")
    entry.msgstrs = [text for name, text in fields.items() if name.startswith("msgstr")]
    return entry


def po_entries(po: Path) -> list[Entry]:
    blocks = po.read_text(encoding="utf-8").split("\n\n")
    return [entry for entry in map(po_entry, blocks) if entry is not None]


def placeholders(text: str) -> list[str]:
    return sorted(re.findall(r"%\(\w+\)s|\{\w+\}", text))


TROUSSEAU = Path(django_settings.BASE_DIR) / "trousseau"
FAMILY_CATALOGUE = TROUSSEAU / "locale"
STAFF_CATALOGUES = [
    TROUSSEAU / "console" / "locale",
    TROUSSEAU / "provisioning" / "locale",
    TROUSSEAU / "directory" / "importers" / "locale",
]
SHIPPED = [(FAMILY_CATALOGUE, "en"), *((FAMILY_CATALOGUE, lang) for lang in django_settings.FAMILY_LANGUAGES)] + [
    (catalogue, "en") for catalogue in STAFF_CATALOGUES
]


def test_every_language_offered_has_its_catalogue_and_nothing_else_ships():
    offered = {code for code, _name in django_settings.LANGUAGES} - {"fr"}
    assert {lang for catalogue, lang in SHIPPED if catalogue == FAMILY_CATALOGUE} == offered
    found = {(po.parents[2], po.parents[1].name) for po in TROUSSEAU.glob("**/locale/*/LC_MESSAGES/django.po")}
    assert found == set(SHIPPED)


def nplurals(header: Entry) -> int:
    found = re.search(r"nplurals=(\d+)", header.msgstrs[0])
    assert found is not None
    return int(found.group(1))


@pytest.mark.parametrize(("catalogue", "lang"), SHIPPED, ids=[f"{c.parent.name}_{lang}" for c, lang in SHIPPED])
def test_each_shipped_catalogue_is_complete_and_compiled(catalogue: Path, lang: str):
    """No message missing, untranslated or fuzzy, placeholders kept, and django.mo compiled from it."""
    folder = catalogue / lang / "LC_MESSAGES"
    header, *messages = po_entries(folder / "django.po")
    assert header.msgid == ""
    assert "fuzzy" not in header.flags
    assert f"Language: {lang}" in header.msgstrs[0]
    assert messages
    with (folder / "django.mo").open("rb") as compiled:
        mo = gettext.GNUTranslations(compiled)
    forms = nplurals(header)
    for entry in messages:
        assert not entry.obsolete, entry.msgid
        assert "fuzzy" not in entry.flags, f"fuzzy in {lang}: {entry.msgid!r}"
        assert entry.msgstrs, entry.msgid
        assert all(entry.msgstrs), f"untranslated in {lang}: {entry.msgid!r}"
        if entry.plural is None:
            assert placeholders(entry.msgstrs[0]) == placeholders(entry.msgid), f"{lang}: {entry.msgid!r}"
            translated = mo.pgettext(entry.context, entry.msgid) if entry.context else mo.gettext(entry.msgid)
            assert translated == entry.msgstrs[0], f"django.mo is stale: {entry.msgid!r}"
        else:
            assert len(entry.msgstrs) == forms, entry.msgid
            for text in entry.msgstrs:  # a form may drop the count ("un seul essai"), never invent a name
                assert set(placeholders(text)) <= set(placeholders(entry.plural)), f"{lang}: {entry.msgid!r}"
            assert mo.ngettext(entry.msgid, entry.plural, 1) in entry.msgstrs, entry.msgid


def test_every_message_of_the_code_is_in_the_catalogues(tmp_path: Path):
    """`make messages` was run: extracting the code's messages afresh finds none the catalogues lack."""
    copy = tmp_path / "trousseau"
    shutil.copytree(TROUSSEAU, copy, ignore=shutil.ignore_patterns("*.mo", "__pycache__", "static"))
    shutil.copy(Path(django_settings.BASE_DIR) / "manage.py", tmp_path)
    for po in copy.glob("**/locale/*/LC_MESSAGES/django.po"):
        po.write_text(po.read_text(encoding="utf-8").split("\n\n", 1)[0] + "\n", encoding="utf-8")  # header only
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "en", "--no-wrap"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        env={**os.environ, "TROUSSEAU_SECRET_KEY": "catalogue-check"},
    )
    for catalogue in [FAMILY_CATALOGUE, *STAFF_CATALOGUES]:
        fresh = {
            entry.msgid for entry in po_entries(copy / catalogue.relative_to(TROUSSEAU) / "en/LC_MESSAGES/django.po")
        }
        kept = {entry.msgid for entry in po_entries(catalogue / "en" / "LC_MESSAGES" / "django.po")}
        assert fresh - kept == set(), f"run `make messages`: {sorted(fresh - kept)[:5]}"
