"""The encoding of a school file is decided for the whole file (issue #15, finding 13).

Its BOM, else its XML declaration, else UTF-8 when every line is UTF-8, else Windows-1252 when no line
is; a file whose lines disagree, or that none of these reads cleanly, is refused with the line that
breaks it, and nothing is imported.
"""

from __future__ import annotations

import codecs
import io

import pytest
from django.utils import translation

from tests.directory.helpers import PUPIL_HEADER, ine
from trousseau.accounts.models import Account
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.directory.importers import encoding
from trousseau.directory.importers.encoding import decide
from trousseau.directory.models import Pupil
from trousseau.provisioning.services import ImportFileError, import_pupils

ELOISE = f"{ine(1)};Lefèvre;Éloïse;14/03/2012;5e B;0145678B"
COEUR = f"{ine(2)};Cœur-de-Lion;Zoë;02/05/2011;4e A;0145678B"  # œ: Windows-1252 has it, Latin-1 does not
HUGO = f"{ine(3)};Martin;Hugo;02/05/2011;4e A;0145678B"


def lines(*parts: bytes) -> bytes:
    return b"\r\n".join(parts) + b"\r\n"


def utf8(text: str) -> bytes:
    return text.encode("utf-8")


def cp1252(text: str) -> bytes:
    return text.encode("cp1252")


def uncapped(_size: int) -> None:
    pass


def decided(data: bytes) -> str:
    return decide(io.BytesIO(data), uncapped).label


def refusal(data: bytes) -> ImportFileError:
    with pytest.raises(ImportFileError) as caught:
        decide(io.BytesIO(data), uncapped)
    return caught.value


def test_a_whole_utf8_file_is_utf8():
    assert decided(lines(utf8(PUPIL_HEADER), utf8(ELOISE), utf8(COEUR))) == "UTF-8"


def test_a_whole_windows_1252_file_is_windows_1252():
    assert decided(lines(cp1252(PUPIL_HEADER), cp1252(ELOISE), cp1252(COEUR))) == "Windows-1252"


def test_an_ascii_file_is_utf8():
    assert decided(lines(utf8(PUPIL_HEADER), utf8(HUGO))) == "UTF-8"


def test_one_latin1_line_in_a_utf8_file_is_refused_at_that_line():
    error = refusal(lines(utf8(PUPIL_HEADER), utf8(ELOISE), utf8(HUGO), cp1252(COEUR), utf8(ELOISE)))
    assert error.line == 4
    assert "mélange deux encodages" in error.message
    assert "ligne 2 est en UTF-8" in error.message
    assert str(error).startswith("Ligne 4 : ")


def test_one_utf8_line_in_a_windows_1252_file_is_refused_at_that_line():
    error = refusal(lines(cp1252(PUPIL_HEADER), cp1252(ELOISE), utf8(COEUR), cp1252(HUGO), cp1252(COEUR)))
    assert error.line == 3
    assert "cette ligne est en UTF-8 alors que la ligne 2 est en Latin-1" in error.message


def test_the_latin1_line_is_the_odd_one_even_when_it_comes_first():
    error = refusal(lines(utf8(PUPIL_HEADER), utf8(HUGO), cp1252(COEUR), utf8(ELOISE), utf8(COEUR)))
    assert error.line == 3
    assert "cette ligne est en Latin-1 (Windows-1252) alors que la ligne 4 est en UTF-8" in error.message
    assert refusal(lines(utf8(PUPIL_HEADER), cp1252(COEUR), utf8(ELOISE))).line == 2  # a tie: not UTF-8 is odd


def test_the_odd_line_is_found_in_any_block(monkeypatch):
    monkeypatch.setattr(encoding, "BLOCK", 64)  # many blocks, the odd line far from the first one
    rows = [utf8(PUPIL_HEADER), utf8(ELOISE)] + [utf8(HUGO)] * 500 + [cp1252(ELOISE)] + [utf8(HUGO)] * 10
    error = refusal(lines(*rows))
    assert error.line == 503
    windows = [cp1252(PUPIL_HEADER)] + [cp1252(ELOISE)] * 300 + [utf8(COEUR)] + [cp1252(HUGO)] * 10
    assert refusal(lines(*windows)).line == 302
    mostly_windows = [cp1252(PUPIL_HEADER), utf8(ELOISE)] + [cp1252(ELOISE)] * 300
    assert refusal(lines(*mostly_windows)).line == 2
    assert decided(lines(*[cp1252(ELOISE)] * 300)) == "Windows-1252"


def test_latin1_letters_that_look_like_utf8_by_pairs_are_still_windows_1252():
    # "Ã" then "©" is a valid UTF-8 pair, but the line as a whole is not UTF-8.
    assert decided(lines(cp1252(PUPIL_HEADER), cp1252("x;JOSÃ©;Léa"), cp1252(ELOISE))) == "Windows-1252"


def test_a_byte_neither_utf8_nor_windows_1252_reads_is_refused():
    error = refusal(lines(cp1252(PUPIL_HEADER), cp1252(ELOISE), b"x;Ren\x81;Zo\xe9"))
    assert error.line == 3
    assert "ni en UTF-8 ni en Latin-1" in error.message


def test_a_bom_decides_utf8_and_a_line_that_breaks_it_is_refused():
    bom = codecs.BOM_UTF8
    assert decided(bom + lines(utf8(PUPIL_HEADER), utf8(ELOISE))) == "UTF-8 (BOM)"
    error = refusal(bom + lines(utf8(PUPIL_HEADER), utf8(HUGO), cp1252(ELOISE)))
    assert error.line == 3
    assert "annonce l'encodage UTF-8" in error.message


def test_utf16_is_refused_plainly():
    error = refusal(codecs.BOM_UTF16_LE + (PUPIL_HEADER + "\r\n" + ELOISE).encode("utf-16-le"))
    assert "UTF-16" in error.message


XML_HEAD = '<?xml version="1.0" encoding="{}"?>'


def xml(declared: str, *rows: bytes) -> bytes:
    return lines(XML_HEAD.format(declared).encode(), b"<IMPORT_ELEVES>", *rows, b"</IMPORT_ELEVES>")


def test_an_xml_declaration_decides():
    assert decided(xml("ISO-8859-1", cp1252("<NOM>Cœur</NOM>"))) == "ISO-8859-1"
    assert decided(xml("windows-1252", cp1252("<NOM>Cœur</NOM>"))) == "Windows-1252"
    assert decided(xml("ISO-8859-15", "<NOM>Cœur</NOM>".encode("iso8859-15"))) == "ISO-8859-15"
    assert decided(xml("UTF-8", utf8("<NOM>Éloïse</NOM>"))) == "UTF-8"


def test_a_line_that_breaks_the_declaration_is_refused():
    error = refusal(xml("UTF-8", utf8("<NOM>Éloïse</NOM>"), cp1252("<NOM>Éloïse</NOM>")))
    assert (error.line, "annonce l'encodage UTF-8" in error.message) == (4, True)
    # Saved again in UTF-8, declaration left as it was: the names would come out as "Ã‰loÃ¯se".
    error = refusal(xml("ISO-8859-1", b"<NOM>Martin</NOM>", utf8("<NOM>Éloïse</NOM>")))
    assert error.line == 4
    assert "mais cette ligne est en UTF-8" in error.message


def test_an_unknown_declared_encoding_is_refused():
    for declared in ("EBCDIC-CP-FR", "rot13", "utf-16"):
        error = refusal(xml(declared, b"<NOM>Martin</NOM>"))
        assert (error.line, declared in error.message) == (1, True)


@pytest.mark.django_db
def test_a_mixed_file_imports_nothing_and_is_audited(college):
    data = lines(utf8(PUPIL_HEADER), utf8(ELOISE), cp1252(COEUR))
    with pytest.raises(ImportFileError) as caught:
        import_pupils(io.BytesIO(data), school=college, actor="test")
    assert caught.value.line == 3
    assert not Pupil.objects.exists()
    assert not Account.objects.exists()
    event = AuditEvent.objects.get(tag=EventTag.DIRECTORY_IMPORT_REFUSED)
    assert "Ligne 3" in event.data["error"]


@pytest.mark.django_db
def test_a_windows_1252_file_is_read_with_its_own_letters(college):
    result = import_pupils(io.BytesIO(lines(cp1252(PUPIL_HEADER), cp1252(ELOISE), cp1252(COEUR))), school=college)
    assert result.ok, result.errors
    assert result.encodings == {"eleves": "Windows-1252"}
    assert sorted(Pupil.objects.values_list("first_name", "last_name")) == [
        ("Zoë", "Cœur-de-Lion"),
        ("Éloïse", "Lefèvre"),
    ]


@pytest.mark.django_db
def test_the_size_cap_holds_during_the_survey(college, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 1024
    data = lines(utf8(PUPIL_HEADER), *[utf8(HUGO)] * 100)
    with pytest.raises(ImportFileError, match="taille maximale"):
        import_pupils(io.BytesIO(data), school=college)


def test_the_refusal_reads_in_english_too():
    with translation.override("en"):
        error = refusal(lines(utf8(PUPIL_HEADER), utf8(ELOISE), cp1252(COEUR), utf8(ELOISE)))
        said = str(error)
    assert said.startswith("Line 3"), said
    assert "The file mixes two encodings: this line is in Latin-1 (Windows-1252) while line 2 is in UTF-8." in said


@pytest.mark.django_db
@pytest.mark.parametrize(("declared", "codec"), [("ISO-8859-15", "iso8859-15"), ("windows-1252", "cp1252")])
def test_an_xml_file_is_read_in_its_declared_encoding(college, declared, codec):
    data = xml(declared, f"<ELEVE><INE>{ine(1)}</INE><NOM>Cœur</NOM><PRENOM>Éloïse</PRENOM>".encode(codec))
    data = data.replace(b"</IMPORT_ELEVES>", b"<DATE_NAISS>14/03/2012</DATE_NAISS></ELEVE></IMPORT_ELEVES>")
    result = import_pupils(io.BytesIO(data), school=college)
    assert result.ok, result.errors
    assert result.encodings == {"eleves": declared.upper() if codec != "cp1252" else "Windows-1252"}
    assert Pupil.objects.values_list("last_name", "first_name").get() == ("Cœur", "Éloïse")


class Pipe(io.RawIOBase):
    """A file that can be read once, front to back (`--pupils /dev/stdin`)."""

    def __init__(self, data: bytes) -> None:
        self.data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        chunk = self.data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


@pytest.mark.django_db
def test_a_file_that_cannot_be_read_twice_is_surveyed_from_a_copy(college):
    pipe = io.BufferedReader(Pipe(lines(utf8(PUPIL_HEADER), utf8(ELOISE))))
    assert not pipe.seekable()
    result = import_pupils(pipe, school=college)
    assert result.ok, result.errors
    assert Pupil.objects.values_list("first_name", flat=True).get() == "Éloïse"
