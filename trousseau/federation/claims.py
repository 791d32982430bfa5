"""The one mapping from an account to what service providers receive (SAML attributes, OIDC claims).

SAML and OpenID Connect never map accounts themselves: both call `attributes()` (and `oidc_claims()`
is a rename of the same values), so an ENT sees the same identity whichever protocol it speaks.
Names and OIDs are ÉduConnect's (research/educonnect.md §3): `Name="urn:oid:…"` with the
`FrEduCt…` friendly name. The children list is Trousseau's own extension.

What a service receives beyond the account's own identity is its `Release` policy, set by the operator
at registration and the minimum by default: a guardian's children list only to services registered for
children, and the `{AAF}` join vectors (the académie directory's identifiers of the account's own
records, issue #18) only to services registered for them. Every service gets the `{ECT}` vector and,
for a pupil, the INE's digest; the INE itself is in no claim, whatever the release.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone

from trousseau.accounts.models import Account, AccountKind
from trousseau.accounts.selectors import ClaimsPupil, ClaimsRecords, claims_records
from trousseau.directory.models import Guardian, Pupil, SchoolLevel

ECT = "urn:oid:1.3.6.1.4.1.20326.10.999.1."


@dataclass(frozen=True)
class AttributeSpec:
    friendly_name: str
    oid: str
    oidc_claim: str
    multi: bool = False


SPECS = [
    AttributeSpec("FrEduCtId", ECT + "57", "FrEduCtId"),
    AttributeSpec("FrEduCtPersonAffiliation", ECT + "7", "FrEduCtPersonAffiliation", multi=True),
    AttributeSpec("givenName", "urn:oid:2.5.4.42", "given_name"),
    AttributeSpec("sn", "urn:oid:2.5.4.4", "family_name"),
    AttributeSpec("FrEduCtDateConnexion", ECT + "6", "FrEduCtDateConnexion"),
    AttributeSpec("FrEduUrlRetour", ECT + "5", "FrEduUrlRetour"),
    AttributeSpec("FrEduCtEleveUAI", ECT + "72", "FrEduCtEleveUAI"),
    AttributeSpec("FrEduCtEleveNiveau", ECT + "73", "FrEduCtEleveNiveau"),
    AttributeSpec("FrEduCtEleveINEHash", ECT + "64", "FrEduCtEleveINEHash"),
    AttributeSpec("FrEduCtDateNaissance", ECT + "67", "birthdate"),
    # The OID of FrEduCtRefId is not public; Trousseau uses its own arc for it and for the children.
    AttributeSpec("FrEduCtRefId", "urn:oid:1.3.6.1.4.1.99999.1.1", "FrEduCtRefId", multi=True),
    AttributeSpec("FrEduCtEnfant", "urn:oid:1.3.6.1.4.1.99999.1.2", "children", multi=True),
]
BY_NAME = {spec.friendly_name: spec for spec in SPECS}
CHILDREN = "FrEduCtEnfant"

# BCN codes of the académies, the first part of the `{AAF}` join vectors ENTs match on (entcore getJoinKey
# maps it to the académie's name: `18` -> ORLEANS-TOURS).
ACADEMIE_CODES = {
    "Paris": "01", "Aix-Marseille": "02", "Besançon": "03", "Bordeaux": "04", "Clermont-Ferrand": "06",
    "Dijon": "07", "Grenoble": "08", "Lille": "09", "Lyon": "10", "Montpellier": "11", "Nancy-Metz": "12",
    "Poitiers": "13", "Rennes": "14", "Strasbourg": "15", "Toulouse": "16", "Nantes": "17",
    "Orléans-Tours": "18", "Reims": "19", "Amiens": "20", "Limoges": "22", "Nice": "23", "Créteil": "24",
    "Versailles": "25", "Corse": "27", "La Réunion": "28", "Martinique": "31", "Guadeloupe": "32",
    "Guyane": "33", "Mayotte": "43", "Normandie": "70",
}  # fmt: skip
# MEFSTAT4 of the usual classes (FrEduCtEleveNiveau), from the start of the class name.
LEVELS = [("6", "2111"), ("5", "2112"), ("4", "2115"), ("3", "2116"), ("2nde", "2211"), ("1", "2212"), ("T", "2213")]


@dataclass(frozen=True)
class Release:
    """What one service may receive beyond the account's own identity (docs/saml.md, docs/oidc.md)."""

    children: bool = False  # a guardian's children list (FrEduCtEnfant, OIDC `children`)
    join: bool = False  # the account's own `{AAF}` join vectors, which ENTs match their directory on

    def describe(self) -> str:
        """The policy as the registration commands print it: `identity`, then `children` and `join` if on."""
        extras = [name for name, on in (("children", self.children), ("join", self.join)) if on]
        return ",".join(["identity", *extras])


MINIMUM = Release()


def _hmac(value: str, *, purpose: str) -> str:
    key = f"{purpose}:{settings.IDENTIFIER_KEY}".encode()  # never rotated: services store these identifiers
    return hmac.new(key, value.encode(), hashlib.sha384).hexdigest()


def account_id(account: Account) -> str:
    """FrEduCtId: 96 hex characters, stable for the account, meaningless outside Trousseau."""
    return _hmac(str(account.pk), purpose="FrEduCtId")


def pairwise_id(account: Account, audience: str) -> str:
    """A different stable identifier per service provider (persistent NameID, OIDC pairwise `sub`)."""
    return _hmac(f"{account.pk}|{audience}", purpose="pairwise")[:32]


def ine_hash(ine: str) -> str:
    # Service providers compute the same digest from the INE they hold, so it cannot be keyed.
    return hashlib.md5(ine.strip().upper().encode(), usedforsecurity=False).hexdigest()


def level_code(class_name: str) -> str:
    name = class_name.strip()
    return next((code for prefix, code in LEVELS if name.startswith(prefix)), "")


def _degree(pupil: ClaimsPupil) -> str:
    return "1d" if pupil.school_level == SchoolLevel.ECOLE else "2d"


# The source part of a vector: AC2D, the académie's second-degree directory (SIECLE), whose ELEVE_ID
# and PERSONNE_ID the imports keep in `source_id`. ENTs ignore this part (getJoinKey reads parts 0 and 2).
AAF_SOURCE = "AC2D"


def _join_vector(academie: str, source_id: str) -> str | None:
    """`{AAF}<BCN code>|AC2D|<source_id>`, as ÉduConnect sends it (`{AAF}18|AC2D|1814477`), or None.

    None when the record has no SIECLE identifier (ONDE, a hand-made file) or one that is not all
    digits: no identifier is invented or reshaped, since a made-up number could be somebody else's AAF
    id and the ENT would open that person's account. None, too, for an académie whose BCN code is
    unknown (a hand-typed or misspelt name), rather than a placeholder such as "00": entcore would look
    for `null-<id>` and find nobody, but ESCO's CAS reads only the number (accountsCredentialPattern)
    and prefixes its own académie, so an id from who knows which académie could open the account of
    the person who has that number in the ENT's. Without a vector the ENT joins on `{ECT}` (FrEduCtId)
    or its own linking, as for an ONDE pupil; the operator fixes the school's académie name.
    """
    code = ACADEMIE_CODES.get(academie.strip())
    source_id = source_id.strip()
    if code is None or not (source_id.isascii() and source_id.isdigit()):
        return None
    return f"{{AAF}}{code}|{AAF_SOURCE}|{source_id}"


def join_vectors(account: Account) -> list[str]:
    """The `{AAF}` vectors of the account's own directory records, sorted, without duplicates.

    A pupil: their own record's (ELEVE_ID). A guardian: one per `Guardian` row the account speaks for
    (PERSONNE_ID; several once grouped across schools or académies). Never a child's: entcore logs a
    person into the ENT account matching *any* of their vectors, so a child's vector in a guardian's
    FrEduCtRefId would open the child's ENT account to the parent.
    """
    # A row whose school's last import no longer listed it (`left_at`) is no longer vouched for: no vector.
    records = (
        Pupil.objects.filter(account=account)
        if account.kind == AccountKind.PUPIL
        else Guardian.objects.filter(account_link__account=account)
    )
    rows = records.filter(left_at=None).exclude(source_id="").values_list("school__academie", "source_id")
    return _vectors(rows)


def _vectors(rows: Iterable[tuple[str | None, str]]) -> list[str]:
    vectors = {_join_vector(academie or "", source_id) for academie, source_id in rows}
    return sorted(v for v in vectors if v)


def attributes(
    account: Account, *, release: Release, now: datetime | None = None, records: ClaimsRecords | None = None
) -> dict[str, list[str]]:
    """Friendly name -> values for this account under `release`; empty attributes are left out.

    `records`: the directory's rows for the account, when the caller read them with it (the token
    endpoint); otherwise one statement here: the pupils, their schools and accounts, own records."""
    now = timezone.localtime(now or timezone.now())
    records = records if records is not None else claims_records(account)
    pupils = records.pupils
    ect_id = account_id(account)
    values: dict[str, list[str]] = {
        "FrEduCtId": [ect_id],
        "givenName": [account.first_name],
        "sn": [account.last_name.upper()],
        "FrEduCtDateConnexion": [now.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]],
        "FrEduUrlRetour": [settings.PUBLIC_URL.rstrip("/") + "/idp/profile/Logout"],
        "FrEduCtRefId": [f"{{ECT}}{ect_id}"],
    }
    if account.kind == AccountKind.PUPIL and pupils:
        pupil = pupils[0]
        values["FrEduCtPersonAffiliation"] = ["eleve" + _degree(pupil)]
        values["FrEduCtEleveUAI"] = [pupil.school_uai]
        values["FrEduCtEleveNiveau"] = [level_code(pupil.class_name)]
        values["FrEduCtEleveINEHash"] = [ine_hash(pupil.ine)]
        values["FrEduCtDateNaissance"] = [pupil.birth_date.isoformat()]
    elif account.kind == AccountKind.GUARDIAN:
        values["FrEduCtPersonAffiliation"] = sorted({"resp" + _degree(p) for p in pupils}) or ["resp2d"]
        if release.children:
            ids = children_ids(pupils)
            values[CHILDREN] = ["|".join([ids[p.pk], p.last_name.upper(), p.first_name, p.school_uai]) for p in pupils]
    if release.join:  # the account's own records only, never a child's (join_vectors)
        values["FrEduCtRefId"] += _vectors(records.own_records)
    return {name: [v for v in vals if v] for name, vals in values.items() if any(vals)}


def children_ids(pupils: list[ClaimsPupil]) -> dict[int, str]:
    """The FrEduCtId of each child's own account (ENTs join parent and child on it), read with the
    pupils (`claims_records`). A child without an account (primary school) gets a stable id derived
    from the directory row.
    """
    return {
        p.pk: _hmac(str(p.child_account_id), purpose="FrEduCtId")
        if p.child_account_id is not None
        else _hmac(f"pupil:{p.pk}", purpose="FrEduCtId")
        for p in pupils
    }


def oidc_claims(
    account: Account, *, release: Release, now: datetime | None = None, records: ClaimsRecords | None = None
) -> dict[str, Any]:
    """The same values under their OIDC claim names; single-valued attributes become strings."""
    claims: dict[str, Any] = {}
    for name, vals in attributes(account, release=release, now=now, records=records).items():
        spec = BY_NAME[name]
        if name == CHILDREN:
            claims[spec.oidc_claim] = [
                dict(zip(("id", "family_name", "given_name", "school_uai"), v.split("|"), strict=True)) for v in vals
            ]
        else:
            claims[spec.oidc_claim] = vals if spec.multi else vals[0]
    return claims
