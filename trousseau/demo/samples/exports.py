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
import hashlib
import io
import sys
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import IO, TypeVar
from xml.sax.saxutils import escape, quoteattr

from trousseau.core.text import fold

T = TypeVar("T")
SIECLE_ENCODING = "iso-8859-15"
ONDE_ENCODING = "cp1252"
YEAR = 2025  # the school year 2025-2026, as SIECLE's ANNEE_SCOLAIRE says it
LEFT_ON = f"15/10/{YEAR}"

COLLEGES = [("0145678B", "Collège Jean-Moulin"), ("0147890D", "Collège Simone-Veil")]
ECOLE = ("0141234A", "École élémentaire Jules-Ferry")
COLLEGE_CLASSES = ["6A", "6B", "5A", "5B", "4A", "4B", "3A", "3B"]
# SIECLE's CODE_MEF of a class, by the first character of its code (6e to 3e, 2nde, 1re, terminale): the
# usual MEF of each level, for the look of the file (the import does not read CODE_MEF).
MEF = {
    "6": "10010012110",
    "5": "10110001110",
    "4": "10210001110",
    "3": "10310019110",
    "2": "20010018110",
    "1": "20111001110",
    "T": "20211001110",
}
# ONDE's classes: (level, "Libellé classe", "Identifiant classe"); a pupil's `class_code` is the level.
ECOLE_CLASSES = [
    ("CP", "CP - Mme Prévost", "104211"),
    ("CE1", "CE1 - M. Benoît", "104212"),
    ("CE2", "CE2 - Mme Ndiaye", "104213"),
    ("CM1", "CM1-CM2 - Mme Lœwy", "104214"),
    ("CM2", "CM1-CM2 - Mme Lœwy", "104214"),
]

SURNAMES = [  # the special families (Lefèvre, Cœurdevey, Dubœuf, Périer, Da Silva, Roussel) are not drawn
    "Bœuf-Garnier", "Müller", "Bénard", "Desprès", "Hoarau", "N'Diaye", "Le Goff", "Ménard", "Sœur",
    "Faure-Léger", "Lemaître", "Nguyen", "Rodríguez", "Benali", "Gauthier", "Côté", "Mercier",
    "Étienne", "Boyer", "Françoise", "Chevalier", "Lœillet", "Brûlé", "Pagès",
]  # fmt: skip
GIRLS = ["Éloïse", "Zoé", "Maëlle", "Chloé", "Anaïs", "Léa", "Inès", "Noémie", "Héloïse", "Agathe", "Capucine", "Aïcha"]
BOYS = ["Loïc", "Noël", "Jérôme", "Gaël", "Hugo", "Raphaël", "Timothée", "Joël", "Anaël", "Jules", "Mathéo", "Rayan"]
MOTHERS = ["Hélène", "Sophie", "Cécile", "Bérénice", "Agnès", "Maïté", "Françoise", "Émilie", "Nadège", "Ophélie"]
FATHERS = ["François", "Jérémie", "Stéphane", "Benoît", "Grégoire", "Hervé", "Frédéric", "Loïs", "Rémi", "Jean-Noël"]


class Draw:
    """A deterministic stream of choices from a seed (hash-based: the same seed writes the same files)."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.n = 0

    def below(self, k: int) -> int:
        self.n += 1
        digest = hashlib.sha256(f"{self.seed}:{self.n}".encode()).digest()
        return int.from_bytes(digest[:8], "big") % k

    def pick(self, items: Sequence[T]) -> T:
        return items[self.below(len(items))]


@dataclass(slots=True)
class Person:
    source_id: str
    title: str
    last_name: str
    first_name: str
    mobile: str
    email: str
    usage_name: str = ""


@dataclass(slots=True)
class Pupil:
    source_id: str
    ine: str
    last_name: str
    first_name: str
    birth_date: str  # JJ/MM/AAAA
    girl: bool
    class_code: str
    left_on: str = ""
    usage_name: str = ""
    guardians: list[tuple[Person, str, str]] = field(default_factory=list)  # (person, RESP_LEGAL, CODE_PARENTE)


@dataclass(slots=True)
class School:
    """One school's export: SIECLE's (collège, lycée) or ONDE's (école), as the writer chosen says.

    `capitals`: family names in capitals, as SIECLE and ONDE write them; the demo académie keeps the
    case its families' names are spelt in (its letters and the FranceConnect stand-in show them so).
    `onde_classes`: an école's classes, (level, label, ONDE identifier), the level being `class_code`.
    """

    uaj: str
    name: str
    pupils: list[Pupil] = field(default_factory=list)
    capitals: bool = True
    onde_classes: Sequence[tuple[str, str, str]] = tuple(ECOLE_CLASSES)


@dataclass(frozen=True, slots=True)
class Samples:
    """Where the files are, and the facts the tests check them against."""

    folder: Path
    colleges: dict[str, tuple[Path, Path]]  # UAJ -> (pupils zip, guardians zip)
    ecole: tuple[Path, Path]  # (pupils CSV, guardians CSV)
    ecole_uai: str
    counts: dict[str, int]  # UAJ -> number of pupils in the file (including the one who left)


class _Ids:
    def __init__(self, draw: Draw) -> None:
        self.draw = draw
        self.pupil = 1_200_000
        self.person = 3_400_000
        self.ine = 0

    def next_pupil(self) -> str:
        self.pupil += 1 + self.draw.below(7)
        return str(self.pupil)

    def next_person(self) -> str:
        self.person += 1 + self.draw.below(5)
        return str(self.person)

    def next_ine(self) -> str:
        self.ine += 1
        return f"{70_000_000 + self.ine * 37:09d}{self.draw.below(10)}{self.draw.pick('ABCDEFGHJKLMNPRSTUVWXYZ')}"


def _mobile(draw: Draw) -> str:
    digits = f"{draw.below(100_000_000):08d}"
    prefix = draw.pick(["06", "07"])
    spaced = " ".join([prefix, digits[0:2], digits[2:4], digits[4:6], digits[6:8]])
    return spaced if draw.below(4) else f"+33 {prefix[1]} {digits}"


def _email(first: str, last: str, draw: Draw) -> str:
    return f"{fold(first)}.{fold(last)}{draw.below(90) + 10}@exemple.fr"


def _birth(draw: Draw, first_year: int) -> str:
    return f"{1 + draw.below(28):02d}/{1 + draw.below(12):02d}/{first_year + draw.below(4)}"


def _parent(draw: Draw, ids: _Ids, last: str, *, mother: bool) -> Person:
    first = draw.pick(MOTHERS if mother else FATHERS)
    return Person(ids.next_person(), "MME" if mother else "M.", last, first, _mobile(draw), _email(first, last, draw))


def _child(draw: Draw, ids: _Ids, last: str, classes: Sequence[str], first_year: int) -> Pupil:
    girl = bool(draw.below(2))
    return Pupil(
        ids.next_pupil(),
        ids.next_ine(),
        last,
        draw.pick(GIRLS if girl else BOYS),
        _birth(draw, first_year),
        girl,
        draw.pick(classes),
    )


def build(seed: int = 18, per_school: int = 60) -> tuple[list[School], School]:
    """The two collèges and the école, with the special cases the tests look for."""
    draw = Draw(seed)
    ids = _Ids(draw)
    colleges = [School(uaj, name) for uaj, name in COLLEGES]
    ecole = School(*ECOLE)
    ecole_codes = [code for code, _, _ in ECOLE_CLASSES]

    # A guardian of pupils in the three schools: Sophie Lefèvre (one record per school, as SIECLE and ONDE
    # have it), with François Lefèvre; Hugo and Léa's files name her with different PERSONNE_IDs.
    sophie_mobile, sophie_email = "06 12 34 56 78", "sophie.lefevre@exemple.fr"
    for school, classes, first_year, kid in (
        (colleges[0], ["4A"], 2012, ("Hugo", False)),
        (colleges[1], ["6B"], 2014, ("Léa", True)),
        (ecole, ["CE2"], 2017, ("Jules", False)),
    ):
        pupil = _child(draw, ids, "Lefèvre", classes, first_year)
        pupil.first_name, pupil.girl = kid
        mother = Person(ids.next_person(), "MME", "Lefèvre", "Sophie", sophie_mobile, sophie_email)
        father = Person(ids.next_person(), "M.", "Lefèvre", "François", _mobile(draw), "")
        pupil.guardians = [(mother, "1", "20"), (father, "1", "10")]
        school.pupils.append(pupil)

    # Siblings with an œ in their name (ISO-8859-15 has it, Latin-1 does not); their father has no mobile.
    mother = Person(ids.next_person(), "MME", "Cœurdevey", "Bérénice", "07 81 22 33 44", "")
    father = Person(ids.next_person(), "M.", "Cœurdevey", "Grégoire", "", "gregoire.coeurdevey@exemple.fr")
    grandmother = Person(ids.next_person(), "MME", "Dubœuf", "Agnès", "06 98 76 54 32", "")
    for first, girl, code in (("Maëlle", True, "5A"), ("Noël", False, "3B")):
        pupil = _child(draw, ids, "Cœurdevey", [code], 2011)
        pupil.first_name, pupil.girl = first, girl
        pupil.guardians = [(mother, "1", "20"), (father, "2", "10"), (grandmother, "0", "39")]
        colleges[0].pupils.append(pupil)

    # A pupil who left in October, still in the file (SIECLE keeps them, with DATE_SORTIE).
    gone = _child(draw, ids, "Périer", ["6A"], 2011)
    gone.first_name, gone.girl, gone.left_on = "Timothée", False, LEFT_ON
    gone.guardians = [(_parent(draw, ids, "Périer", mother=True), "1", "20")]
    colleges[0].pupils.append(gone)

    # A pupil known by a usage name (NOM_USAGE) different from the birth name.
    used = _child(draw, ids, "Da Silva", ["5B"], 2011)
    used.usage_name = "Da Silva-Roussel"
    used.guardians = [(_parent(draw, ids, "Roussel", mother=True), "1", "20")]
    colleges[0].pupils.append(used)

    for school, classes, first_year in (
        (colleges[0], COLLEGE_CLASSES, 2011),
        (colleges[1], COLLEGE_CLASSES, 2011),
        (ecole, ecole_codes, 2015),
    ):
        # No two guardians of a school share names: ONDE gives guardians no identifier, and the directory
        # tells apart two people of the same names in one school only by ID_RESPONSABLE.
        adults = {(g.last_name, g.first_name) for p in school.pupils for g, _, _ in p.guardians}
        while len(school.pupils) < per_school:
            last = draw.pick(SURNAMES)
            parents = [(_parent(draw, ids, last, mother=True), "1", "20")]
            if draw.below(5):
                parents.append((_parent(draw, ids, last, mother=False), "1" if draw.below(6) else "2", "10"))
            for g, _, _ in parents:
                while (g.last_name, g.first_name) in adults:  # a compound first name, as families have them
                    g.first_name += "-" + draw.pick(MOTHERS if g.title == "MME" else FATHERS)
                adults.add((g.last_name, g.first_name))
            for _ in range(1 + (draw.below(4) == 0)):  # one family in four has two children here
                pupil = _child(draw, ids, last, classes, first_year)
                taken = {(p.last_name, p.first_name) for p in school.pupils}
                while (pupil.last_name, pupil.first_name) in taken:  # no two pupils of a school share names
                    pupil.first_name = draw.pick(GIRLS if pupil.girl else BOYS) + draw.pick(["", "-Marie", "-Lou"])
                pupil.guardians = list(parents)
                school.pupils.append(pupil)
    return colleges, ecole


def _el(name: str, value: str) -> str:
    return f"<{name}>{escape(value)}</{name}>" if value else f"<{name}/>"


def _prolog(root: str, version: str, uaj: str) -> str:
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
    yield _prolog("BEE_ELEVES", "3.1", uaj)
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
    yield _prolog("BEE_RESPONSABLES", "1.6", school.uaj)
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
    ids = _Ids(draw)

    def pupils() -> Iterator[Pupil]:
        for _ in range(count):
            yield _child(draw, ids, draw.pick(SURNAMES), COLLEGE_CLASSES, 2011)

    def again() -> Iterator[Pupil]:  # the structures follow the pupils: the same seed draws them again
        nonlocal draw, ids
        draw = Draw(seed)
        ids = _Ids(draw)
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
