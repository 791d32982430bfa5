"""What a person does on the pages, step by step, shared by the browser tests."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

import phonenumbers
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Locator, Page, expect

from tests.codes import other_code

MIRE_TITLE = "J'accède aux services numériques des établissements scolaires"


def log_in(page: Page, identifier: str, password: str, *, profile: str = "Responsable d'élève") -> None:
    """Open the mire, choose the profile, type the identifier and password, and press "Se connecter"."""
    page.goto("/")
    expect(page.get_by_role("heading", name=MIRE_TITLE)).to_be_visible()
    # The DSFR draws the radio button over its label: a person clicks the label.
    page.locator("label", has_text=re.compile(f"^{re.escape(profile)}$")).click()
    expect(page.get_by_label(profile, exact=True)).to_be_checked()
    page.get_by_label("Identifiant").fill(identifier)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()


def console_log_in(page: Page, email: str, password: str, code: str) -> None:
    """Log in to the staff console: email and password, then the authenticator's code."""
    page.goto("/console/")
    page.get_by_label("Adresse email professionnelle").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_label("Code de vérification").fill(code)
    page.get_by_role("button", name="Valider").click()


def expect_activation_page(page: Page, identifier: str) -> None:
    expect(page.get_by_role("heading", name="Activation du compte")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/activation/[0-9a-f-]{36}/$"))
    expect(page.locator("main strong")).to_have_text(identifier)


def fill_activation(page: Page, *, password: str, birth_date: date, email: str = "") -> None:
    """Fill "Activation du compte" (without submitting it)."""
    page.get_by_label("Nouveau mot de passe").fill(password)
    page.get_by_label("Confirmez votre mot de passe").fill(password)
    page.get_by_label("Votre date de naissance").fill(birth_date.isoformat())
    if email:
        page.get_by_label("Email (facultatif)").fill(email)


def submit_activation(page: Page) -> None:
    page.get_by_role("button", name="Activer votre compte").click()


def expect_account_home(page: Page, identifier: str) -> None:
    expect(page.get_by_role("heading", name="Gérer mon compte", level=1)).to_be_visible()
    expect(page.locator("#my-identifier")).to_have_text(identifier)


def log_out(page: Page) -> None:
    page.get_by_role("main").get_by_role("button", name="Se déconnecter", exact=True).click()
    expect(page.get_by_role("heading", name=MIRE_TITLE)).to_be_visible()


# --- The SMS journeys: "Je n'ai pas de compte", "Identifiant perdu", "Mot de passe perdu" ---------

COUNTRY_FRANCE = "+33 France métropolitaine"
PASSWORD_RULES = ("upper", "lower", "digit", "special", "length")
_OK = re.compile(r"(^|\s)tr-ok(\s|$)")


def national(e164: str) -> str:
    """A mobile as a person types it from memory: `+33612345678` -> `06 12 34 56 78`."""
    return phonenumbers.format_number(phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.NATIONAL)


def open_registration(page: Page, *, at_the_mire: bool = False) -> None:
    """From the mire (opened here, or already shown by a service), follow "Je n'ai pas de compte", then
    "Créer mon compte" on "Je n'ai pas encore d'identifiant"."""
    if not at_the_mire:
        page.goto("/")
    expect(page.get_by_role("heading", name=MIRE_TITLE)).to_be_visible()
    page.get_by_role("link", name="Je n'ai pas de compte").click()
    expect(page.get_by_role("heading", name="Je n'ai pas encore d'identifiant")).to_be_visible()
    page.get_by_role("link", name="Créer mon compte").click()
    expect(page.get_by_role("heading", name="Je confirme mon identité")).to_be_visible()


def fill_identity(page: Page, *, last_name: str, first_name: str, mobile: str, country: str = COUNTRY_FRANCE) -> None:
    """Fill "Je confirme mon identité" and press "Valider"."""
    page.get_by_label("Nom", exact=True).fill(last_name)
    page.get_by_label("Prénom", exact=True).fill(first_name)
    page.get_by_label("Indicatif", exact=True).select_option(label=country)
    page.get_by_role("textbox", name="N° de téléphone portable").fill(mobile)
    page.get_by_role("button", name="Valider").click()


def wrong_code(code: str) -> str:
    """Another 6-digit code than the one received (one further on: tests/codes.py)."""
    return other_code(code)


def unaccented(text: str) -> str:
    """The text with its accents dropped, its case kept (a name as a person types it into a password)."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def security_history(page: Page) -> list[tuple[str, str]]:
    """ "Voir l'historique de sécurité de mon compte": (tag, label) of each line, newest first."""
    page.goto("/compte/")
    page.get_by_role("link", name="Voir l'historique de sécurité de mon compte").click()
    expect(page.get_by_role("heading", name="Historique de sécurité", level=1)).to_be_visible()
    rows = page.locator("#my-history tbody tr")
    expect(rows.first).to_be_visible()
    return [(str(row.get_attribute("data-tag")), row.locator("td").nth(1).inner_text()) for row in rows.all()]


def type_code(page: Page, code: str) -> None:
    """Type the security code received by SMS and press "Continuer"."""
    page.get_by_label("Code de sécurité").fill(code)
    page.get_by_role("button", name="Continuer").click()


def answer_for_child(page: Page, first_name: str, *, legal: bool, birth_date: date | None = None) -> None:
    """On "Je confirme mon lien avec les élèves", answer for the child whose legend starts with `first_name`."""
    child = page.get_by_role("group", name=re.compile(rf"^{re.escape(first_name)} "))
    expect(child).to_have_count(1)
    choice = (
        "Je suis le représentant légal de cet élève" if legal else "Je ne suis pas le représentant légal de cet élève"
    )
    child.locator("label", has_text=re.compile(f"^{re.escape(choice)}$")).click()
    expect(child.get_by_label(choice, exact=True)).to_be_checked()
    if birth_date is not None:
        child.get_by_label("Né(e) le").fill(birth_date.isoformat())


def new_password_field(page: Page) -> Locator:
    """The password field of the SMS journeys' password pages ("Mot de passe", then its confirmation)."""
    return page.get_by_label(re.compile(r"^Mot de passe"))


def expect_password_rules(page: Page, met: set[str]) -> None:
    """The live rule list marks exactly the rules in `met` as satisfied."""
    for rule in PASSWORD_RULES:
        item = page.locator(f'#password-rules li[data-rule="{rule}"]')
        if rule in met:
            expect(item).to_have_class(_OK)
        else:
            expect(item).not_to_have_class(_OK)


def choose_password_watching_the_rules(page: Page, password: str, *, submit: str) -> None:
    """Type a password key by key while the rule list and meter follow, confirm it, and submit."""
    field = new_password_field(page)
    strength = page.locator("#password-strength")
    expect_password_rules(page, met=set())
    expect(strength).to_have_text("Faible")
    field.press_sequentially("cartable")
    expect_password_rules(page, met={"lower", "length"})
    expect(strength).to_have_text("Faible")
    field.press_sequentially("#")
    expect_password_rules(page, met={"lower", "length", "special"})
    expect(strength).to_have_text("Moyen")
    field.clear()
    field.press_sequentially(password)
    expect_password_rules(page, met=set(PASSWORD_RULES))
    expect(strength).to_have_text("Fort")
    expect(page.locator("#password-meter")).to_have_js_property("value", len(PASSWORD_RULES))
    page.get_by_label("Confirmation du nouveau mot de passe").fill(password)
    page.get_by_role("button", name=submit).click()


PERSONAL = "Ne doit contenir ni votre identifiant ni votre nom ou prénom"


def refuse_personal_password(page: Page, password: str, *, submit: str, where: str) -> None:
    """Submit a password made of the person's identifier or name: the page says why and marks the field."""
    new_password_field(page).fill(password)
    page.get_by_label("Confirmation du nouveau mot de passe").fill(password)
    page.get_by_role("button", name=submit).click()
    expect(page.get_by_text(PERSONAL)).to_be_visible()
    expect(new_password_field(page)).to_have_attribute("aria-invalid", "true")
    expect_accessible(page, where)


def choose(page: Page, label: str) -> None:
    """Pick a radio button by its label text, as a person clicks the label the DSFR draws over it."""
    page.locator("label", has_text=re.compile(f"^{re.escape(label)}$")).click()
    expect(page.get_by_label(label, exact=True)).to_be_checked()


def read_sms_in_dev_outbox(page: Page, to: str) -> str:
    """Open /dev/outbox/ (DEBUG only) in another tab, as the demo's phone, and read the latest SMS to `to`."""
    tab = page.context.new_page()
    try:
        tab.goto("/dev/outbox/")
        expect(tab.get_by_role("heading", name="Boîte d'envoi (développement)")).to_be_visible()
        rows = tab.get_by_role("row").filter(has=tab.get_by_role("cell", name=to, exact=True))
        expect(rows.first).to_be_visible()
        cells = rows.first.get_by_role("cell")
        expect(cells.nth(1)).to_have_text("SMS")
        return cells.nth(3).inner_text()
    finally:
        tab.close()


def wait_for_dsfr(page: Page) -> None:
    """Wait until the DSFR's script has set up the page's components, as a person sees them.

    Until then the header menu still carries its static markup (`aria-labelledby` on a div with no
    role, which axe rightly reports); the DSFR moves those attributes in its next rendering frames.
    """
    page.wait_for_function(
        "() => document.documentElement.getAttribute('data-fr-js') === 'true'"
        " && [...document.querySelectorAll('.fr-modal')].every(m => m.hasAttribute('data-fr-js-modal'))"
    )
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")


def expect_accessible(page: Page, what: str) -> None:
    """axe-core (every rule it runs by default) finds no violation on the page, once the DSFR has started."""
    wait_for_dsfr(page)
    results = Axe().run(page)
    assert results.response["url"] == page.url
    assert results.response["testEngine"]["name"] == "axe-core"
    assert results.violations_count == 0, f"{what} ({page.url}):\n{results.generate_report()}"
