"""Realistic SIECLE and ONDE exports for the demo and the tests, generated from a seed (no real person).

`write_samples(folder)` writes, for two collèges, the two SIECLE zips a secretary downloads
(ElevesSansAdresses.zip, ResponsablesAvecAdresses.zip: XML in ISO-8859-15) and, for one école, the two
ONDE extractions (CSV separated by `;`, Windows-1252). The families include siblings, a guardian of
pupils in the three schools, a guardian with no mobile, another contact (RESP_LEGAL 0) and a pupil who
left (DATE_SORTIE). `write_siecle_pupils` streams a pupils file of any size for the benchmarks.

The writers (`write_siecle`, `write_onde`, and the line and text writers under them) take any `School`
with any pupils: `make run`'s demo académie (trousseau/demo/services.py) is written by them too.

    python -m trousseau.demo.samples.exports var/samples [--seed 18] [--per-school 60]

Formats and their sources: docs/school-exports.md.
"""

from __future__ import annotations

import csv
import io
import sys
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from pathlib import Path
from typing import IO
from xml.sax.saxutils import escape, quoteattr

from trousseau.demo.samples.families import (
    COLLEGE_CLASSES,
    ECOLE_CLASSES,
    LEFT_ON,
    MEF,
    ONDE_ENCODING,
    SIECLE_ENCODING,
    SURNAMES,
    YEAR,
    Draw,
    Ids,
    Person,
    Pupil,
    Samples,
    School,
    build,
    draw_child,
)

__all__ = [
    "ECOLE_CLASSES",
    "LEFT_ON",
    "Person",
    "Pupil",
    "Samples",
    "School",
    "build",
    "onde_files",
    "siecle_guardians_lines",
    "siecle_prolog",
    "siecle_pupils_lines",
    "write_onde",
    "write_samples",
    "write_siecle",
    "write_siecle_pupils",
]


def _el(name: str, value: str) -> str:
    return f"<{name}>{escape(value)}</{name}>" if value else f"<{name}/>"


def siecle_prolog(root: str, version: str, uaj: str) -> str:
    """The head of a SIECLE export (its PARAMETRES) up to its DONNEES, as SIECLE writes it."""
    return (
        f'<?xml version="1.0" encoding="ISO-8859-15"?>\n<{root} VERSION="{version}">\n  <PARAMETRES>\n'
        f"    {_el('UAJ', uaj)}\n    {_el('ANNEE_SCOLAIRE', str(YEAR))}\n"
        f"    {_el('DATE_EXPORT', f'01/12/{YEAR}')}\n    {_el('HORODATAGE', f'01/12/{YEAR} 07:45:12')}\n"
        "  </PARAMETRES>\n  <DONNEES>\n"
    )


def _family(name: str, *, capitals: bool) -> str:
    return name.upper() if capitals else name


def siecle_pupils_lines(uaj: str, pupils: Callable[[], Iterable[Pupil]], *, capitals: bool = True) -> Iterator[str]:
    """ElevesSansAdresses.xml, line by line: the pupils, their options, then their structures.

    `pupils()` is called once per part of the file (a large file is drawn again rather than kept).
    """
    yield siecle_prolog("BEE_ELEVES", "3.1", uaj)
    yield "    <ELEVES>\n"
    for p in pupils():
        sex = "2" if p.girl else "1"
        fields = [
            _el("ID_NATIONAL", p.ine),
            _el("ELENOET", p.source_id[-5:]),
            _el("NOM_DE_FAMILLE", _family(p.last_name, capitals=capitals)),
            _el("NOM_USAGE", _family(p.usage_name, capitals=capitals)),
            _el("PRENOM", p.first_name),
            _el("PRENOM2", ""),
            _el("DATE_NAISS", p.birth_date),
            _el("CODE_SEXE", sex),
            _el("CODE_MEF", MEF.get(p.class_code[:1], "")),
            _el("DATE_ENTREE", f"01/09/{YEAR}"),
        ]
        if p.left_on:
            fields.append(_el("DATE_SORTIE", p.left_on))
        inner = "\n        ".join(fields)
        yield f"      <ELEVE ELEVE_ID={quoteattr(p.source_id)} ELENOET={quoteattr(p.source_id[-5:])}>\n        {inner}\n      </ELEVE>\n"
    yield "    </ELEVES>\n    <OPTIONS>\n"
    for p in islice(pupils(), 0, None, 5):
        yield (
            f"      <OPTION ELEVE_ID={quoteattr(p.source_id)}><OPTIONS_ELEVE><NUM_OPTION>1</NUM_OPTION>"
            "<CODE_MODALITE_ELECT>O</CODE_MODALITE_ELECT><CODE_MATIERE>020700</CODE_MATIERE></OPTIONS_ELEVE></OPTION>\n"
        )
    yield "    </OPTIONS>\n    <STRUCTURES>\n"
    for p in pupils():
        structures = [("Inactifs" if p.left_on else p.class_code, "D")]
        if p.class_code.startswith("5"):
            structures.append(("LATIN5", "G"))
        inner = "".join(
            f"\n        <STRUCTURE>{_el('CODE_STRUCTURE', code)}{_el('TYPE_STRUCTURE', kind)}</STRUCTURE>"
            for code, kind in structures
        )
        yield f"      <STRUCTURES_ELEVE ELEVE_ID={quoteattr(p.source_id)}>{inner}\n      </STRUCTURES_ELEVE>\n"
    yield "    </STRUCTURES>\n  </DONNEES>\n</BEE_ELEVES>\n"


def siecle_guardians_lines(school: School) -> Iterator[str]:
    """ResponsablesAvecAdresses.xml, line by line: people, links, then addresses (which Trousseau ignores)."""
    yield siecle_prolog("BEE_RESPONSABLES", "1.6", school.uaj)
    people: dict[str, Person] = {}
    for pupil in school.pupils:
        for person, _, _ in pupil.guardians:
            people.setdefault(person.source_id, person)
    yield "    <PERSONNES>\n"
    for person in people.values():
        inner = "".join(
            [
                _el("LC_CIVILITE", person.title),
                _el("NOM_DE_FAMILLE", _family(person.last_name, capitals=school.capitals)),
                _el("NOM_USAGE", _family(person.usage_name, capitals=school.capitals)),
                _el("PRENOM", person.first_name),
                _el("TEL_PERSONNEL", ""),
                _el("TEL_PORTABLE", person.mobile),
                _el("TEL_PROFESSIONNEL", ""),
                _el("MEL", person.email),
                _el("ACCEPTE_SMS", "1" if person.mobile else "0"),
                _el("ADRESSE_ID", person.source_id),
            ]
        )
        yield f"      <PERSONNE PERSONNE_ID={quoteattr(person.source_id)}>{inner}</PERSONNE>\n"
    yield "    </PERSONNES>\n    <RESPONSABLES>\n"
    for pupil in school.pupils:
        for person, legal, kinship in pupil.guardians:
            inner = "".join(
                [
                    _el("ELEVE_ID", pupil.source_id),
                    _el("PERSONNE_ID", person.source_id),
                    _el("RESP_LEGAL", legal),
                    _el("CODE_PARENTE", kinship),
                    _el("RESP_FINANCIER", "1" if legal == "1" else "0"),
                    _el("PERS_PAIMENT", "0"),
                    _el("PERS_CONTACT", "1"),
                ]
            )
            yield f"      <RESPONSABLE_ELEVE>{inner}</RESPONSABLE_ELEVE>\n"
    yield "    </RESPONSABLES>\n    <ADRESSES>\n"
    for person in people.values():
        yield (
            f"      <ADRESSE ADRESSE_ID={quoteattr(person.source_id)}>{_el('LIGNE1_ADRESSE', '12 rue des Écoles')}"
            f"{_el('CODE_POSTAL', '14000')}{_el('LIBELLE_POSTAL', 'CAEN')}{_el('LL_PAYS', 'FRANCE')}</ADRESSE>\n"
        )
    yield "    </ADRESSES>\n  </DONNEES>\n</BEE_RESPONSABLES>\n"


def _listed(pupils: list[Pupil]) -> Callable[[], Iterable[Pupil]]:
    return lambda: pupils


def _write_zip(path: Path, member: str, lines: Iterator[str]) -> None:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive, archive.open(member, "w") as out:
        for line in lines:
            out.write(line.encode(SIECLE_ENCODING))


ONDE_PUPIL_HEADER = [
    "Nom élève", "Nom d'usage élève", "Prénom élève", "Date naissance", "Sexe", "INE",
    "Adresse1", "Cp1", "Commune1", "Pays1", "Adresse2", "Cp2", "Commune2", "Pays2",
    "Cycle", "Niveau", "Libellé classe", "Identifiant classe",
    "Attestation fournie", "Autorisation associations", "Autorisation photo", "Décision de passage",
]  # fmt: skip
ONDE_GUARDIAN_HEADER = [
    "Civilité Responsable", "Nom usage responsable", "Nom responsable", "Prénom responsable",
    "Adresse responsable", "CP responsable", "Commune responsable", "Pays", "Courriel",
    "Téléphone domicile", "Téléphone travail", "Téléphone portable",
]  # fmt: skip
ONDE_CHILD_GROUP = ["Nom d'usage enfant", "Nom de famille enfant", "Prénom enfant", "Classes enfants"]
ONDE_CHILD_GROUPS = 3


def onde_files(school: School) -> tuple[str, str]:
    """The two ONDE extractions (élèves, responsables) as text; ONDE writes `;`, CRLF, Windows-1252."""
    known = {code: (label, ident) for code, label, ident in school.onde_classes}

    def labels(code: str) -> tuple[str, str]:
        return known.get(code, (code, ""))

    def family(name: str) -> str:
        return _family(name, capitals=school.capitals)

    cycle = {"CP": "CYCLE II", "CE1": "CYCLE II", "CE2": "CYCLE II", "CM1": "CYCLE III", "CM2": "CYCLE III"}
    pupils = io.StringIO()
    out = csv.writer(pupils, delimiter=";", lineterminator="\r\n")
    out.writerow(ONDE_PUPIL_HEADER)
    for p in school.pupils:
        label, ident = labels(p.class_code)
        out.writerow(
            [
                *(family(p.last_name), family(p.usage_name), p.first_name, p.birth_date, "F" if p.girl else "M", p.ine),
                *("12 rue des Écoles", "14000", "Caen", "FRANCE", "", "", "", ""),
                *(cycle.get(p.class_code, ""), p.class_code, label, ident, "Non", "Oui", "Oui", ""),
            ]
        )
    children: dict[str, list[Pupil]] = {}
    people: dict[str, Person] = {}
    for p in school.pupils:
        for person, _, _ in p.guardians:
            people.setdefault(person.source_id, person)
            children.setdefault(person.source_id, []).append(p)
    guardians = io.StringIO()
    out = csv.writer(guardians, delimiter=";", lineterminator="\r\n")
    out.writerow(ONDE_GUARDIAN_HEADER + ONDE_CHILD_GROUP * ONDE_CHILD_GROUPS)
    for key, person in people.items():
        row = [person.title, family(person.usage_name), family(person.last_name), person.first_name]
        row += ["12 rue des Écoles", "14000", "Caen", "FRANCE", person.email, "", "", person.mobile]
        for kid in children[key][:ONDE_CHILD_GROUPS]:
            row += [family(kid.usage_name), family(kid.last_name), kid.first_name, labels(kid.class_code)[0]]
        row += [""] * (len(ONDE_GUARDIAN_HEADER) + len(ONDE_CHILD_GROUP) * ONDE_CHILD_GROUPS - len(row))
        out.writerow(row)
    return pupils.getvalue(), guardians.getvalue()


def write_siecle(folder: Path, school: School) -> tuple[Path, Path]:
    """The school's SIECLE pair, as downloaded, in `folder`/UAJ/: (pupils zip, guardians zip)."""
    where = folder / school.uaj
    where.mkdir(parents=True, exist_ok=True)
    pupils, guardians = where / "ElevesSansAdresses.zip", where / "ResponsablesAvecAdresses.zip"
    lines = siecle_pupils_lines(school.uaj, _listed(school.pupils), capitals=school.capitals)
    _write_zip(pupils, "ElevesSansAdresses.xml", lines)
    _write_zip(guardians, "ResponsablesAvecAdresses.xml", siecle_guardians_lines(school))
    return pupils, guardians


def write_onde(folder: Path, school: School) -> tuple[Path, Path]:
    """The école's two ONDE extractions in `folder`/UAI/: (pupils CSV, guardians CSV)."""
    where = folder / school.uaj
    where.mkdir(parents=True, exist_ok=True)
    pupils_text, guardians_text = onde_files(school)
    pupils, guardians = where / "CSVExtraction-eleves.csv", where / "CSVExtraction-responsables.csv"
    pupils.write_bytes(pupils_text.encode(ONDE_ENCODING))
    guardians.write_bytes(guardians_text.encode(ONDE_ENCODING))
    return pupils, guardians


def write_samples(folder: Path, *, seed: int = 18, per_school: int = 60) -> Samples:
    colleges, ecole = build(seed, per_school)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {school.uaj: write_siecle(folder, school) for school in colleges}
    onde = write_onde(folder, ecole)
    counts = {s.uaj: len(s.pupils) for s in [*colleges, ecole]}
    return Samples(folder, paths, onde, ecole.uaj, counts)


def write_siecle_pupils(out: IO[bytes], *, uaj: str, count: int, seed: int = 18) -> None:
    """A pupils file of `count` pupils, written as it is generated (the benchmarks' 100 000-pupil file)."""
    draw = Draw(seed)
    ids = Ids(draw)

    def pupils() -> Iterator[Pupil]:
        for _ in range(count):
            yield draw_child(draw, ids, draw.pick(SURNAMES), COLLEGE_CLASSES, 2011)

    def again() -> Iterator[Pupil]:  # the structures follow the pupils: the same seed draws them again
        nonlocal draw, ids
        draw = Draw(seed)
        ids = Ids(draw)
        return pupils()

    for line in siecle_pupils_lines(uaj, again):
        out.write(line.encode(SIECLE_ENCODING))


def main(argv: Sequence[str]) -> int:
    if not argv:
        sys.stderr.write(__doc__ or "")
        return 2
    seed = int(argv[argv.index("--seed") + 1]) if "--seed" in argv else 18
    per = int(argv[argv.index("--per-school") + 1]) if "--per-school" in argv else 60
    samples = write_samples(Path(argv[0]), seed=seed, per_school=per)
    sys.stdout.write(f"Exports écrits dans {samples.folder}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
