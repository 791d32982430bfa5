"""An académie's SIECLE exports for bench/import_bench.py: one pair of zips per school, as SIECLE writes them.

`ElevesSansAdresses.xml` (root `BEE_ELEVES`) and `ResponsablesAvecAdresses.xml` (root `BEE_RESPONSABLES`),
ISO-8859-15, two legal guardians per pupil, names with accents and apostrophes; the same rows as CSV for
the benchmark's reference (PostgreSQL's COPY).
"""

from __future__ import annotations

import re
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from trousseau.demo.samples.exports import siecle_prolog
from trousseau.demo.samples.families import YEAR

SCHOOLS = 1000  # SIECLE is the collèges' and lycées' software: every school of this bench is one
NAMES = ["Martin", "Bernard", "Dupont", "N'Diaye", "Lefèvre", "Nguyen", "Da Silva", "Garcia", "Roux", "Benali"]
FIRST = ["Léa", "Hugo", "Chloé", "Inès", "Nathan", "Zoé", "Adam", "Manon", "Yanis", "Élodie", "Théo"]
MOTHERS = ["Hélène", "Sophie", "Cécile", "Agnès", "Maïté", "Françoise", "Émilie", "Nadège"]
FATHERS = ["François", "Stéphane", "Benoît", "Grégoire", "Hervé", "Frédéric", "Rémi", "Jean-Noël"]
CLASSES = ["6A", "6B", "5A", "5B", "4A", "4B", "3A", "3B"]
ENCODING = "iso-8859-15"


def uai(n: int) -> str:
    return f"{9000000 + n:07d}{'ABCDEFGHJKLMNPRSTUVWXYZ'[n % 23]}"


def _el(name: str, value: str) -> str:
    return f"<{name}>{escape(value)}</{name}>" if value else f"<{name}/>"


@dataclass
class Files:
    pupils: list[Path]
    guardians: list[Path]
    csv: dict[str, Path]  # table -> CSV of the same rows, for the reference
    xml_bytes: int
    zip_bytes: int


def _pupil(n: int) -> tuple[str, str, str, str, str, str]:
    """(ELEVE_ID, INE, last name, first name, birth date, class) of pupil n."""
    return (
        str(100000 + n),
        f"{n:09d}AB",
        NAMES[n % len(NAMES)],
        FIRST[n % len(FIRST)],
        f"{1 + n % 28:02d}/{1 + n % 12:02d}/{2008 + n % 8}",
        CLASSES[n % len(CLASSES)],
    )


def _parent(n: int, k: int) -> tuple[str, str, str, str, str]:
    """(PERSONNE_ID, last name, first name, mobile, email) of pupil n's guardian k (0: mother, 1: father)."""
    last = NAMES[n % len(NAMES)]
    first = (MOTHERS if k == 0 else FATHERS)[(n // 7) % 8]
    email = f"p{n}.{k}@example.fr" if n % 3 == 0 else ""
    digits = f"{(2 * n + k) % 10**8:08d}"
    mobile = f"06 {digits[:2]} {digits[2:4]} {digits[4:6]} {digits[6:]}"
    return str(5000000 + 2 * n + k), last, first, mobile, email


def _write_zip(path: Path, member: str, text: str) -> int:
    data = text.encode(ENCODING)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr(member, data)
    return len(data)


def write_files(pupils: int, folder: Path) -> Files:
    """`SCHOOLS` pairs of SIECLE zips under `folder` (emptied first), and the same rows as CSV for the reference."""
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "zips").mkdir(parents=True)
    csvs = {t: folder / f"{t}.csv" for t in ("ref_pupil", "ref_person", "ref_link")}
    handles = {t: p.open("w", encoding="utf-8", newline="") for t, p in csvs.items()}
    files = Files([], [], csvs, 0, 0)
    per = pupils // SCHOOLS
    try:
        for s in range(SCHOOLS):
            code = uai(s)
            rows = [_pupil(n) for n in range(s * per, (s + 1) * per)]
            eleves = [siecle_prolog("BEE_ELEVES", "3.1", code), "    <ELEVES>\n"]
            for eid, ine, last, first, born, _ in rows:
                eleves.append(
                    f'      <ELEVE ELEVE_ID="{eid}" ELENOET="{eid[-5:]}">\n        {_el("ID_NATIONAL", ine)}\n'
                    f"        {_el('ELENOET', eid[-5:])}\n        {_el('NOM_DE_FAMILLE', last.upper())}\n"
                    f"        <NOM_USAGE/>\n        {_el('PRENOM', first)}\n        <PRENOM2/>\n"
                    f"        {_el('DATE_NAISS', born)}\n        <CODE_SEXE>1</CODE_SEXE>\n"
                    f"        <CODE_MEF>10110001110</CODE_MEF>\n        <DATE_ENTREE>01/09/{YEAR}</DATE_ENTREE>\n"
                    "      </ELEVE>\n"
                )
            eleves.append("    </ELEVES>\n    <STRUCTURES>\n")
            for eid, *_, klass in rows:
                eleves.append(
                    f'      <STRUCTURES_ELEVE ELEVE_ID="{eid}">\n        <STRUCTURE><CODE_STRUCTURE>{klass}'
                    "</CODE_STRUCTURE><TYPE_STRUCTURE>D</TYPE_STRUCTURE></STRUCTURE>\n      </STRUCTURES_ELEVE>\n"
                )
            eleves.append("    </STRUCTURES>\n  </DONNEES>\n</BEE_ELEVES>\n")
            people = [siecle_prolog("BEE_RESPONSABLES", "1.6", code), "    <PERSONNES>\n"]
            links = ["    </PERSONNES>\n    <RESPONSABLES>\n"]
            for offset, (eid, ine, last, first, born, klass) in enumerate(rows):
                n = s * per + offset
                handles["ref_pupil"].write(
                    f"{eid},{ine},{last.upper()},{first},{born[6:]}-{born[3:5]}-{born[:2]},{klass},{code}\r\n"
                )
                for k in range(2):
                    pid, plast, pfirst, mobile, email = _parent(n, k)
                    people.append(
                        f'      <PERSONNE PERSONNE_ID="{pid}"><LC_CIVILITE>{"MME" if k == 0 else "M."}</LC_CIVILITE>'
                        f"{_el('NOM_DE_FAMILLE', plast.upper())}<NOM_USAGE/>{_el('PRENOM', pfirst)}<TEL_PERSONNEL/>"
                        f"{_el('TEL_PORTABLE', mobile)}<TEL_PROFESSIONNEL/>{_el('MEL', email)}"
                        f"<ACCEPTE_SMS>1</ACCEPTE_SMS>{_el('ADRESSE_ID', pid)}</PERSONNE>\n"
                    )
                    links.append(
                        f"      <RESPONSABLE_ELEVE>{_el('ELEVE_ID', eid)}{_el('PERSONNE_ID', pid)}"
                        f"<RESP_LEGAL>{1 + k}</RESP_LEGAL><CODE_PARENTE>{'20' if k == 0 else '10'}</CODE_PARENTE>"
                        "<RESP_FINANCIER>1</RESP_FINANCIER><PERS_PAIMENT>0</PERS_PAIMENT>"
                        "<PERS_CONTACT>1</PERS_CONTACT></RESPONSABLE_ELEVE>\n"
                    )
                    handles["ref_person"].write(f"{pid},{plast.upper()},{pfirst},{mobile},{email}\r\n")
                    handles["ref_link"].write(f"{eid},{pid},{1 + k}\r\n")
            links.append("    </RESPONSABLES>\n  </DONNEES>\n</BEE_RESPONSABLES>\n")
            p = folder / "zips" / f"ElevesSansAdresses_{code}.zip"
            g = folder / "zips" / f"ResponsablesAvecAdresses_{code}.zip"
            files.xml_bytes += _write_zip(p, "ElevesSansAdresses.xml", "".join(eleves))
            files.xml_bytes += _write_zip(g, "ResponsablesAvecAdresses.xml", "".join(people + links))
            files.zip_bytes += p.stat().st_size + g.stat().st_size
            files.pupils.append(p)
            files.guardians.append(g)
    finally:
        for handle in handles.values():
            handle.close()
    return files


def change_mobiles(files: Files, schools: int) -> None:
    """A night's changes: in `schools` schools' guardians files, one guardian's mobile is another."""
    for path in files.guardians[:schools]:
        with zipfile.ZipFile(path) as archive:
            text = archive.read("ResponsablesAvecAdresses.xml").decode(ENCODING)
        text = re.sub(
            r"<TEL_PORTABLE>[^<]*</TEL_PORTABLE>", "<TEL_PORTABLE>07 99 99 99 99</TEL_PORTABLE>", text, count=1
        )
        _write_zip(path, "ResponsablesAvecAdresses.xml", text)
