"""PDF letters: a page per account, identifiers and fresh passwords in the text, a QR code to the login page."""

from __future__ import annotations

import io

import pytest
import segno
from django.contrib.auth.hashers import check_password
from django.utils import timezone
from pypdf import PdfReader

from tests import factories
from trousseau.accounts.models import AccountState, ActivationLetter, LetterStatus
from trousseau.accounts.services import account_create_for_guardian, account_create_for_pupil
from trousseau.directory.models import Guardianship, SchoolLevel
from trousseau.letters.export import accounts_for_class, accounts_for_pupil, accounts_for_school, letters_issue
from trousseau.letters.pdf import letters_pdf, printable, render_letters_pdf

pytestmark = pytest.mark.django_db


@pytest.fixture
def classroom():
    """A 5e B of two pupils, one with two legal guardians, one guardian shared; a 4e A pupil beside them."""
    school = factories.school(uai="0145678B", name="Collège Jean-Moulin")
    lea = factories.pupil(school=school, class_name="5e B", last_name="Lefèvre", first_name="Léa")
    hugo = factories.pupil(school=school, class_name="5e B", last_name="Martin", first_name="Hugo")
    other = factories.pupil(school=school, class_name="4e A", last_name="Roux", first_name="Zoé")
    sophie = factories.guardian(children=[lea, hugo], last_name="Lefèvre", first_name="Sophie")
    marc = factories.guardian(children=[lea], last_name="Lefèvre", first_name="Marc")
    contact = factories.guardian(children=[], last_name="Diallo", first_name="Awa")
    Guardianship.objects.create(guardian=contact, pupil=hugo, is_legal_representative=False)
    accounts = {p.first_name: account_create_for_pupil(pupil=p) for p in (lea, hugo, other)}
    accounts |= {g.first_name: account_create_for_guardian(guardian=g) for g in (sophie, marc, contact)}
    return school, lea, accounts


def pages_text(pdf: bytes) -> list[str]:
    """Each page's text, lines joined (wrapping may cut a sentence anywhere)."""
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages]


def test_a_class_letters_one_page_per_account_with_identifiers_and_passwords(classroom, settings):
    settings.PUBLIC_URL = "https://trousseau.example.fr"
    school, _, _ = classroom
    selected = accounts_for_class(school, "5e B")
    # Each pupil then their legal guardians; the shared guardian once; not the contact nor the 4e A.
    assert [a.first_name for a in selected] == ["Léa", "Marc", "Sophie", "Hugo"]
    letters = letters_issue(selected)
    pdf = render_letters_pdf(letters)
    texts = pages_text(pdf)
    assert len(texts) == len(selected) == 4
    for text, letter in zip(texts, letters, strict=True):
        assert letter.identifier in text
        assert letter.password in text
        assert "Activation du compte" in text
        assert "Sur la page de connexion de l'ENT" in text
        assert "mire" not in text
        assert "UAI" not in text
        assert "À la première connexion" in text
        assert "https://trousseau.example.fr/login" in text
        assert "Collège Jean-Moulin" in text
    assert "élève en 5e B" in texts[0]
    assert "votre date de naissance" in texts[0]
    assert "responsable de : Léa LEFÈVRE (5e B)" in texts[1]
    assert "la date de naissance de votre enfant" in texts[1]


def test_passwords_in_the_pdf_open_the_letters_and_validity_is_90_days(classroom):
    _, lea, _ = classroom
    [account] = accounts_for_pupil(lea, guardians=False)
    [letter] = letters_issue([account])
    stored = ActivationLetter.objects.get(account=account, revoked_at=None)
    assert check_password(letter.password, stored.password_hash)
    assert (stored.expires_at - stored.issued_at).days == 90
    expiry = timezone.localtime(stored.expires_at).strftime("%d/%m/%Y")
    assert f"valable jusqu'au {expiry}" in pages_text(render_letters_pdf([letter]))[0]


def test_qr_code_decodes_to_the_login_page(classroom, settings):
    zxingcpp = pytest.importorskip("zxingcpp")
    settings.PUBLIC_URL = "http://127.0.0.1:8000"
    _, lea, _ = classroom
    pdf = letters_pdf(accounts_for_pupil(lea))
    for page in PdfReader(io.BytesIO(pdf)).pages:
        [image] = page.images
        [code] = zxingcpp.read_barcodes(image.image)
        assert code.text == "http://127.0.0.1:8000/login"
        assert code.format == zxingcpp.BarcodeFormat.QRCode


def test_qr_matrix_matches_segno_encoding(classroom, settings):
    """Without a decoder: the image in the PDF is exactly segno's code for the login URL."""
    settings.PUBLIC_URL = "http://127.0.0.1:8000"
    _, lea, _ = classroom
    pdf = letters_pdf(accounts_for_pupil(lea, guardians=False))
    [image] = PdfReader(io.BytesIO(pdf)).pages[0].images
    expected = io.BytesIO()
    segno.make("http://127.0.0.1:8000/login", error="m").save(expected, kind="png", scale=8, border=4)
    from PIL import Image, ImageChops

    got, want = image.image.convert("L"), Image.open(expected).convert("L")
    assert got.size == want.size
    assert ImageChops.difference(got, want).getbbox() is None


def test_reissuing_revokes_the_previous_password(classroom):
    _, lea, _ = classroom
    [account] = accounts_for_pupil(lea, guardians=False)
    [first] = letters_issue([account])
    [second] = letters_issue([account])
    assert first.password != second.password
    letters = list(ActivationLetter.objects.filter(account=account).order_by("issued_at", "pk"))
    assert [lt.status() for lt in letters] == [LetterStatus.REVOKED, LetterStatus.VALID]
    assert not check_password(first.password, letters[1].password_hash)


def test_school_selection_skips_active_and_disabled_accounts(classroom):
    school, _, accounts = classroom
    accounts["Hugo"].state = AccountState.ACTIVE
    accounts["Hugo"].save()
    accounts["Zoé"].state = AccountState.DISABLED
    accounts["Zoé"].save()
    names = [a.first_name for a in accounts_for_school(school)]
    assert names == ["Léa", "Marc", "Sophie"]  # Zoé (4e A) disabled, Hugo active, his mother comes with Léa
    everyone = accounts_for_school(school, guardians=False, only_provisional=False)
    assert [a.first_name for a in everyone] == ["Léa", "Hugo"]


def test_primary_school_letters_go_to_guardians_only():
    school = factories.school(level=SchoolLevel.ECOLE)
    child = factories.pupil(school=school, class_name="CP")
    account = account_create_for_guardian(guardian=factories.guardian(children=[child]))
    assert accounts_for_class(school, "CP") == [account]


def test_names_outside_the_pdf_fonts_keep_their_letters():
    assert printable("Nguyễn Lefèvre") == "Nguyen Lefèvre"
    assert printable("Łukasz") == "Lukasz"


def test_a_guardians_letter_says_the_three_ways_and_whom_to_call(classroom):
    school, _lea, accounts = classroom
    school.contact_phone, school.contact_email = "02 31 00 00 00", "ce.0145678b@ac-normandie.fr"
    school.contact_hours = "du lundi au vendredi, de 8 h 30 à 12 h et de 13 h 30 à 17 h"
    school.save()
    guardian, pupil = pages_text(letters_pdf([accounts["Sophie"], accounts["Hugo"]]))
    assert "Par SMS : sur la page de connexion, cliquez sur « Je n'ai pas de compte »" in guardian
    assert "Avec FranceConnect" in guardian
    assert "Besoin d'aide ? Contactez Collège Jean-Moulin : 02 31 00 00 00 · ce.0145678b@ac-normandie.fr" in guardian
    assert "Par SMS" not in pupil  # a pupil activates with the letter only
    assert "FranceConnect" not in pupil


def test_an_ecoles_letter_speaks_of_the_ecole_without_pronote():
    ecole = factories.school(level=SchoolLevel.ECOLE, name="École Jules-Ferry")
    child = factories.pupil(school=ecole, class_name="CE2", first_name="Jules")
    (text,) = pages_text(letters_pdf([account_create_for_guardian(guardian=factories.guardian(children=[child]))]))
    assert "services numériques de l'école (ENT, téléservices)" in text
    assert "Pronote" not in text
    assert "établissement" not in text
    assert "Contactez l'école" in text


def test_the_longest_letter_still_ends_above_its_footer():
    """Three children with long names, a long contact: the text stays on its one page."""
    from reportlab.pdfgen.canvas import Canvas

    from trousseau.letters import pdf
    from trousseau.letters.tagging import Tagger

    school = factories.school(
        name="Cité scolaire internationale Marguerite-Yourcenar-et-Léopold-Sédar-Senghor",
        contact_phone="+33 2 31 00 00 00",
        contact_email="secretariat.eleves.cite-scolaire-internationale@ac-normandie.fr",
        contact_hours="du lundi au vendredi de 8 h 00 à 12 h 00 et de 13 h 30 à 17 h 30, sauf le mercredi après-midi",
    )
    children = [
        factories.pupil(school=school, class_name=f"2nde {n}", last_name="Dupont-Moreau de La Villemarqué",
                        first_name=f"Marie-Éléonore-Anaïs {n}")
        for n in range(3)
    ]  # fmt: skip
    account = account_create_for_guardian(guardian=factories.guardian(children=children, last_name="Dupont-Moreau"))
    (letter,) = letters_issue([account])
    end = pdf._page(Tagger(Canvas(io.BytesIO()), lang="fr"), letter)
    assert end > pdf.FOOTER_Y + 10
