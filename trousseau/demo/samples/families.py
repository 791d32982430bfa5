"""The families of the sample exports: schools, pupils and guardians drawn from a seed (no real person).

`build(seed)` makes two collèges and an école with the cases the tests look for (siblings, a guardian of
pupils in the three schools, one with no mobile, another contact, a pupil who left, a usage name);
exports.py writes them as SIECLE and ONDE write their files. `make run`'s demo académie builds its own
families (trousseau/demo/services.py) with the same dataclasses.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

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


class Ids:
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


def _parent(draw: Draw, ids: Ids, last: str, *, mother: bool) -> Person:
    first = draw.pick(MOTHERS if mother else FATHERS)
    return Person(ids.next_person(), "MME" if mother else "M.", last, first, _mobile(draw), _email(first, last, draw))


def draw_child(draw: Draw, ids: Ids, last: str, classes: Sequence[str], first_year: int) -> Pupil:
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
    ids = Ids(draw)
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
        pupil = draw_child(draw, ids, "Lefèvre", classes, first_year)
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
        pupil = draw_child(draw, ids, "Cœurdevey", [code], 2011)
        pupil.first_name, pupil.girl = first, girl
        pupil.guardians = [(mother, "1", "20"), (father, "2", "10"), (grandmother, "0", "39")]
        colleges[0].pupils.append(pupil)

    # A pupil who left in October, still in the file (SIECLE keeps them, with DATE_SORTIE).
    gone = draw_child(draw, ids, "Périer", ["6A"], 2011)
    gone.first_name, gone.girl, gone.left_on = "Timothée", False, LEFT_ON
    gone.guardians = [(_parent(draw, ids, "Périer", mother=True), "1", "20")]
    colleges[0].pupils.append(gone)

    # A pupil known by a usage name (NOM_USAGE) different from the birth name.
    used = draw_child(draw, ids, "Da Silva", ["5B"], 2011)
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
                pupil = draw_child(draw, ids, last, classes, first_year)
                taken = {(p.last_name, p.first_name) for p in school.pupils}
                while (pupil.last_name, pupil.first_name) in taken:  # no two pupils of a school share names
                    pupil.first_name = draw.pick(GIRLS if pupil.girl else BOYS) + draw.pick(["", "-Marie", "-Lou"])
                pupil.guardians = list(parents)
                school.pupils.append(pupil)
    return colleges, ecole
