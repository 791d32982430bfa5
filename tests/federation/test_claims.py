import json
import re
from datetime import date, datetime
from itertools import product
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone

from tests import factories
from trousseau.accounts.models import Account
from trousseau.accounts.self_registration import account_absorb
from trousseau.directory.models import Guardian, SchoolLevel
from trousseau.federation import claims

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 9, 1, 7, 45, 12, 345000, tzinfo=ZoneInfo("Europe/Paris"))
EVERY_RELEASE = [claims.Release(children=c, join=j) for c, j in product((False, True), repeat=2)]


def test_pupil_attributes_use_educonnect_names_and_formats():
    account, _, _ = factories.pupil_account(
        ine="123456789AB",
        class_name="5e B",
        birth_date=date(2013, 2, 3),
        school=factories.school(uai="0141234A", academie="Normandie", level=SchoolLevel.COLLEGE),
        source_id="1814477",
    )
    values = claims.attributes(account, release=claims.Release(join=True), now=NOW)
    assert re.fullmatch(r"[0-9a-f]{96}", values["FrEduCtId"][0])
    assert values["FrEduCtPersonAffiliation"] == ["eleve2d"]
    assert values["givenName"] == [account.first_name]
    assert values["sn"] == [account.last_name.upper()]
    assert values["FrEduCtDateConnexion"] == ["2026-09-01 07:45:12.345"]
    assert values["FrEduCtEleveUAI"] == ["0141234A"]
    assert values["FrEduCtEleveNiveau"] == ["2112"]
    assert re.fullmatch(r"[0-9a-f]{32}", values["FrEduCtEleveINEHash"][0])
    assert values["FrEduCtDateNaissance"] == ["2013-02-03"]
    assert values["FrEduCtRefId"] == [f"{{ECT}}{values['FrEduCtId'][0]}", "{AAF}70|AC2D|1814477"]
    assert "FrEduCtEnfant" not in values


def test_guardian_affiliations_and_children_only_when_released():
    ecole = factories.school(level=SchoolLevel.ECOLE)
    small = factories.pupil(school=ecole, first_name="Noé")
    big = factories.pupil(first_name="Inès")
    account, _, _ = factories.guardian_account(children=[small, big])
    values = claims.attributes(account, release=claims.MINIMUM)
    assert values["FrEduCtPersonAffiliation"] == ["resp1d", "resp2d"]
    assert "FrEduCtEnfant" not in values
    released = claims.attributes(account, release=claims.Release(children=True))
    assert len(released["FrEduCtEnfant"]) == 2
    assert all(v.count("|") == 3 for v in released["FrEduCtEnfant"])


def aaf(values: dict[str, list[str]]) -> list[str]:
    return [v for v in values.get("FrEduCtRefId", []) if v.startswith("{AAF}")]


def test_a_pupil_from_siecle_gets_its_vector_only_with_join():
    orleans = factories.school(academie="Orléans-Tours")
    account, _, _ = factories.pupil_account(ine="123456789AB", source_id="1814477", school=orleans)
    for release in (claims.MINIMUM, claims.Release(children=True)):
        values = claims.attributes(account, release=release, now=NOW)
        assert values["FrEduCtRefId"] == [f"{{ECT}}{values['FrEduCtId'][0]}"]
        assert values["FrEduCtEleveINEHash"] == [claims.ine_hash("123456789AB")]
    joined = claims.attributes(account, release=claims.Release(join=True), now=NOW)
    assert aaf(joined) == ["{AAF}18|AC2D|1814477"]  # entcore's getJoinKey: ORLEANS-TOURS-1814477
    assert claims.oidc_claims(account, release=claims.Release(join=True))["FrEduCtRefId"][1:] == aaf(joined)


def grouped_guardian() -> tuple[Account, list[str]]:
    """One person in two schools of two académies, grouped into one account; the children have ELEVE_IDs."""
    caen = factories.school(academie="Normandie")
    orleans = factories.school(academie="Orléans-Tours")
    small = factories.pupil(school=caen, source_id="7000001")
    big = factories.pupil(school=orleans, source_id="1800001")
    keep, _, _ = factories.guardian_account(children=[small], school=caen, source_id="7000123")
    other, _, _ = factories.guardian_account(children=[big], school=orleans, source_id="1800456")
    account_absorb(keep=keep, other=other)
    return keep, ["7000001", "1800001"]


def test_a_guardian_grouped_across_two_schools_gets_both_own_vectors_and_no_childs():
    account, child_ids = grouped_guardian()
    for release in (claims.MINIMUM, claims.Release(children=True)):
        assert aaf(claims.attributes(account, release=release)) == []
    for release in (claims.Release(join=True), claims.Release(children=True, join=True)):
        values = claims.attributes(account, release=release)
        assert aaf(values) == ["{AAF}18|AC2D|1800456", "{AAF}70|AC2D|7000123"]  # sorted
        text = json.dumps([values, claims.oidc_claims(account, release=release)], ensure_ascii=False)
        assert not any(child_id in text for child_id in child_ids)
    children = claims.oidc_claims(account, release=claims.Release(children=True, join=True))["children"]
    assert len(children) == 2
    assert all(set(child) == {"id", "family_name", "given_name", "school_uai"} for child in children)


def test_the_same_personne_id_in_two_schools_gives_one_vector():
    caen, rouen = factories.school(academie="Normandie"), factories.school(academie="Normandie")
    keep, _, _ = factories.guardian_account(school=caen, source_id="7000123")
    other, _, _ = factories.guardian_account(school=rouen, source_id="7000123")
    account_absorb(keep=keep, other=other)
    assert aaf(claims.attributes(keep, release=claims.Release(join=True))) == ["{AAF}70|AC2D|7000123"]


@pytest.mark.parametrize(
    ("source_id", "academie"),
    [
        ("", "Normandie"),  # ONDE (its extractions carry no identifier) or a hand-made file
        ("AB1234", "Normandie"),  # not SIECLE's numeric id: nothing is invented or reshaped
        ("12 34", "Normandie"),
        ("١٢٣", "Normandie"),  # digits, but not ASCII ones
        ("1814477", "Académie inconnue"),  # no BCN code: no vector rather than "00"
    ],
)
def test_records_without_a_usable_siecle_id_or_academie_get_no_vector(source_id, academie):
    school = factories.school(academie=academie, level=SchoolLevel.ECOLE)
    pupil, _, _ = factories.pupil_account(school=school, source_id=source_id)
    guardian, _, _ = factories.guardian_account(children=[pupil.pupil], school=school, source_id=source_id)
    for account in (pupil, guardian):
        for release in EVERY_RELEASE:
            values = claims.attributes(account, release=release)
            assert values["FrEduCtRefId"] == [f"{{ECT}}{values['FrEduCtId'][0]}"], (account, release)


def test_guardian_rows_made_by_hand_or_gone_from_the_school_give_no_vector():
    by_hand, _, _ = factories.guardian_account(source_id="7000123")  # no school: no académie
    assert aaf(claims.attributes(by_hand, release=claims.Release(join=True))) == []
    left, _, _ = factories.guardian_account(school=factories.school(), source_id="7000124")
    Guardian.objects.filter(account_link__account=left).update(left_at=timezone.now())  # the last import lacked it
    assert aaf(claims.attributes(left, release=claims.Release(join=True))) == []


def test_the_ine_is_in_no_claim_whatever_the_release():
    ines = ["123456789AB", "111111111AA", "222222222BB"]
    pupil, _, _ = factories.pupil_account(ine=ines[0], source_id="1814477")
    first = factories.pupil(ine=ines[1], source_id="1814478")
    second = factories.pupil(ine=ines[2], school=factories.school(academie="Créteil"))
    guardian, _, _ = factories.guardian_account(children=[pupil.pupil, first, second], source_id="7000123")
    for account, release in product((pupil, guardian), EVERY_RELEASE):
        text = json.dumps(
            [claims.attributes(account, release=release), claims.oidc_claims(account, release=release)],
            ensure_ascii=False,
        ).upper()
        assert not any(ine in text for ine in ines), (account, release)
    assert claims.attributes(pupil, release=claims.Release(join=True))["FrEduCtEleveINEHash"] == [
        claims.ine_hash(ines[0])
    ]


def test_a_release_policy_describes_itself_minimum_first():
    assert claims.Release() == claims.MINIMUM
    assert claims.MINIMUM.describe() == "identity"
    assert claims.Release(children=True, join=True).describe() == "identity,children,join"


def test_child_id_is_the_childs_own_account_id():
    pupil_account, _, _ = factories.pupil_account()
    guardian, _, _ = factories.guardian_account(children=[pupil_account.pupil])
    child = claims.oidc_claims(guardian, release=claims.Release(children=True))["children"][0]
    assert child["id"] == claims.account_id(pupil_account)
    assert child["school_uai"] == pupil_account.pupil.school.uai


def test_oidc_claims_are_the_same_values_renamed():
    account, _, _ = factories.pupil_account()
    saml = claims.attributes(account, release=claims.MINIMUM, now=NOW)
    oidc = claims.oidc_claims(account, release=claims.MINIMUM, now=NOW)
    assert oidc["given_name"] == saml["givenName"][0]
    assert oidc["family_name"] == saml["sn"][0]
    assert oidc["FrEduCtPersonAffiliation"] == saml["FrEduCtPersonAffiliation"]
    assert oidc["birthdate"] == saml["FrEduCtDateNaissance"][0]


def test_pairwise_ids_differ_per_audience_and_are_stable():
    account, _, _ = factories.guardian_account()
    a = claims.pairwise_id(account, "https://ent.example/sp")
    assert a == claims.pairwise_id(account, "https://ent.example/sp")
    assert a != claims.pairwise_id(account, "https://other.example/sp")
    assert a != claims.account_id(account)[:32]


def test_the_claims_read_the_same_children_as_account_pupils():
    """`claims_records` (one hand-written statement) against `Account.pupils()` (the ORM's): legal
    representatives only, an unresolved contest hides the child, a resolved one no longer does."""
    from trousseau.accounts.models import ContestedLink
    from trousseau.accounts.selectors import claims_records
    from trousseau.directory.models import Guardianship

    kept, contested, resolved, not_legal = (factories.pupil(birth_date=date(2012, 1, n)) for n in (4, 3, 2, 1))
    account, _, _ = factories.guardian_account(children=[kept, contested, resolved, not_legal])
    links = {g.pupil_id: g for g in Guardianship.objects.filter(pupil__in=[kept, contested, resolved, not_legal])}
    links[not_legal.pk].is_legal_representative = False
    links[not_legal.pk].save()
    ContestedLink.objects.create(guardianship=links[contested.pk])
    ContestedLink.objects.create(guardianship=links[resolved.pk], resolved_at=timezone.now())
    expected = list(account.pupils().order_by("birth_date", "pk").values_list("pk", flat=True))
    assert expected == [resolved.pk, kept.pk]
    assert [p.pk for p in claims_records(account).pupils] == expected
    child, _, _ = factories.pupil_account()
    assert [p.pk for p in claims_records(child).pupils] == [child.pupil_id]


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="a LATERAL join: PostgreSQL only")
def test_the_rows_read_with_the_account_are_claims_records():
    """The token endpoint reads the claims' rows in its one statement (claims_records_lateral); they must
    be those `claims_records` reads alone: every kind of account, contested and left rows included."""
    from trousseau.accounts.models import AccountKind, ContestedLink
    from trousseau.accounts.selectors import RECORD_COLUMNS, claims_records, claims_records_lateral, records_of
    from trousseau.directory.models import Guardianship

    def read_with(account: Account):
        columns = ", ".join(f"r{n}" for n in range(RECORD_COLUMNS))
        sql = (
            f"SELECT rec.* FROM accounts_account ca LEFT JOIN LATERAL ({claims_records_lateral('ca')}) "  # noqa: S608 - our SQL
            f"AS rec({columns}) ON TRUE WHERE ca.id = %s"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [AccountKind.PUPIL.value, AccountKind.PUPIL.value, account.pk])
            rows = [row for row in cursor.fetchall() if row[0] is not None]
        return records_of(account, rows)

    grouped, _ = grouped_guardian()
    kept, contested = factories.pupil(), factories.pupil()
    parent, _, _ = factories.guardian_account(children=[kept, contested], source_id="7000999")
    link = Guardianship.objects.get(pupil=contested)
    ContestedLink.objects.create(guardianship=link)
    pupil, _, _ = factories.pupil_account(source_id="1814477")
    lone, _, _ = factories.guardian_account()
    for account in (grouped, parent, pupil, lone):
        assert read_with(account) == claims_records(account), account.kind
    assert read_with(parent).pupils
    assert read_with(grouped).own_records
