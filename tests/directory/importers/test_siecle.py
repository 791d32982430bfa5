"""SIECLE's XML exports read as they come: pupils with their class and departure, guardians and their links."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest

from trousseau.demo.samples.exports import LEFT_ON
from trousseau.directory.importers.report import ImportFileError, RowError
from trousseau.directory.importers.siecle import SiecleGuardian, SiecleGuardians, SiecleLink, SieclePupils

TODAY = date(2026, 1, 5)


def member(path) -> io.BytesIO:
    with zipfile.ZipFile(path) as archive:
        return io.BytesIO(archive.read(archive.namelist()[0]))


def pupils_xml(eleves: str, structures: str = "", *, uaj: str = "0145678B", encoding: str = "ISO-8859-15") -> bytes:
    text = (
        f'<?xml version="1.0" encoding="{encoding}"?>\n<BEE_ELEVES VERSION="3.1">\n<PARAMETRES><UAJ>{uaj}</UAJ>'
        f"<ANNEE_SCOLAIRE>2025</ANNEE_SCOLAIRE></PARAMETRES>\n<DONNEES>\n<ELEVES>\n{eleves}</ELEVES>\n"
        f"<STRUCTURES>\n{structures}</STRUCTURES>\n</DONNEES>\n</BEE_ELEVES>\n"
    )
    return text.encode("iso-8859-15" if encoding == "ISO-8859-15" else encoding)


def eleve(
    eleve_id: str, ine: str = "123456789AB", nom: str = "LEFÈVRE", prenom: str = "Éloïse", extra: str = ""
) -> str:
    return (
        f'<ELEVE ELEVE_ID="{eleve_id}"><ID_NATIONAL>{ine}</ID_NATIONAL><NOM_DE_FAMILLE>{nom}</NOM_DE_FAMILLE>'
        f"<PRENOM>{prenom}</PRENOM><DATE_NAISS>14/03/2012</DATE_NAISS>{extra}</ELEVE>\n"
    )


def structure(eleve_id: str, *pairs: tuple[str, str]) -> str:
    inner = "".join(
        f"<STRUCTURE><CODE_STRUCTURE>{c}</CODE_STRUCTURE><TYPE_STRUCTURE>{t}</TYPE_STRUCTURE></STRUCTURE>"
        for c, t in pairs
    )
    return f'<STRUCTURES_ELEVE ELEVE_ID="{eleve_id}">{inner}</STRUCTURES_ELEVE>\n'


class TestSamplePupils:
    def test_reads_every_pupil_with_school_year_and_encoding(self, samples):
        for uaj, (pupils_zip, _) in samples.colleges.items():
            read = SieclePupils(member(pupils_zip), expected_uaj=uaj, today=TODAY)
            rows = list(read)
            assert (read.uaj, read.year, read.encoding) == (uaj, "2025", "ISO-8859-15")
            assert len(rows) == read.count == samples.counts[uaj]
            assert len({r.source_id for r in rows}) == len(rows)
            assert all(r.uaj == uaj for r in rows)

    def test_accents_of_iso_8859_15_and_classes_of_type_d(self, samples):
        rows = list(SieclePupils(member(samples.colleges["0145678B"][0]), today=TODAY))
        siblings = {r.first_name: r for r in rows if r.birth_name == "CŒURDEVEY"}
        assert set(siblings) == {"Maëlle", "Noël"}
        assert (siblings["Maëlle"].class_name, siblings["Noël"].class_name) == ("5A", "3B")
        assert all(r.class_name != "LATIN5" for r in rows)  # a group (type G) is not the class

    def test_a_pupil_who_left_is_marked_and_has_no_class(self, samples):
        rows = list(SieclePupils(member(samples.colleges["0145678B"][0]), today=TODAY))
        gone = [r for r in rows if r.left]
        assert [(r.first_name, r.birth_name) for r in gone] == [("Timothée", "PÉRIER")]
        assert gone[0].left_on == date(2025, 10, 15) == date(*reversed([int(x) for x in LEFT_ON.split("/")]))
        assert gone[0].class_name == ""  # SIECLE files them under "Inactifs", which is no class

    def test_a_departure_in_the_future_is_not_yet_a_departure(self, samples):
        rows = list(SieclePupils(member(samples.colleges["0145678B"][0]), today=date(2025, 10, 1)))
        assert not any(r.left for r in rows)
        assert [r.left_on for r in rows if r.left_on] == [date(2025, 10, 15)]

    def test_usage_name_wins_birth_name_is_kept(self, samples):
        rows = list(SieclePupils(member(samples.colleges["0145678B"][0]), today=TODAY))
        used = next(r for r in rows if r.birth_name == "DA SILVA")
        assert used.last_name == "DA SILVA-ROUSSEL"


class TestSampleGuardians:
    def test_people_and_links(self, samples):
        read = SiecleGuardians(member(samples.colleges["0145678B"][1]), expected_uaj="0145678B")
        rows = list(read)
        people = [r for r in rows if isinstance(r, SiecleGuardian)]
        links = [r for r in rows if isinstance(r, SiecleLink)]
        assert (len(people), len(links)) == (read.people_count, read.link_count)
        assert people == list(read.guardians())
        assert links == list(read.links())
        by_id = {p.source_id: p for p in people}
        pupils = {p.source_id: p for p in SieclePupils(member(samples.colleges["0145678B"][0]), today=TODAY)}
        assert all(link.pupil_source_id in pupils and link.guardian_source_id in by_id for link in links)
        # The Cœurdevey siblings: two legal representatives (1 and 2), their grandmother a contact (0).
        coeur = [link for link in links if pupils[link.pupil_source_id].birth_name == "CŒURDEVEY"]
        legal = sorted((by_id[link.guardian_source_id].first_name, link.legal) for link in coeur)
        assert legal == [
            ("Agnès", "0"),
            ("Agnès", "0"),
            ("Bérénice", "1"),
            ("Bérénice", "1"),
            ("Grégoire", "2"),
            ("Grégoire", "2"),
        ]
        father = next(p for p in people if p.first_name == "Grégoire")
        assert (father.mobile, father.email) == ("", "gregoire.coeurdevey@exemple.fr")  # the guardian with no mobile

    def test_a_guardian_of_pupils_in_two_colleges_is_one_record_per_school(self, samples):
        sophies = []
        for uaj, (_, guardians_zip) in samples.colleges.items():
            people = list(SiecleGuardians(member(guardians_zip), expected_uaj=uaj).guardians())
            sophies += [p for p in people if (p.first_name, p.birth_name) == ("Sophie", "LEFÈVRE")]
        assert len(sophies) == 2
        assert sophies[0].source_id != sophies[1].source_id
        assert sophies[0].mobile == sophies[1].mobile == "06 12 34 56 78"


class TestRefusals:
    def test_another_school(self, samples):
        with pytest.raises(ImportFileError, match=r"0145678B.*0147890D"):
            SieclePupils(member(samples.colleges["0145678B"][0]), expected_uaj="0147890D")
        with pytest.raises(ImportFileError, match=r"0147890D.*0145678B"):
            SiecleGuardians(member(samples.colleges["0147890D"][1]), expected_uaj="0145678B")

    def test_the_guardians_file_given_as_pupils_and_back(self, samples):
        with pytest.raises(ImportFileError, match=r"ResponsablesAvecAdresses\.xml, et non ElevesSansAdresses"):
            SieclePupils(member(samples.colleges["0145678B"][1]))
        with pytest.raises(ImportFileError, match=r"ElevesSansAdresses\.xml, et non ResponsablesAvecAdresses"):
            SiecleGuardians(member(samples.colleges["0145678B"][0]))

    def test_duplicated_eleve_id_refuses_the_whole_file(self):
        data = pupils_xml(eleve("7") + eleve("8", "123456789AC") + eleve("7", "123456789AD"))
        with pytest.raises(ImportFileError, match="ELEVE_ID 7 en double") as refused:
            SieclePupils(io.BytesIO(data))
        assert refused.value.line == 8

    def test_duplicated_personne_id(self, samples):
        data = member(samples.colleges["0145678B"][1]).getvalue()
        first = data.index(b"<PERSONNE ")
        end = data.index(b"</PERSONNE>", first) + len(b"</PERSONNE>\n")
        doubled = data[:end] + data[first:end] + data[end:]
        with pytest.raises(ImportFileError, match=r"PERSONNE_ID .* en double"):
            SiecleGuardians(io.BytesIO(doubled))

    def test_a_link_to_nobody(self, samples):
        data = member(samples.colleges["0145678B"][1]).getvalue()
        broken = data.replace(b"<PERSONNE_ID>3400005</PERSONNE_ID>", b"<PERSONNE_ID>999</PERSONNE_ID>", 1)
        with pytest.raises(ImportFileError, match="personne 999, absente"):
            SiecleGuardians(io.BytesIO(broken))

    def test_broken_xml_says_where_and_yields_no_row(self, samples):
        data = member(samples.colleges["0145678B"][0]).getvalue()
        cut = data[: len(data) * 2 // 3]  # a download cut short
        with pytest.raises(ImportFileError, match="XML mal formé") as refused:
            SieclePupils(io.BytesIO(cut))
        assert refused.value.line is not None

    def test_entities_and_dtd_are_refused(self):
        bomb = (
            b'<?xml version="1.0"?>\n<!DOCTYPE BEE_ELEVES [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>\n'
            b"<BEE_ELEVES><PARAMETRES><UAJ>0145678B</UAJ></PARAMETRES><DONNEES><ELEVES>"
            b'<ELEVE ELEVE_ID="1"><NOM_DE_FAMILLE>&b;</NOM_DE_FAMILLE></ELEVE></ELEVES></DONNEES></BEE_ELEVES>\n'
        )
        with pytest.raises(ImportFileError, match="entités et DTD"):
            SieclePupils(io.BytesIO(bomb))

    def test_no_school_no_pupil(self):
        with pytest.raises(ImportFileError, match="UAJ absent"):
            SieclePupils(io.BytesIO(pupils_xml(eleve("1"), uaj="")))
        with pytest.raises(ImportFileError, match="aucun élève"):
            SieclePupils(io.BytesIO(pupils_xml("")))

    def test_whole_file_encoding_rule_applies(self):
        # Declared ISO-8859-15 but one line saved again in UTF-8: refused with that line, as for every import.
        data = pupils_xml(eleve("1") + eleve("2", "123456789AC", nom="MARTIN", prenom="Zoé"))
        data = data.replace("Zoé".encode("iso-8859-15"), "Zoé".encode())
        with pytest.raises(ImportFileError, match="UTF-8") as refused:
            SieclePupils(io.BytesIO(data))
        assert refused.value.line == 7


class TestShapes:
    def test_structures_before_pupils_and_a_group_alone(self):
        text = pupils_xml(
            eleve("1") + eleve("2", "123456789AC", prenom="Zoé", extra="<NOM_USAGE>MARTIN</NOM_USAGE>"),
            structure("1", ("LATIN", "G"), ("5B", "D")) + structure("2", ("LATIN", "G")),
        )
        rows = list(SieclePupils(io.BytesIO(text), today=TODAY))
        assert [(r.source_id, r.class_name, r.last_name, r.birth_name) for r in rows] == [
            ("1", "5B", "LEFÈVRE", "LEFÈVRE"),
            ("2", "", "MARTIN", "LEFÈVRE"),
        ]

    def test_utf8_and_one_long_line(self):
        text = pupils_xml(eleve("1") * 1 + eleve("2", "123456789AC"), structure("2", ("3A", "D")), encoding="UTF-8")
        one_line = text.replace(b"\n", b" ")
        rows = list(SieclePupils(io.BytesIO(one_line), today=TODAY))
        assert [(r.first_name, r.class_name) for r in rows] == [("Éloïse", ""), ("Éloïse", "3A")]

    def test_a_bad_date_is_kept_as_text_for_the_row_checks(self):
        text = pupils_xml(eleve("1").replace("14/03/2012", "31/02/2012"))
        (row,) = SieclePupils(io.BytesIO(text), today=TODAY)
        assert (row.birth_date, row.birth_date_text) == (None, "31/02/2012")


def test_memory_of_the_rows_pass_does_not_grow_with_the_file():
    """The rows are handed out and dropped: reading 1 500 more pupils (a row kept is about 1 KB) takes no more memory (tracemalloc)."""
    import tracemalloc

    from trousseau.demo.samples.exports import write_siecle_pupils

    peaks = []
    for count in (500, 2000):
        out = io.BytesIO()
        write_siecle_pupils(out, uaj="0145678B", count=count)
        out.seek(0)
        read = SieclePupils(out, today=TODAY)
        tracemalloc.start()
        assert sum(1 for _ in read) == count
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[1] < peaks[0] + 256 * 1024


def test_the_samples_pass_the_row_checks_of_every_import(samples):
    """Through the adapters, SIECLE rows meet rows.py's checks (INE, names, dates, mobiles, emails, keys)."""
    from trousseau.directory.importers.records import guardian_records, pupil_record
    from trousseau.directory.importers.rows import GuardianChecker, PupilChecker, SchoolRef

    for number, (uaj, (pupils_zip, guardians_zip)) in enumerate(samples.colleges.items(), start=1):
        errors: list[RowError] = []
        school = SchoolRef(number, uaj, primary=False)
        pupils = list(SieclePupils(member(pupils_zip), expected_uaj=uaj, today=TODAY))
        checker = PupilChecker(errors.append, {uaj: school}, school=school)
        checked = [checker(pupil_record(p)) for p in pupils if not p.left]
        assert errors == []
        assert all(checked)
        ine_of = {p.source_id: ("" if p.left else p.ine) for p in pupils}
        records = list(guardian_records(SiecleGuardians(member(guardians_zip)), ine_of, errors.append))
        guardian_checker = GuardianChecker(errors.append, checker.ine_school)
        rows = [guardian_checker(r) for r in records]
        assert errors == []
        assert all(rows)
        if uaj == "0145678B":  # the Cœurdevey family's school
            assert {r.legal for r in rows if r is not None} == {True, False}  # RESP_LEGAL 0: a contact
            assert any(r.mobile == "" for r in rows if r is not None)  # the guardian with no mobile


def test_a_link_to_a_pupil_absent_from_the_pupils_file_is_a_row_error(samples):
    from trousseau.directory.importers.records import guardian_records

    errors: list[RowError] = []
    records = list(guardian_records(SiecleGuardians(member(samples.colleges["0145678B"][1])), {}, errors.append))
    assert records == []
    assert errors
    assert errors[0].field == "ELEVE_ID"
