"""The families' languages in Chromium: the switch (without JavaScript, and in the phone menu), and the mire and
the letter activation in Arabic, laid out right to left, with screenshots in the test output.

The Arabic words come from the shipped catalogue (gettext), so the test follows the translators' wording while
still failing on a page left in French (each is checked to differ from the French).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.utils import translation
from playwright.sync_api import Browser, Locator, Page, ViewportSize, expect
from pytest_django.live_server_helper import LiveServer

from tests.browser.conftest import TIMEOUT_MS, Demo
from tests.browser.steps import MIRE_TITLE, choose, expect_accessible

pytestmark = pytest.mark.browser

PHONE: ViewportSize = {"width": 375, "height": 740}
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
# Subpixel layout: edges that coincide may differ by a fraction of a pixel.
EDGE = 2
NEW_PASSWORD = "Cartable#Violet42"


def arabic(french: str) -> str:
    """The Arabic catalogue's words for a French message; fails if the message is not translated."""
    with translation.override("ar"):
        words = translation.gettext(french)
    assert words != french, f"not translated into Arabic: {french!r}"
    return words


def text_box(locator: Locator) -> dict[str, float]:
    """Where the element's text is drawn (its block box spans the whole line whatever the alignment)."""
    gaps: dict[str, float] = locator.evaluate(
        """element => {
            const range = document.createRange();
            range.selectNodeContents(element);
            const text = range.getBoundingClientRect(), box = element.getBoundingClientRect();
            return {left: text.left - box.left, right: box.right - text.right};
        }"""
    )
    return gaps


def expect_right_to_left(page: Page, heading: str) -> None:
    """`<html dir="rtl" lang="ar">`, and the main heading's text starts at the right edge of its box."""
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("html")).to_have_attribute("lang", "ar")
    title = page.get_by_role("heading", level=1)
    expect(title).to_have_text(heading)
    gaps = text_box(title)
    assert gaps["right"] < EDGE, f"the heading does not start at the right: {gaps}"
    assert gaps["left"] > gaps["right"], f"the heading is not aligned right: {gaps}"


def expect_at_the_right_of(element: Locator, container: Locator) -> None:
    """`element` ends at the right edge of `container` (a full-width field above it), well clear of its left edge."""
    inner, outer = element.bounding_box(), container.bounding_box()
    assert inner is not None
    assert outer is not None
    assert abs((outer["x"] + outer["width"]) - (inner["x"] + inner["width"])) < EDGE, (inner, outer)
    assert inner["x"] - outer["x"] > inner["width"] / 2, (inner, outer)


def screenshot(page: Page, folder: Path, name: str) -> None:
    path = folder / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    print(f"screenshot: {path}")  # noqa: T201 - where to look at the page


def test_the_mire_and_the_letter_activation_read_right_to_left_in_arabic(page: Page, demo: Demo, tmp_path: Path):
    guardian = demo.guardians[0]
    page.set_viewport_size(DESKTOP)
    page.goto("/")
    expect(page.get_by_role("heading", name=MIRE_TITLE)).to_be_visible()
    expect(page.locator("html")).to_have_attribute("dir", "ltr")
    # A French page: the switch says "FR"; the list offers each language in its own words.
    page.get_by_role("button", name="FR", exact=True).click()
    page.get_by_role("button", name="AR - العربيّة").click()

    expect_right_to_left(page, arabic(MIRE_TITLE))
    identifier = page.get_by_label(arabic("Identifiant"))
    expect_at_the_right_of(page.get_by_role("button", name=arabic("Se connecter"), exact=True), identifier)
    expect_accessible(page, "the mire in Arabic")
    screenshot(page, tmp_path, "ar-mire-desktop")
    page.set_viewport_size(PHONE)
    expect_right_to_left(page, arabic(MIRE_TITLE))
    screenshot(page, tmp_path, "ar-mire-phone")

    choose(page, arabic("Responsable d'élève"))
    page.get_by_label(arabic("Identifiant")).fill(guardian.identifier)
    page.get_by_label(arabic("Mot de passe")).fill(guardian.provisional_password)
    page.get_by_role("button", name=arabic("Se connecter"), exact=True).click()

    expect(page).to_have_url(re.compile(r"/activation/[0-9a-f-]{36}/$"))
    expect_right_to_left(page, arabic("Activation du compte"))
    expect_accessible(page, "the activation page in Arabic on a phone")
    screenshot(page, tmp_path, "ar-activation-phone")
    page.set_viewport_size(DESKTOP)
    submit = page.get_by_role("button", name=arabic("Activer votre compte"))
    expect_at_the_right_of(submit, page.get_by_label(arabic("Nouveau mot de passe")))
    page.get_by_label(arabic("Nouveau mot de passe")).fill(NEW_PASSWORD)
    page.get_by_label(arabic("Confirmez votre mot de passe")).fill(NEW_PASSWORD)
    page.get_by_label(arabic("Votre date de naissance")).fill(guardian.birth_date.isoformat())
    screenshot(page, tmp_path, "ar-activation-desktop")
    submit.click()

    expect_right_to_left(page, arabic("Gérer mon compte"))
    expect(page.locator("#my-identifier")).to_have_text(guardian.identifier)
    expect_accessible(page, "the account page in Arabic")
    screenshot(page, tmp_path, "ar-account-desktop")


def test_the_switch_works_without_javascript(browser: Browser, live_server: LiveServer):
    """No script: the list shows open, and a language is one press away (a plain form post), on a phone too."""
    context = browser.new_context(base_url=live_server.url, locale="fr-FR", java_script_enabled=False)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto("/")
        expect(page.get_by_role("heading", name=MIRE_TITLE)).to_be_visible()
        expect(page.get_by_role("button", name="FR", exact=True)).to_be_hidden()
        page.get_by_role("button", name="TR - Türkçe").click()
        expect(page.locator("html")).to_have_attribute("lang", "tr")
        with translation.override("tr"):
            expect(page.get_by_role("heading", level=1)).to_have_text(translation.gettext(MIRE_TITLE))
        page.get_by_role("button", name="AR - العربيّة").click()
        expect(page.locator("html")).to_have_attribute("dir", "rtl")
        page.get_by_role("button", name="FR - Français").click()
        expect(page.get_by_role("heading", name=MIRE_TITLE)).to_be_visible()
        expect(page.locator("html")).to_have_attribute("dir", "ltr")
        # On a phone the DSFR's menu button needs the script: the list shows under the header instead.
        page.set_viewport_size(PHONE)
        page.get_by_role("button", name="ES - Español").click()
        expect(page.locator("html")).to_have_attribute("lang", "es")
    finally:
        context.close()


def test_the_switch_in_the_phone_menu(page: Page, demo: Demo, tmp_path: Path):
    """On a phone the DSFR's menu holds the switch; the chosen language stays on the page one was on."""
    page.set_viewport_size(PHONE)
    page.goto("/identifiant-perdu/")
    page.get_by_role("button", name="Menu").click()
    menu = page.locator("#menu-mobile")
    menu.locator(".fr-translate__btn").click()  # "FR - Français", the list's own button
    expect_accessible(page, "the phone menu with the language list open")
    menu.get_by_role("button", name="AR - العربيّة").click()
    expect(page).to_have_url(re.compile(r"/identifiant-perdu/$"))
    expect_right_to_left(page, arabic("Identifiant perdu"))
    page.get_by_role("button", name=arabic("Menu")).click()
    menu.locator(".fr-translate__btn").click()
    expect(menu.get_by_role("button", name="ES - Español")).to_be_visible()
    expect_accessible(page, "the phone menu in Arabic with the language list open")
    screenshot(page, tmp_path, "ar-phone-menu")
    menu.get_by_role("button", name="ES - Español").click()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.locator("html")).to_have_attribute("dir", "ltr")
