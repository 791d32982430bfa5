"""axe-core finds nothing on the families' pages in each of the six languages, at desktop and phone widths.

Each journey is walked once, in French (the steps find their way by the French words); on each page it
reaches, the page is shown again in every language (the language cookie the header's switch sets, then
a reload of that same step) and axe runs at both widths (the same document resized, which the DSFR
follows as on a real rotation). Pages that are the answer to a form (errors, "Demande enregistrée", the
email and "Ce n'était pas moi" links) are asked again in each language, with language-free locators.
The account's secondary tools (mobile, password, grouping, data) are checked in French and Arabic only.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from functools import partial
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.base import AxeResults
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from playwright.sync_api import Page, ViewportSize, expect

from tests.browser import test_franceconnect as with_franceconnect
from tests.browser.conftest import Demo, Phone
from tests.browser.guardians import activate, single_record_guardian
from tests.browser.steps import (
    MIRE_TITLE,
    answer_for_child,
    choose,
    expect_account_home,
    expect_activation_page,
    fill_activation,
    fill_identity,
    log_in,
    national,
    new_password_field,
    submit_activation,
    type_code,
    wait_for_dsfr,
)
from tests.browser.test_franceconnect import choose_identity_at_franceconnect, demo_guardian
from tests.signin.standin import StandIn
from trousseau.accounts.change_notices import EMAIL, report_link
from trousseau.accounts.models import Account, AccountState
from trousseau.directory.models import Guardian, Pupil
from trousseau.flows.email_verification.transitions import make_link

pytestmark = [
    pytest.mark.browser,
    # Templates and styles do not depend on the database: `make test` walks these pages once, in its
    # SQLite pass, and keeps its PostgreSQL pass for what PostgreSQL changes (CI time, 2 cores).
    pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")), reason="checked in the SQLite pass"),
]

# The FranceConnect stand-in, and Trousseau configured for it, as test_franceconnect.py has them.
standin = with_franceconnect.standin
franceconnect = with_franceconnect.franceconnect

LANGUAGES = [code for code, _name in settings.LANGUAGES]
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 375, "height": 740}
PASSWORD = "Cartable#Violet42"
NEW_PASSWORD = "Trousse!Orange73"
BY_SMS = "Par SMS (numéro enregistré par l'établissement, ou votre numéro vérifié)"
SUBMIT = "main form button[type=submit]"
AXE = Axe()
NEXT_FRAMES = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"


def choose_language(page: Page, lang: str) -> None:
    """What the header's switch leaves behind: Django's language cookie, for the whole site."""
    origin = re.match(r"https?://[^/]+", page.url)
    assert origin is not None
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": lang, "url": origin.group(0) + "/"}])


def axe_at_both_widths(page: Page, what: str) -> None:
    """`expect_accessible` at desktop then phone width, axe-core injected once for both (it is big)."""
    page.set_viewport_size(DESKTOP)
    wait_for_dsfr(page)
    page.evaluate(AXE.axe_script)
    _no_violation(page, what)
    page.set_viewport_size(PHONE)
    page.evaluate(NEXT_FRAMES)  # the DSFR's layout follows the resize
    _no_violation(page, f"{what} on a phone")
    page.set_viewport_size(DESKTOP)


def _no_violation(page: Page, what: str) -> None:
    results = AxeResults(page.evaluate("axe.run({resultTypes: ['violations']})"))
    assert results.response["url"] == page.url
    assert results.response["testEngine"]["name"] == "axe-core"
    assert results.violations_count == 0, f"{what} ({page.url}):\n{results.generate_report()}"


def in_every_language(
    page: Page, what: str, show: Callable[[], object] | None = None, *, languages: Sequence[str] = LANGUAGES
) -> None:
    """The page in each language at both widths: `show` asks for it again (a form's answer), else a reload.

    Back in French afterwards, so that the walk goes on with the French words.
    """
    for lang in languages:
        choose_language(page, lang)
        if show is None:
            page.reload()
        else:
            show()
        expect(page.locator("html")).to_have_attribute("lang", lang)
        expect(page.locator("html")).to_have_attribute("dir", "rtl" if lang == "ar" else "ltr")
        axe_at_both_widths(page, f"{what} in {lang}")
    choose_language(page, "fr")
    if show is None:
        page.reload()


def open_in_every_language(page: Page, pages: dict[str, str], *, languages: Sequence[str] = LANGUAGES) -> None:
    """Pages reached by their address: each opened once per language, axe at both widths."""
    for what, path in pages.items():
        in_every_language(page, what, partial(_open, page, path), languages=languages)


def _open(page: Page, path: str) -> None:
    """Open `path` and stay there: a redirect (to the mire, say) would check another page than meant."""
    page.goto(path)
    where = urlsplit(page.url)
    assert f"{where.path}?{where.query}".removesuffix("?") == path


def _path(url: str) -> str:
    return urlsplit(url).path


def _heading(page: Page, name: str) -> None:
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()


# --- The entry pages, the activation page, the account pages ----------------------------------------------


def test_the_entry_pages_and_the_activation_in_every_language(page: Page, demo: Demo) -> None:
    page.goto("/")
    open_in_every_language(
        page,
        {
            "the mire": "/",
            "Je n'ai pas encore d'identifiant": "/inscription/",
            "lost identifier": "/identifiant-perdu/",
            "lost password": "/mot-de-passe-perdu/",
            "a lost password link that is not valid": "/mot-de-passe-perdu/lien/MQ/nouveau/",
            "the request-gone page": "/idp/profile/SAML2/Redirect/SSO?execution=e1s1",
        },
    )
    guardian = demo.guardians[0]
    page.context.clear_cookies()
    log_in(page, guardian.identifier, guardian.provisional_password)
    expect_activation_page(page, guardian.identifier)
    in_every_language(page, "the activation page")
    fill_activation(page, password=PASSWORD, birth_date=guardian.birth_date, email="parent@famille.example.fr")
    submit_activation(page)
    _heading(page, "Votre compte est activé")
    in_every_language(page, "Votre compte est activé (activation by letter)")


def test_the_account_pages_in_every_language(page: Page, demo: Demo) -> None:
    guardian = single_record_guardian(demo)
    activate(guardian, password=PASSWORD)
    log_in(page, guardian.identifier, PASSWORD)
    expect_account_home(page, guardian.identifier)
    open_in_every_language(
        page,
        {
            "the account page": "/compte/",
            "my services": "/compte/services/",
            "the security history": "/compte/historique/",
            "the email change page": "/compte/email/",
            "Vous êtes déjà connecté": "/",
        },
    )
    expect(page.locator("main")).to_contain_text(f"({guardian.identifier})")  # "Bonjour … (identifier)", any language
    # The account's other tools: French and Arabic (right to left) only, to keep the run short.
    open_in_every_language(
        page,
        {
            "the mobile change page": "/compte/mobile/",
            "the password change page": "/compte/mot-de-passe/",
            "adding pupils from another account": "/compte/regrouper/",
            "my data": "/compte/mes-donnees/",
        },
        languages=("fr", "ar"),
    )


# --- "Je n'ai pas de compte", and the links of the emails a family receives ---------------------------------


def test_self_registration_in_every_language(page: Page, demo: Demo, phone: Phone) -> None:
    letter = single_record_guardian(demo)
    records = Guardian.objects.filter(mobile=letter.phone)
    children = list(Pupil.objects.filter(guardianships__guardian__in=records).distinct())
    assert children

    page.goto("/inscription/identite/")
    _heading(page, "Je confirme mon identité")
    in_every_language(page, "the identity step")

    def identity_with_errors() -> None:
        page.goto("/inscription/identite/")
        page.locator(SUBMIT).click()
        expect(page.locator("main .fr-error-text").first).to_be_visible()

    in_every_language(page, "the identity step with errors", identity_with_errors)

    page.goto("/inscription/identite/")
    fill_identity(page, last_name=letter.last_name, first_name=letter.first_name, mobile=national(letter.phone))
    _heading(page, "Un code de sécurité a été envoyé")
    in_every_language(page, "the SMS code step")
    type_code(page, Phone.code(phone.wait_for(letter.phone)))
    _heading(page, "Je confirme mon lien avec les élèves")
    in_every_language(page, "the children's birth dates step")
    for child in children:
        answer_for_child(page, child.first_name, legal=True, birth_date=child.birth_date)
    page.get_by_role("button", name="Continuer").click()
    _heading(page, "Notez votre identifiant")
    in_every_language(page, "the new password step")
    new_password_field(page).fill(PASSWORD)
    page.get_by_label("Confirmation du nouveau mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Terminer").click()
    _heading(page, "Votre compte a été activé avec succès")
    in_every_language(page, "Votre compte a été activé avec succès")
    assert Account.objects.get(identifier=letter.identifier).state == AccountState.ACTIVE


def test_the_links_in_emails_in_every_language(page: Page, demo: Demo) -> None:
    """ "Confirmer mon adresse" and "Ce n'était pas moi": each link serves once, so one link per language."""
    account = activate(single_record_guardian(demo), password=PASSWORD)
    page.goto("/")
    for lang in LANGUAGES:
        # A new address awaiting its link in each language: the link serves once.
        choose_language(page, lang)
        address = f"parent.{lang}@famille.example.fr"
        Account.objects.filter(pk=account.pk).update(pending_email=address)
        page.goto(_path(make_link(account, address)))
        axe_at_both_widths(page, f"the email confirmation page in {lang}")
        page.locator("main form button").click()
        expect(page.locator("main a.fr-btn[href='/compte/services/']")).to_be_visible()
        assert Account.objects.get(pk=account.pk).email == address
        axe_at_both_widths(page, f"the email confirmed page in {lang}")
    choose_language(page, "fr")
    page.goto("/email/verifier/pas-un-lien/")
    in_every_language(page, "the email link that is not valid")

    # Last: "Ce n'était pas moi" ends this browser's session.
    for lang in LANGUAGES:
        choose_language(page, lang)
        link = _path(report_link(account, what=EMAIL, old="", new=f"inconnu.{lang}@exemple.fr"))
        page.goto(link)
        axe_at_both_widths(page, f"the 'Ce n'était pas moi' page in {lang}")
        page.locator("main form button").click()
        expect(page.locator("main form")).to_have_count(0)
        expect(page.locator("main")).to_contain_text(account.identifier)
        axe_at_both_widths(page, f"the account secured page in {lang}")
        page.goto(link)  # used already
        expect(page.locator("main form")).to_have_count(0)
        expect(page.locator("main")).not_to_contain_text(account.identifier)
        axe_at_both_widths(page, f"the used report link in {lang}")


# --- "Identifiant perdu", "Mot de passe perdu" --------------------------------------------------------------


def test_recovery_answers_and_steps_in_every_language(page: Page, demo: Demo, phone: Phone) -> None:
    letter = single_record_guardian(demo)
    activate(letter, password=PASSWORD)
    page.goto("/")

    def identifier_answer() -> None:
        page.goto("/identifiant-perdu/")
        page.locator("main input[name=contact]").fill("personne@exemple.fr")
        page.locator(SUBMIT).click()
        expect(page.locator("#recovery-answer")).to_be_visible()

    def link_answer() -> None:
        page.goto("/mot-de-passe-perdu/")
        page.locator("main input[name=identifier]").fill("x.personne99")
        page.locator("main input[name=channel][value=email]").check(force=True)
        page.locator(SUBMIT).click()
        expect(page.locator("#recovery-answer")).to_be_visible()

    in_every_language(page, "the lost identifier answer", identifier_answer)
    in_every_language(page, "the lost password answer (email)", link_answer)

    page.goto("/mot-de-passe-perdu/")
    page.get_by_label("Identifiant").fill(letter.identifier)
    choose(page, BY_SMS)
    page.get_by_role("button", name="Continuer").click()
    _heading(page, "Je saisis le code de sécurité")
    in_every_language(page, "the lost password code step")
    type_code(page, Phone.code(phone.wait_for(letter.phone)))
    _heading(page, "Choisissez un nouveau mot de passe")
    in_every_language(page, "the lost password new password step")
    new_password_field(page).fill(NEW_PASSWORD)
    page.get_by_label("Confirmation du nouveau mot de passe").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Changer mon mot de passe").click()
    _heading(page, MIRE_TITLE)
    expect(page.get_by_role("status")).to_contain_text("Votre mot de passe a été modifié.")
    axe_at_both_widths(page, "the mire saying the password changed")


# --- FranceConnect's first login ----------------------------------------------------------------------------


def test_franceconnect_first_login_in_every_language(
    page: Page, demo: Demo, phone: Phone, franceconnect: StandIn
) -> None:
    sophie = demo_guardian(demo, "Sophie", "Dupont")
    children = list(Account.objects.get(identifier=sophie.identifier).pupils())
    page.goto("/")
    page.get_by_role("link", name="S'identifier avec FranceConnect").click()
    choose_identity_at_franceconnect(page, franceconnect, "Sophie DUPONT")
    _heading(page, "Première connexion avec FranceConnect")
    in_every_language(page, "the first login with FranceConnect")
    page.get_by_role("textbox", name="N° de téléphone portable").fill(national(sophie.phone))
    page.get_by_role("button", name="Valider").click()
    type_code(page, phone.code(phone.wait_for(sophie.phone)))
    _heading(page, "Je confirme mon lien avec les élèves")
    for child in children:
        answer_for_child(page, child.first_name, legal=True, birth_date=child.birth_date)
    page.get_by_role("button", name="Continuer").click()
    _heading(page, "Votre compte est activé")
    in_every_language(page, "Votre compte est activé (FranceConnect)")
