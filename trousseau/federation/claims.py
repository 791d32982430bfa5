"""The one mapping from an account to what service providers receive (SAML attributes, OIDC claims).

SAML and OpenID Connect never map accounts themselves: both call `attributes()` (and `oidc_claims()`
is a rename of the same values), so an ENT sees the same identity whichever protocol it speaks.
Names and OIDs are ÉduConnect's (research/educonnect.md §3): `Name="urn:oid:…"` with the
`FrEduCt…` friendly name. The children list is Trousseau's own extension.

What a service receives beyond the account's own identity is its `Release` policy, set by the operator
at registration and the minimum by default: a guardian's children (the list and their join vectors)
only to services registered for children, and a clear INE (inside the `{AAF}` join vectors) only to
services registered for it. Every other service gets the `{ECT}` vector and the INE's digest.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone

from trousseau.accounts.models import Account, AccountKind
from trousseau.directory.models import Pupil, SchoolLevel

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

# BCN codes of the académies, used in the `{AAF}` join vectors ENTs match on (entcore getJoinKey).
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

    children: bool = False  # a guardian's children: FrEduCtEnfant, and their join vectors with `ine`
    ine: bool = False  # the clear INE, inside the `{AAF}` join vectors ENTs match their directory on

    def describe(self) -> str:
        """The policy as the registration commands print it: `identity`, then `children` and `ine` if on."""
        extras = [name for name, on in (("children", self.children), ("ine", self.ine)) if on]
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


def _degree(pupil: Pupil) -> str:
    return "1d" if pupil.school.level == SchoolLevel.ECOLE else "2d"


def _join_vector(pupil: Pupil) -> str:
    code = ACADEMIE_CODES.get(pupil.school.academie, "00")
    return f"{{AAF}}{code}|{pupil.school.uai}|{pupil.ine}"


def attributes(account: Account, *, release: Release, now: datetime | None = None) -> dict[str, list[str]]:
    """Friendly name -> values for this account under `release`; empty attributes are left out."""
    now = timezone.localtime(now or timezone.now())
    pupils = list(account.pupils().select_related("school").order_by("birth_date", "pk"))
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
        values["FrEduCtEleveUAI"] = [pupil.school.uai]
        values["FrEduCtEleveNiveau"] = [level_code(pupil.class_name)]
        values["FrEduCtEleveINEHash"] = [ine_hash(pupil.ine)]
        values["FrEduCtDateNaissance"] = [pupil.birth_date.isoformat()]
        if release.ine:  # else only the digest above: the INE is the pupil's national identifier
            values["FrEduCtRefId"].append(_join_vector(pupil))
    elif account.kind == AccountKind.GUARDIAN:
        values["FrEduCtPersonAffiliation"] = sorted({"resp" + _degree(p) for p in pupils}) or ["resp2d"]
        if release.children and release.ine:  # each vector is a child's clear INE
            values["FrEduCtRefId"] += [_join_vector(p) for p in pupils]
        if release.children:
            ids = children_ids(pupils)
            values[CHILDREN] = ["|".join([ids[p.pk], p.last_name.upper(), p.first_name, p.school.uai]) for p in pupils]
    return {name: [v for v in vals if v] for name, vals in values.items() if any(vals)}


def children_ids(pupils: list[Pupil]) -> dict[int, str]:
    """The FrEduCtId of each child's own account (ENTs join parent and child on it), in one query.

    A child without an account (primary school) gets a stable id derived from the directory row.
    """
    accounts = dict(Account.objects.filter(pupil__in=pupils).values_list("pupil_id", "pk"))
    return {
        p.pk: _hmac(str(accounts[p.pk]), purpose="FrEduCtId")
        if p.pk in accounts
        else _hmac(f"pupil:{p.pk}", purpose="FrEduCtId")
        for p in pupils
    }


def oidc_claims(account: Account, *, release: Release, now: datetime | None = None) -> dict[str, Any]:
    """The same values under their OIDC claim names; single-valued attributes become strings."""
    claims: dict[str, Any] = {}
    for name, vals in attributes(account, release=release, now=now).items():
        spec = BY_NAME[name]
        if name == CHILDREN:
            claims[spec.oidc_claim] = [
                dict(zip(("id", "family_name", "given_name", "school_uai"), v.split("|"), strict=True)) for v in vals
            ]
        else:
            claims[spec.oidc_claim] = vals if spec.multi else vals[0]
    return claims
