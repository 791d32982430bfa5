"""The SMS code as typed on a phone: spaces and any script's digits are fine, nothing else counts."""

from __future__ import annotations

import pytest

from trousseau.flows.steps.forms import CodeForm


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("123456", "123456"),
        (" 123 456 ", "123456"),
        ("١٢٣٤٥٦", "123456"),  # Arabic-Indic digits, as a phone set to Arabic types them
        ("۱۲۳۴۵۶", "123456"),  # Persian
        ("１２３４５６", "123456"),  # full-width
    ],
)
def test_a_code_typed_with_any_digits_reads_as_ascii(typed: str, code: str) -> None:
    form = CodeForm({"code": typed})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["code"] == code


@pytest.mark.parametrize("typed", ["²²²²²²", "12345", "1234567", "abcdef", "①②③④⑤⑥"])
def test_what_is_not_six_digits_is_refused_in_french(typed: str) -> None:
    form = CodeForm({"code": typed})
    assert not form.is_valid()
    assert form.errors["code"] == ["Le code de sécurité contient 6 chiffres."]
