"""Change of mobile's own form; the code step uses `flows.steps.forms`."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from trousseau.accounts.forms import ask_current_password, current_password_field
from trousseau.accounts.models import Account
from trousseau.flows.steps.forms import MobileForm


class NewMobileForm(MobileForm):
    """ "Mon nouveau numéro" on the account page, with the current password (if the account has one)."""

    mobile = forms.CharField(label=_("Nouveau numéro de téléphone portable"), max_length=30)
    current_password = current_password_field()

    def __init__(self, *args: Any, account: Account, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.asks_password = ask_current_password(self, account)
