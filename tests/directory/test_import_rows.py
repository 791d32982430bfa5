"""Reading and row checks: encodings, CSV and XML, errors with line, column and a French reason."""

from __future__ import annotations

import io

import pytest

from tests.directory.helpers import guardians_csv, ine, pupils_csv
from trousseau.directory.models import Guardian, Pupil
from trousseau.provisioning.services import (
    ImportFileError,
    ImportProgress,
    ImportTooLarge,
    import_guardians,
    import_pupils,
    import_records,
)

pytestmark = pytest.mark.django_db

GOOD = f"{ine(1)};Lefèvre;Élodie;14/03/2012;5e B;0145678B"


def errors(result):
    return [(e.file, e.line, e.field) for e in result.errors]


@pytest.mark.parametrize(
    ("encoding", "bom", "expected"),
    [
        ("utf-8", False, "UTF-8"),
        ("utf-8", True, "UTF-8 (BOM)"),
        ("latin-1", False, "Windows-1252"),
        ("cp1252", False, "Windows-1252"),
    ],
)
def test_encodings_are_detected(college, encoding, bom, expected):
    result = import_pupils(pupils_csv([GOOD], encoding=encoding, bom=bom), school=college)
    assert result.ok, result.errors
    assert result.encodings == {"eleves": expected}
    pupil = Pupil.objects.get()
    assert (pupil.last_name, pupil.first_name) == ("Lefèvre", "Élodie")


def test_latin1_after_ascii_lines_is_still_read(college):
    rows = [f"{ine(n)};Martin;Hugo;02/05/2011;4e A;0145678B" for n in range(2, 50)] + [GOOD]
    result = import_pupils(pupils_csv(rows, encoding="latin-1"), school=college)
    assert result.ok
    assert result.encodings["eleves"] == "Windows-1252"
    assert Pupil.objects.filter(first_name="Élodie").exists()


def test_row_errors_name_line_column_and_reason(college):
    rows = [
        GOOD,
        f"{ine(2)};Martin;Hugo;31/02/2011;4e A;0145678B",  # line 3: no 31 February
        "12345;Roux;Zoé;02/05/2011;4e A;0145678B",  # line 4: INE
        f"{ine(1)};Roux;Zoé;02/05/2011;4e A;0145678B",  # line 5: same INE as line 2
        f"{ine(5)};;Zoé;02/05/2011;4e A;0145678B",  # line 6: no name
        f"{ine(6)};Roux;Zoé;02/05/2011;4e A;9999999Z",  # line 7: another school
    ]
    result = import_pupils(pupils_csv(rows), school=college)
    assert errors(result) == [
        ("eleves", 3, "DATE_NAISS"),
        ("eleves", 4, "INE"),
        ("eleves", 5, "INE"),
        ("eleves", 6, "NOM"),
        ("eleves", 7, "UAI"),
    ]
    assert "JJ/MM/AAAA" in result.errors[0].reason
    assert "déjà ligne 2" in result.errors[2].reason
    assert not result.applied
    assert not Pupil.objects.exists()  # a file with an error changes nothing


def test_unknown_school_on_the_command_line_path(college):
    result = import_records(pupils=pupils_csv([GOOD, f"{ine(2)};Roux;Zoé;02/05/2011;4e A;0149999Z"]))
    assert errors(result) == [("eleves", 3, "UAI")]
    assert "Établissement inconnu" in result.errors[0].reason


def test_guardian_rows_are_checked(college):
    import_pupils(pupils_csv([GOOD]), school=college)
    rows = [
        f"R1;Lefèvre;Sophie;06 12 34 56 78;sophie@example.org;{ine(1)};1",
        f"R2;Lefèvre;Paul;06 12;;{ine(1)};1",  # line 3: phone
        f"R3;Lefèvre;Anne;;pas-un-mail;{ine(1)};1",  # line 4: email
        f"R4;Roux;Karim;;;{ine(9)};1",  # line 5: pupil not in this school
        f"R5;Roux;Karim;;;{ine(1)};peut-être",  # line 6: legal flag
        f"R1;Lefèvre;Sophie;06 12 34 56 78;sophie@example.org;{ine(1)};1",  # line 7: same link twice
        f"R1;Lefèvre;Sophie;06 99 99 99 99;sophie@example.org;{ine(1)};1",  # line 8: same ID, other data
    ]
    result = import_guardians(guardians_csv(rows), school=college)
    assert errors(result) == [
        ("responsables", 3, "TEL_PORTABLE"),
        ("responsables", 4, "COURRIEL"),
        ("responsables", 5, "INE_ELEVE"),
        ("responsables", 6, "RESP_LEGAL"),
        ("responsables", 7, "INE_ELEVE"),
        ("responsables", 8, "ID_RESPONSABLE"),
    ]
    assert result.errors[0].reason == "Ce numéro de téléphone n'est pas valide."
    assert not Guardian.objects.exists()


def test_homonyms_without_id_must_be_told_apart(college):
    import_pupils(pupils_csv([GOOD, f"{ine(2)};Martin;Hugo;02/05/2011;4e A;0145678B"]), school=college)
    file = io.BytesIO(
        "NOM;PRENOM;TEL_PORTABLE;INE_ELEVE\n"
        f"Martin;Karim;0612345678;{ine(1)}\n"
        f"Martin;Karim;0612345678;{ine(2)}\n"
        f"Martin;Karim;0698765432;{ine(2)}\n".encode()
    )
    result = import_guardians(file, school=college)
    assert errors(result) == [("responsables", 4, "TEL_PORTABLE")]
    assert "ID_RESPONSABLE" in result.errors[0].reason


def test_header_aliases_comma_and_quotes(college):
    file = io.BytesIO(
        b"Numero INE,Nom de famille,Prenom 1,Date de naissance,Division\n"
        + f'{ine(1)},"Da Silva, épouse Roux",Inès,2012-03-14,"5e B"\n'.encode()
    )
    result = import_pupils(file, school=college)
    assert result.ok, result.errors
    assert Pupil.objects.get().last_name == "Da Silva, épouse Roux"


def test_missing_column_and_broken_quote_refuse_the_file(college):
    with pytest.raises(ImportFileError, match="DATE_NAISS"):
        import_pupils(io.BytesIO(b"INE;NOM;PRENOM\n"), school=college)
    broken = pupils_csv(
        [GOOD, f'{ine(2)};"Martin;Hugo;02/05/2011;4e A;0145678B'] + [GOOD.replace(ine(1), ine(3))] * 2000
    )
    with pytest.raises(ImportFileError) as caught:
        import_pupils(broken, school=college)
    assert caught.value.line == 3
    assert not Pupil.objects.exists()


def test_a_header_with_a_stray_carriage_return_is_refused_plainly(college):
    """Found by the fuzzer: the csv module raised its own error on the header line."""
    with pytest.raises(ImportFileError, match="en-tête") as caught:
        import_pupils(io.BytesIO(b"INE;NOM\rPRENOM\x00;DATE_NAISS\n"), school=college)
    assert caught.value.line == 1


def test_size_cap(college, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 1024
    big = pupils_csv([GOOD.replace(ine(1), ine(n)) for n in range(1, 100)])
    with pytest.raises(ImportTooLarge, match="taille maximale"):
        import_pupils(big, school=college)
    big.seek(0)
    big.size = len(big.getvalue())  # type: ignore[attr-defined]  # what an uploaded file says before it is read
    with pytest.raises(ImportTooLarge):
        import_pupils(big, school=college)
    assert not Pupil.objects.exists()


XML = """<?xml version="1.0" encoding="ISO-8859-1"?>
<IMPORT_ELEVES>
  <ELEVE>
    <INE>{ine1}</INE><NOM>Lefèvre</NOM><PRENOM>Élodie</PRENOM>
    <DATE_NAISS>14/03/2012</DATE_NAISS><CLASSE>5e B</CLASSE>
  </ELEVE>
  <ELEVE>
    <INE>{ine2}</INE><NOM>Martin</NOM><PRENOM>Hugo</PRENOM>
    <DATE_NAISS>2011-13-01</DATE_NAISS>
  </ELEVE>
</IMPORT_ELEVES>
"""


def test_xml_variant_in_latin1_with_line_numbers(college):
    data = XML.format(ine1=ine(1), ine2=ine(2)).encode("latin-1")
    result = import_pupils(io.BytesIO(data), school=college, dry_run=True)
    assert errors(result) == [("eleves", 7, "DATE_NAISS")]
    fixed = data.replace(b"2011-13-01", b"2011-12-01")
    result = import_pupils(io.BytesIO(fixed), school=college)
    assert result.ok
    assert Pupil.objects.get(ine=ine(1)).first_name == "Élodie"


def test_broken_xml_and_entities_are_refused(college):
    with pytest.raises(ImportFileError) as caught:
        import_pupils(io.BytesIO(b"<IMPORT_ELEVES>\n<ELEVE><INE>x</ELEVE>"), school=college)
    assert caught.value.line == 2
    bomb = b'<!DOCTYPE a [<!ENTITY x "y">]><IMPORT_ELEVES><ELEVE><INE>&x;</INE></ELEVE></IMPORT_ELEVES>'
    with pytest.raises(ImportFileError, match="entités"):
        import_pupils(io.BytesIO(bomb), school=college)


def test_progress_is_reported_while_reading_an_upload(college):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from trousseau.directory.importers.report import PROGRESS_EVERY

    rows = [GOOD.replace(ine(1), ine(n)) for n in range(1, 2 * PROGRESS_EVERY + 1)]
    upload = SimpleUploadedFile("eleves.csv", pupils_csv(rows).getvalue(), content_type="text/csv")
    seen: list[ImportProgress] = []
    result = import_pupils(upload, school=college, dry_run=True, progress=seen.append)
    assert result.pupils.created == 2 * PROGRESS_EVERY
    assert [p.phase for p in seen] == ["eleves", "eleves", "eleves", "ecriture", "termine"]
    assert [p.rows for p in seen[:3]] == [0, PROGRESS_EVERY, 2 * PROGRESS_EVERY]
    assert seen[1].bytes_total == upload.size
    fraction = seen[1].fraction
    assert fraction is not None
    assert 0 < fraction < 1
    assert not Pupil.objects.exists()


def test_a_refused_pupil_is_named_and_its_guardians_add_no_unknown_pupil_error(college, bulk_copy):
    """Both engines: the pupil's own error names them; the links to them are left out without another error."""
    pupils = pupils_csv([f"{ine(1)};Tanguy;Éloïse;30/02/2014;6e A;0145678B", GOOD.replace(ine(1), ine(2))])
    guardians = guardians_csv([f"R1;Tanguy;Anne;06 12 34 56 78;;{ine(1)};1", f"R2;Roux;Paul;;;{ine(9)};1"])
    result = import_records(pupils=pupils, guardians=guardians, bulk_copy=bulk_copy)
    assert [(e.file, e.line, e.field, e.who) for e in result.errors] == [
        ("eleves", 2, "DATE_NAISS", "Éloïse TANGUY"),
        ("responsables", 3, "INE_ELEVE", "Paul ROUX"),
    ]
    assert not Pupil.objects.exists()
