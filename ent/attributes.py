"""What the demo services read in ÉduConnect's attributes (SAML) or claims (OpenID Connect).

An attribute is recognised by its Name (the OID) or its FriendlyName, as Edifice's entcore does
(research/educonnect.md §3.1). The join keys are built the way ENTs build them from FrEduCtRefId
`{AAF}<académie>|<source>|<id>` vectors (entcore `getJoinKey`: `<ACADÉMIE>-<id>`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

ECT = "urn:oid:1.3.6.1.4.1.20326.10.999.1."


@dataclass(frozen=True)
class Spec:
    friendly_name: str
    oid: str
    required: bool = False


SPECS = [
    Spec("FrEduCtId", ECT + "57", required=True),
    Spec("FrEduCtPersonAffiliation", ECT + "7", required=True),
    Spec("givenName", "urn:oid:2.5.4.42", required=True),
    Spec("sn", "urn:oid:2.5.4.4", required=True),
    Spec("FrEduCtDateConnexion", ECT + "6"),
    Spec("FrEduUrlRetour", ECT + "5"),
    Spec("FrEduCtEleveUAI", ECT + "72"),
    Spec("FrEduCtEleveNiveau", ECT + "73"),
    Spec("FrEduCtEleveINEHash", ECT + "64"),
    Spec("FrEduCtDateNaissance", ECT + "67"),
    # Not public at ÉduConnect: Trousseau's own arc. The ENT also matches them by FriendlyName.
    Spec("FrEduCtRefId", "urn:oid:1.3.6.1.4.1.99999.1.1"),
    Spec("FrEduCtEnfant", "urn:oid:1.3.6.1.4.1.99999.1.2"),
]
BY_OID = {spec.oid: spec.friendly_name for spec in SPECS}

AFFILIATIONS = {
    "eleve1d": "Élève (école)",
    "eleve2d": "Élève (collège ou lycée)",
    "resp1d": "Responsable légal (école)",
    "resp2d": "Responsable légal (collège ou lycée)",
}
# MEFSTAT4 codes of FrEduCtEleveNiveau.
LEVELS = {
    "2111": "6e", "2112": "5e", "2115": "4e", "2116": "3e",
    "2211": "2nde", "2212": "1re", "2213": "Terminale",
}  # fmt: skip
# BCN académie codes of the `{AAF}` vectors (entcore's academiesMapping).
ACADEMIES = {
    "01": "PARIS", "02": "AIX-MARSEILLE", "03": "BESANCON", "04": "BORDEAUX", "06": "CLERMONT-FERRAND",
    "07": "DIJON", "08": "GRENOBLE", "09": "LILLE", "10": "LYON", "11": "MONTPELLIER", "12": "NANCY-METZ",
    "13": "POITIERS", "14": "RENNES", "15": "STRASBOURG", "16": "TOULOUSE", "17": "NANTES",
    "18": "ORLEANS-TOURS", "19": "REIMS", "20": "AMIENS", "22": "LIMOGES", "23": "NICE", "24": "CRETEIL",
    "25": "VERSAILLES", "27": "CORSE", "28": "LA-REUNION", "31": "MARTINIQUE", "32": "GUADELOUPE",
    "33": "GUYANE", "43": "MAYOTTE", "70": "NORMANDIE",
}  # fmt: skip
CHILD_PARTS = 4
# A school's UAI: seven digits and a letter (0450001A).
UAI = re.compile(r"[0-9]{7}[A-Z]")
JOIN_PARTS = 3


def by_friendly_name(by_name: Mapping[str, list[str]], friendly: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """Every attribute under its friendly name, whether the IdP named it by OID or by friendly name."""
    result = {name: list(values) for name, values in friendly.items()}
    for name, values in by_name.items():
        key = BY_OID.get(name, name)
        result.setdefault(key, list(values))
    return result


@dataclass(frozen=True)
class Child:
    id: str
    last_name: str
    first_name: str
    uai: str


@dataclass(frozen=True)
class Identity:
    """The person as the ENT home shows them."""

    first_name: str
    last_name: str
    affiliations: list[str]
    uai: str = ""
    level_code: str = ""
    children: list[Child] = field(default_factory=list)
    join_keys: list[str] = field(default_factory=list)
    # The middle part of `{AAF}<académie>|<source>|<id>` vectors when it is a UAI (older vectors named the
    # school there; ÉduConnect's and Trousseau's name the directory, `AC2D`, which is no school).
    vector_uais: list[str] = field(default_factory=list)

    @property
    def is_guardian(self) -> bool:
        return any(a.startswith("resp") for a in self.affiliations)

    @property
    def profile(self) -> str:
        labels = [AFFILIATIONS.get(a, a) for a in self.affiliations]
        return ", ".join(labels) or "Profil non communiqué"

    @property
    def level(self) -> str:
        return LEVELS.get(self.level_code, self.level_code)

    @property
    def school_uais(self) -> list[str]:
        """The schools this person is known at: their own, their children's, those of the join vectors."""
        found = [self.uai, *(child.uai for child in self.children), *self.vector_uais]
        return list(dict.fromkeys(uai for uai in found if uai))


def _first(values: Mapping[str, list[str]], name: str) -> str:
    found = values.get(name) or [""]
    return found[0].strip()


def join_key(vector: str) -> str | None:
    """`{AAF}18|0450001A|1814477` -> `ORLEANS-TOURS-1814477` (None for other vectors)."""
    if not vector.startswith("{AAF}"):
        return None
    parts = vector[5:].split("|")
    if len(parts) != JOIN_PARTS or not parts[2]:
        return None
    return f"{ACADEMIES.get(parts[0], parts[0])}-{parts[2]}"


def vector_uai(vector: str) -> str | None:
    """`{AAF}18|0450001A|1814477` -> `0450001A`; None for `{AAF}18|AC2D|1814477` and other vectors."""
    if not vector.startswith("{AAF}"):
        return None
    parts = vector[5:].split("|")
    if len(parts) != JOIN_PARTS:
        return None
    source = parts[1].strip()
    return source if UAI.fullmatch(source) else None


def identity(values: Mapping[str, list[str]]) -> Identity:
    """The person from SAML attributes (by friendly name, see `by_friendly_name`)."""
    children = []
    for value in values.get("FrEduCtEnfant", []):
        parts = value.split("|")
        if len(parts) == CHILD_PARTS:
            children.append(Child(*(part.strip() for part in parts)))
    vectors = values.get("FrEduCtRefId", [])
    return Identity(
        first_name=_first(values, "givenName"),
        last_name=_first(values, "sn"),
        affiliations=[a.strip() for a in values.get("FrEduCtPersonAffiliation", []) if a.strip()],
        uai=_first(values, "FrEduCtEleveUAI"),
        level_code=_first(values, "FrEduCtEleveNiveau"),
        children=children,
        join_keys=[key for key in (join_key(v) for v in vectors) if key],
        vector_uais=[uai for uai in (vector_uai(v) for v in vectors) if uai],
    )


def _strings(value: object) -> list[str]:
    """A claim that may be one string or a list of them (FrEduCtPersonAffiliation, FrEduCtRefId)."""
    if isinstance(value, str):
        return [value.strip()] if value.strip() else []
    if isinstance(value, list):
        return [item.strip() for item in value if isinstance(item, str) and item.strip()]
    return []


def _text(claims: Mapping[str, object], name: str) -> str:
    value = claims.get(name)
    return value.strip() if isinstance(value, str) else ""


def identity_from_claims(claims: Mapping[str, object]) -> Identity:
    """The person from OpenID Connect claims (ID token and UserInfo), as docs/oidc.md names them."""
    raw_children = claims.get("children")
    children = [
        Child(
            id=str(child.get("id", "")),
            last_name=str(child.get("family_name", "")),
            first_name=str(child.get("given_name", "")),
            uai=str(child.get("school_uai", "")),
        )
        for child in (raw_children if isinstance(raw_children, list) else [])
        if isinstance(child, dict)
    ]
    vectors = _strings(claims.get("FrEduCtRefId"))
    return Identity(
        first_name=_text(claims, "given_name"),
        last_name=_text(claims, "family_name"),
        affiliations=_strings(claims.get("FrEduCtPersonAffiliation")),
        uai=_text(claims, "FrEduCtEleveUAI"),
        level_code=_text(claims, "FrEduCtEleveNiveau"),
        children=children,
        join_keys=[key for key in (join_key(v) for v in vectors) if key],
        vector_uais=[uai for uai in (vector_uai(v) for v in vectors) if uai],
    )
