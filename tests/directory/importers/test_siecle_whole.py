"""A SIECLE file read whole in C (siecle_whole.py) hands out exactly what the stream does, or leaves it to the stream."""

from __future__ import annotations

import io
import zipfile

import pytest

from tests.directory.importers.test_siecle import TODAY, eleve, pupils_xml, structure
from trousseau.directory.importers import siecle_xml
from trousseau.directory.importers.exports import Inflated
from trousseau.directory.importers.siecle import SiecleGuardians, SieclePupils
from trousseau.directory.importers.siecle_xml import (
    GUARDIANS_ROOT,
    LINK_ITEM,
    PERSON_ITEM,
    PUPIL_ITEM,
    PUPILS_ROOT,
    STRUCTURES_ITEM,
    SiecleFile,
)

PUPILS_WANTED = {("ELEVES", "ELEVE"): PUPIL_ITEM, ("STRUCTURES", "STRUCTURES_ELEVE"): STRUCTURES_ITEM}
GUARDIANS_WANTED = {("PERSONNES", "PERSONNE"): PERSON_ITEM, ("RESPONSABLES", "RESPONSABLE_ELEVE"): LINK_ITEM}


def streamed(data: bytes, root: str, wanted, monkeypatch) -> list:
    with monkeypatch.context() as patch:
        patch.setattr(SiecleFile, "_whole", lambda *_: None)
        return list(SiecleFile(io.BytesIO(data), max_bytes=None).elements(root, wanted))


def read_both(data: bytes, monkeypatch, root: str = PUPILS_ROOT, wanted=None):
    wanted = wanted or PUPILS_WANTED
    whole = SiecleFile(io.BytesIO(data), max_bytes=None)._whole(root, wanted)
    return whole, streamed(data, root, wanted, monkeypatch)


def zip_members(path) -> list[bytes]:
    with zipfile.ZipFile(path) as archive:
        return [archive.read(name) for name in archive.namelist()]


def test_the_samples_are_read_whole_with_the_streams_result(samples, monkeypatch):
    for pupils_zip, guardians_zip in samples.colleges.values():
        (pupils,) = zip_members(pupils_zip)
        whole, stream = read_both(pupils, monkeypatch)
        assert whole is not None
        assert whole == stream
        (guardians,) = zip_members(guardians_zip)
        whole, stream = read_both(guardians, monkeypatch, GUARDIANS_ROOT, GUARDIANS_WANTED)
        assert whole is not None
        assert whole == stream


def test_fields_written_twice_spaces_empty_fields_and_groups_read_as_the_stream_reads_them(monkeypatch):
    text = pupils_xml(
        eleve("1", nom="  DUPONT ", extra="<NOM_USAGE/><DATE_SORTIE></DATE_SORTIE><PRENOM>Zoé</PRENOM>")
        + '<ELEVE ELEVE_ID=" 2 "><ID_NATIONAL>123456789AC</ID_NATIONAL></ELEVE>\n'
        + "<ELEVE><PRENOM>Sans identifiant</PRENOM></ELEVE>\n",
        structure("1", ("3A", "D"), ("LATIN", "G")) + '<STRUCTURES_ELEVE ELEVE_ID="2"><STRUCTURE/></STRUCTURES_ELEVE>\n',
    )
    whole, stream = read_both(text, monkeypatch)
    assert whole is not None
    assert whole == stream
    assert whole[1][3][4] == "Zoé"  # the last PRENOM, as the stream keeps it


@pytest.mark.parametrize(
    "eleves",
    [
        eleve("1", extra="<!-- une note -->"),  # a comment: the stream's .text stops there
        eleve("1", nom="DU<B>PONT</B>"),  # a field with an element inside
        eleve("1", nom="DU\tPONT"),  # a tab, the line's separator
        eleve("1", nom="DU\nPONT"),  # a newline, the lines' separator
        eleve("1", extra="<ADRESSE>x</ADRESSE>"),  # an item nested in a field: the stream clears its siblings
        '<ELEVE ELEVE_ID="1" xmlns="urn:x"><PRENOM>A</PRENOM></ELEVE>\n',  # a namespace
        eleve("1", extra="<?pi x?>"),  # a processing instruction
    ],
)
def test_a_file_of_another_shape_is_left_to_the_stream(eleves, monkeypatch):
    text = pupils_xml(eleves, structure("1", ("3A", "D")))
    whole, _ = read_both(text, monkeypatch)
    assert whole is None


@pytest.mark.parametrize(
    "text",
    [
        pupils_xml(eleve("1") + "<ELEVE ELEVE_ID="),  # broken XML
        pupils_xml(eleve("1")).replace(b"<PARAMETRES>", b"<PARAMETRES><PARAMETRES/>"),  # two PARAMETRES
        pupils_xml(eleve("1")).replace(b"BEE_ELEVES", b"BEE_RESPONSABLES"),  # another root
        pupils_xml(eleve("1")).replace(b"\n<BEE_ELEVES", b'\n<!DOCTYPE x [<!ENTITY e "e">]>\n<BEE_ELEVES'),
    ],
)
def test_a_faulty_file_is_left_to_the_stream_which_refuses_it(text, monkeypatch):
    assert SiecleFile(io.BytesIO(text), max_bytes=None)._whole(PUPILS_ROOT, PUPILS_WANTED) is None


def test_a_file_over_the_size_cap_is_left_to_the_stream(monkeypatch):
    text = pupils_xml(eleve("1"))
    assert SiecleFile(io.BytesIO(text), max_bytes=len(text))._whole(PUPILS_ROOT, PUPILS_WANTED) is not None
    monkeypatch.setattr(siecle_xml, "WHOLE_MAX", len(text) - 1)
    assert SiecleFile(io.BytesIO(text), max_bytes=None)._whole(PUPILS_ROOT, PUPILS_WANTED) is None


def test_the_readers_give_the_same_rows_either_way(samples, monkeypatch):
    pupils_zip, guardians_zip = next(iter(samples.colleges.values()))
    (pupils,), (guardians,) = zip_members(pupils_zip), zip_members(guardians_zip)
    whole = (list(SieclePupils(io.BytesIO(pupils), today=TODAY)), list(SiecleGuardians(io.BytesIO(guardians))))
    monkeypatch.setattr(SiecleFile, "_whole", lambda *_: None)
    stream = (list(SieclePupils(io.BytesIO(pupils), today=TODAY)), list(SiecleGuardians(io.BytesIO(guardians))))
    assert whole == stream


def test_an_inflated_member_is_let_go_once_read(samples):
    pupils_zip, _ = next(iter(samples.colleges.values()))
    (pupils,) = zip_members(pupils_zip)
    handle = Inflated(pupils)
    SieclePupils(handle, today=TODAY)
    assert handle.closed
