"""ONDE's CSV extractions read as they come: pupils with their class, guardians with their children."""

from __future__ import annotations

import io

import pytest

from trousseau.directory.importers.onde import OndeMatcher, read_onde_guardians, read_onde_pupils
from trousseau.directory.importers.reading import Source
from trousseau.directory.importers.report import ImportFileError, RowError


def source(path_or_bytes) -> Source:
    data = path_or_bytes if isinstance(path_or_bytes, bytes) else path_or_bytes.read_bytes()
    return Source(io.BytesIO(data))


@pytest.fixture
def pupils(samples):
    return list(read_onde_pupils(source(samples.ecole[0])))


@pytest.fixture
def guardians(samples):
    return list(read_onde_guardians(source(samples.ecole[1])))


def test_pupils_with_ine_class_label_and_ondes_class_id(samples, pupils):
    assert len(pupils) == samples.counts[samples.ecole_uai]
    jules = next(p for p in pupils if p.first_name == "Jules")
    assert (jules.last_name, jules.ine, jules.class_name, jules.class_id, jules.level) == (
        "LEFÈVRE",
        jules.ine,
        "CE2 - Mme Ndiaye",
        "104213",
        "CE2",
    )
    assert jules.birth_date is not None
    assert any(p.class_name == "CM1-CM2 - Mme Lœwy" for p in pupils)  # œ: Windows-1252 has it


def test_the_file_is_windows_1252(samples):
    read = source(samples.ecole[0])
    list(read_onde_pupils(read))
    assert read.encoding == "Windows-1252"


def test_guardians_with_their_children_every_child_found(pupils, guardians):
    sophie = next(g for g in guardians if (g.first_name, g.last_name) == ("Sophie", "LEFÈVRE"))
    assert (sophie.mobile, sophie.email) == ("06 12 34 56 78", "sophie.lefevre@exemple.fr")
    assert [(c.first_name, c.class_name) for c in sophie.children] == [("Jules", "CE2 - Mme Ndiaye")]
    errors: list[RowError] = []
    matcher = OndeMatcher(pupils)
    links = [link for g in guardians for link in matcher.links(g, errors)]
    assert errors == []
    assert {link.ine for link in links} == {p.ine for p in pupils}  # every pupil has a guardian
    assert sum(len(g.children) for g in guardians) == len(links)
    assert any(len(g.children) == 2 for g in guardians)  # siblings


def test_numbered_children_columns_and_a_footer_line():
    # Another ONDE version numbers the children's columns ("Nom de famille élève 1"…); a closing line is skipped.
    text = (
        "Civilité Responsable;Nom responsable;Prénom responsable;Courriel;Téléphone portable;"
        "Nom de famille élève 1;Prénom élève 1;Nom de famille élève 2;Prénom élève 2\r\n"
        "MME;NGUYEN;Hélène;;06 11 22 33 44;NGUYEN;Zoé;NGUYEN;Anaël\r\n"
        "M.;NGUYEN;Rémi;;;NGUYEN;Zoé;;\r\n"
        ";;;;;;;;\r\n"
    ).encode("cp1252")
    rows = list(read_onde_guardians(source(text)))
    assert [(g.first_name, [c.first_name for c in g.children]) for g in rows] == [
        ("Hélène", ["Zoé", "Anaël"]),
        ("Rémi", ["Zoé"]),
    ]


def test_two_pupils_of_the_same_names_are_told_apart_by_class_or_refused():
    pupils_csv = (
        "Nom élève;Nom d'usage élève;Prénom élève;Date naissance;INE;Libellé classe;Identifiant classe\r\n"
        "MARTIN;;Léa;01/02/2018;123456789AB;CP;1\r\n"
        "MARTIN;;Léa;03/04/2017;123456789AC;CE1;2\r\n"
    ).encode("cp1252")
    guardians_csv = (
        "Nom responsable;Prénom responsable;Nom d'usage enfant;Nom de famille enfant;Prénom enfant;Classes enfants\r\n"
        "MARTIN;Inès;;MARTIN;Léa;CE1\r\n"
        "MARTIN;Paul;;MARTIN;Léa;\r\n"
        "DURAND;Paul;;DURAND;Léo;CP\r\n"
    ).encode("cp1252")
    pupils = list(read_onde_pupils(source(pupils_csv)))
    errors: list[RowError] = []
    matcher = OndeMatcher(pupils)
    found = [[link.ine for link in matcher.links(g, errors)] for g in read_onde_guardians(source(guardians_csv))]
    assert found == [["123456789AC"], [], []]
    assert [(e.line, e.reason[:30]) for e in errors] == [
        (3, "Plusieurs élèves s'appellent L"),
        (4, "Enfant Léo DURAND absent du fi"),
    ]


def test_missing_columns_are_named():
    with pytest.raises(ImportFileError, match="Prénom responsable"):
        list(read_onde_guardians(source("Nom responsable;Nom de famille enfant;Prénom enfant\r\nA;B;C\r\n".encode())))
    with pytest.raises(ImportFileError, match="Prénom enfant"):
        list(read_onde_guardians(source("Nom responsable;Prénom responsable\r\nA;B\r\n".encode())))
    with pytest.raises(ImportFileError, match="INE"):
        list(
            read_onde_pupils(
                source("Nom élève;Prénom élève;Date naissance;Libellé classe\r\nA;B;01/01/2018;CP\r\n".encode())
            )
        )


def test_a_file_mixing_encodings_is_refused(samples):
    data = samples.ecole[0].read_bytes() + "MARTIN;;Zoé;01/02/2018;F;123456789AB\r\n".encode()
    with pytest.raises(ImportFileError, match="mélange deux encodages"):
        list(read_onde_pupils(source(data)))


def test_the_samples_pass_the_row_checks_of_every_import(samples, pupils, guardians):
    from trousseau.directory.importers.records import link_record
    from trousseau.directory.importers.records import pupil_record_onde as pupil_record
    from trousseau.directory.importers.rows import GuardianChecker, PupilChecker, SchoolRef

    errors: list[RowError] = []
    school = SchoolRef(1, samples.ecole_uai, primary=True)
    checker = PupilChecker(errors.append, {school.uai: school}, school=school)
    assert all(checker(pupil_record(p, school.uai)) for p in pupils)
    matcher = OndeMatcher(pupils)
    records = [link_record(link) for g in guardians for link in matcher.links(g, errors)]
    guardian_checker = GuardianChecker(errors.append, checker.ine_school)
    assert all(guardian_checker(r) for r in records)
    assert errors == []
