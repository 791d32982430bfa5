import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from tests import factories
from trousseau.directory.models import SchoolLevel
from trousseau.federation import claims

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 9, 1, 7, 45, 12, 345000, tzinfo=ZoneInfo("Europe/Paris"))


def test_pupil_attributes_use_educonnect_names_and_formats():
    account, _, _ = factories.pupil_account(
        ine="123456789AB",
        class_name="5e B",
        birth_date=date(2013, 2, 3),
        school=factories.school(uai="0141234A", academie="Normandie", level=SchoolLevel.COLLEGE),
    )
    values = claims.attributes(account, release=claims.Release(ine=True), now=NOW)
    assert re.fullmatch(r"[0-9a-f]{96}", values["FrEduCtId"][0])
    assert values["FrEduCtPersonAffiliation"] == ["eleve2d"]
    assert values["givenName"] == [account.first_name]
    assert values["sn"] == [account.last_name.upper()]
    assert values["FrEduCtDateConnexion"] == ["2026-09-01 07:45:12.345"]
    assert values["FrEduCtEleveUAI"] == ["0141234A"]
    assert values["FrEduCtEleveNiveau"] == ["2112"]
    assert re.fullmatch(r"[0-9a-f]{32}", values["FrEduCtEleveINEHash"][0])
    assert values["FrEduCtDateNaissance"] == ["2013-02-03"]
    assert values["FrEduCtRefId"] == [f"{{ECT}}{values['FrEduCtId'][0]}", "{AAF}70|0141234A|123456789AB"]
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


def test_a_pupils_clear_ine_goes_only_to_services_registered_for_it():
    account, _, _ = factories.pupil_account(ine="123456789AB")
    for release in (claims.MINIMUM, claims.Release(children=True)):
        values = claims.attributes(account, release=release, now=NOW)
        assert values["FrEduCtRefId"] == [f"{{ECT}}{values['FrEduCtId'][0]}"]
        assert values["FrEduCtEleveINEHash"] == [claims.ine_hash("123456789AB")]
        assert "123456789AB" not in repr(values)


def test_childrens_join_vectors_need_children_and_ine():
    first = factories.pupil(ine="111111111AA")
    second = factories.pupil(ine="222222222BB")
    account, _, _ = factories.guardian_account(children=[first, second])
    for release in (claims.MINIMUM, claims.Release(children=True), claims.Release(ine=True)):
        values = claims.attributes(account, release=release)
        assert values["FrEduCtRefId"] == [f"{{ECT}}{values['FrEduCtId'][0]}"], release
        assert "111111111AA" not in repr(values)
        assert "222222222BB" not in repr(values)
    both = claims.attributes(account, release=claims.Release(children=True, ine=True))
    vectors = [v for v in both["FrEduCtRefId"] if v.startswith("{AAF}")]
    assert [v.rsplit("|", 1)[1] for v in vectors] == ["111111111AA", "222222222BB"]


def test_a_release_policy_describes_itself_minimum_first():
    assert claims.Release() == claims.MINIMUM
    assert claims.MINIMUM.describe() == "identity"
    assert claims.Release(children=True, ine=True).describe() == "identity,children,ine"


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
