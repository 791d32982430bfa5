"""Which export a file is: SIECLE (zip or xml), ONDE, or Trousseau's own CSV; wrong or mixed-up files refused."""

from __future__ import annotations

import io
import zipfile

import pytest

from trousseau.directory.importers import exports
from trousseau.directory.importers.exports import Kind, check_pair, recognise
from trousseau.directory.importers.report import ImportFileError
from trousseau.directory.importers.siecle import SieclePupils


def opened(path):
    return io.BytesIO(path.read_bytes())


def zipped(*members: tuple[str, bytes]) -> io.BytesIO:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
    out.seek(0)
    return out


def xml_of(path) -> bytes:
    with zipfile.ZipFile(path) as archive:
        return archive.read(archive.namelist()[0])


class TestRecognised:
    def test_siecle_zips_and_bare_xml(self, samples):
        pupils_zip, guardians_zip = samples.colleges["0145678B"]
        found = recognise("ElevesSansAdresses.zip", opened(pupils_zip), slot="eleves", expected_uaj="0145678B")
        assert (found.kind, found.member, found.uaj, found.name) == (
            Kind.SIECLE_PUPILS,
            "ElevesSansAdresses.xml",
            "0145678B",
            "ElevesSansAdresses.xml",
        )
        handle = opened(guardians_zip)
        found = recognise("export.zip", handle, slot="responsables")
        assert found.kind == Kind.SIECLE_GUARDIANS
        assert found.open(handle).read(5) == b"<?xml"
        bare = io.BytesIO(xml_of(pupils_zip))
        assert recognise("ElevesAvecAdresses.xml", bare).kind == Kind.SIECLE_PUPILS

    def test_the_member_opened_is_read_by_the_siecle_reader(self, samples):
        handle = opened(samples.colleges["0147890D"][0])
        found = recognise("ElevesSansAdresses.zip", handle, slot="eleves")
        assert SieclePupils(found.open(handle), expected_uaj=found.uaj).count == samples.counts["0147890D"]

    def test_onde(self, samples):
        assert recognise("CSVExtraction.csv", opened(samples.ecole[0]), slot="eleves").kind == Kind.ONDE_PUPILS
        found = recognise("CSVExtraction.csv", opened(samples.ecole[1]), slot="responsables")
        assert found.kind == Kind.ONDE_GUARDIANS

    def test_trousseaus_own_csv_and_xml(self):
        pupils = io.BytesIO(b"INE;NOM;PRENOM;DATE_NAISS;CLASSE;UAI\r\n123456789AB;A;B;01/01/2012;5B;0145678B\r\n")
        guardians = io.BytesIO("ID_RESPONSABLE;NOM;PRÉNOM;TEL_PORTABLE;INE_ELEVE\r\n".encode())
        assert recognise("eleves.csv", pupils, slot="eleves").kind == Kind.OWN_PUPILS
        assert recognise("responsables.csv", guardians, slot="responsables").kind == Kind.OWN_GUARDIANS
        xml = io.BytesIO(b'<?xml version="1.0"?>\n<IMPORT_ELEVES>\n  <ELEVE><INE>1</INE></ELEVE></IMPORT_ELEVES>')
        assert recognise("eleves.xml", xml).kind == Kind.OWN_PUPILS

    def test_a_zip_with_both_files_and_mac_litter(self, samples):
        pupils_zip, guardians_zip = samples.colleges["0145678B"]
        both = zipped(
            ("__MACOSX/._ElevesSansAdresses.xml", b"\x00\x05"),
            ("Exports/ElevesSansAdresses.xml", xml_of(pupils_zip)),
            ("Exports/ResponsablesAvecAdresses.xml", xml_of(guardians_zip)),
            ("Exports/LISEZMOI.pdf", b"%PDF-1.4"),
        )
        assert recognise("exports.zip", both, slot="responsables").member == "Exports/ResponsablesAvecAdresses.xml"
        assert recognise("exports.zip", both, slot="eleves").member == "Exports/ElevesSansAdresses.xml"


class TestRefused:
    def test_wrong_slot_names_the_file_and_the_slot(self, samples):
        pupils_zip, guardians_zip = samples.colleges["0145678B"]
        with pytest.raises(ImportFileError) as refused:
            recognise("ResponsablesAvecAdresses.zip", opened(guardians_zip), slot="eleves")
        assert str(refused.value) == "Ce fichier est ResponsablesAvecAdresses.xml : déposez-le dans « Responsables »."
        with pytest.raises(ImportFileError, match=r"ElevesSansAdresses\.xml : déposez-le dans « Élèves »"):
            recognise("x.zip", opened(pupils_zip), slot="responsables")
        with pytest.raises(
            ImportFileError, match="l'extraction ONDE des responsables : déposez-le dans « Responsables »"
        ):
            recognise("CSVExtraction.csv", opened(samples.ecole[1]), slot="eleves")

    def test_another_school(self, samples):
        with pytest.raises(ImportFileError, match=r"établissement 0147890D, et non du vôtre .0145678B."):
            recognise("ElevesSansAdresses.zip", opened(samples.colleges["0147890D"][0]), expected_uaj="0145678B")

    def test_truncated_zip(self, samples):
        data = samples.colleges["0145678B"][0].read_bytes()
        with pytest.raises(ImportFileError, match="incomplète ou abîmée"):
            recognise("ElevesSansAdresses.zip", io.BytesIO(data[: len(data) // 2]))

    def test_corrupted_member(self, samples):
        data = bytearray(samples.colleges["0145678B"][0].read_bytes())
        data[200] ^= 0xFF  # inside the compressed member: zlib or the CRC check fails

        def recognise_and_open(handle):
            return recognise("ElevesSansAdresses.zip", handle).open(handle)

        with pytest.raises(ImportFileError, match="incomplète ou abîmée"):  # the head, or the whole member
            recognise_and_open(io.BytesIO(bytes(data)))

    @pytest.mark.parametrize("name", ["eleves.xlsx", "eleves.ods"])
    def test_spreadsheets(self, name):
        book = zipped(("[Content_Types].xml", b"<Types/>"), ("xl/workbook.xml", b"<workbook/>"))
        with pytest.raises(ImportFileError, match=r"enregistrez-le au format CSV .séparateur point-virgule."):
            recognise(name, book)
        with pytest.raises(ImportFileError, match="enregistrez-le au format CSV"):
            recognise("book.zip", zipped(("mimetype", b"application/vnd.oasis.opendocument.spreadsheet")))

    def test_old_excel(self):
        with pytest.raises(ImportFileError, match="enregistrez-le au format CSV"):
            recognise("eleves.xls", io.BytesIO(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600))

    def test_another_siecle_export_and_unknown_files(self):
        nomenclature = io.BytesIO(b'<?xml version="1.0" encoding="ISO-8859-15"?>\n<BEE_NOMENCLATURES VERSION="1">')
        with pytest.raises(ImportFileError, match="autre export de SIECLE"):
            recognise("Nomenclature.xml", nomenclature)
        with pytest.raises(ImportFileError, match="Fichier non reconnu"):
            recognise("notes.csv", io.BytesIO(b"Matiere;Note\r\nMaths;12\r\n"))
        with pytest.raises(ImportFileError, match="aucun export"):
            recognise("photos.zip", zipped(("photo.jpg", b"\xff\xd8\xff")))

    def test_a_zip_bomb_is_refused(self):
        bomb = zipped(("ElevesSansAdresses.xml", b"<BEE_ELEVES>" + b" " * 50_000_000))
        with pytest.raises(ImportFileError, match="anormalement compressé"):
            recognise("ElevesSansAdresses.zip", bomb)


class TestPairs:
    def test_mixed_up_sources_and_schools(self, samples):
        siecle_a = recognise("a.zip", opened(samples.colleges["0145678B"][0]), slot="eleves")
        siecle_b = recognise("b.zip", opened(samples.colleges["0147890D"][1]), slot="responsables")
        onde = recognise("c.csv", opened(samples.ecole[1]), slot="responsables")
        with pytest.raises(ImportFileError, match="deux établissements différents"):
            check_pair(siecle_a, siecle_b)
        with pytest.raises(ImportFileError, match="pas du même logiciel"):
            check_pair(siecle_a, onde)
        same = recognise("d.zip", opened(samples.colleges["0145678B"][1]), slot="responsables")
        check_pair(siecle_a, same)
        check_pair(siecle_a, None)


class TestMemberInflatedOnce:
    """A school's zip member is inflated once into memory (CRC checked), a larger one streamed as before."""

    def test_a_members_bytes_are_read_once_and_let_go_once_read(self, samples):
        path = samples.colleges["0145678B"][0]
        handle = opened(path)
        body = recognise("ElevesSansAdresses.zip", handle).open(handle)
        assert isinstance(body, exports.Inflated)
        assert body.getvalue() == xml_of(path)
        SieclePupils(body)
        assert body.closed  # its rows are spooled: an académie's 2000 members do not stay in memory

    def test_other_formats_members_are_streamed(self):
        text = "INE;NOM;PRENOM;DATE_NAISS;CLASSE;UAI\r\n123456789AB;Martin;Hugo;02/05/2011;4e A;0145678B\r\n"
        handle = zipped(("eleves.csv", text.encode()))
        body = recognise("eleves.zip", handle, slot="eleves").open(handle)
        assert not isinstance(body, exports.Inflated)  # kept by its reader until the import ends
        assert body.read() == text.encode()

    @pytest.mark.parametrize("inflated_max", [exports.INFLATED_MAX, 0])
    def test_a_member_damaged_after_its_head_is_refused_either_way(self, inflated_max, monkeypatch):
        monkeypatch.setattr(exports, "INFLATED_MAX", inflated_max)
        rows = "".join(f'<ELEVE ELEVE_ID="{n}"><ID_NATIONAL>{n:09d}AB</ID_NATIONAL></ELEVE>\n' for n in range(20000))
        xml = f'<?xml version="1.0" encoding="UTF-8"?>\n<BEE_ELEVES><PARAMETRES><UAJ>0145678B</UAJ></PARAMETRES>{rows}'
        data = bytearray(zipped(("ElevesSansAdresses.xml", xml.encode())).getvalue())
        end = data.rindex(b"PK\x01\x02")  # the central directory: the member's deflated bytes end before it
        data[end - 40] ^= 0xFF
        handle = io.BytesIO(bytes(data))
        found = recognise("ElevesSansAdresses.zip", handle)  # the head inflates cleanly
        with pytest.raises(ImportFileError, match="incomplète ou abîmée"):
            found.open(handle)
