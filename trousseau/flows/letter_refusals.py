"""What is said of an activation letter that cannot serve, on the mire and on the activation page alike."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from trousseau.accounts.models import LetterStatus

LETTER_MESSAGES = {
    LetterStatus.USED: _(
        "Ce courrier a déjà servi à activer votre compte. Connectez-vous avec le mot de passe que vous avez "
        "choisi, utilisez « Mot de passe perdu » ou contactez votre établissement."
    ),
    # Told only to someone who typed the letter's password (issue #15, finding 2).
    LetterStatus.BLOCKED: _(
        "Trop de dates de naissance erronées ont été saisies avec ce courrier : il est bloqué. "
        "Contactez votre établissement pour en obtenir un nouveau."
    ),
    LetterStatus.PAUSED: _(
        "Trop de dates de naissance erronées ont été saisies aujourd'hui avec ce courrier. "
        "Réessayez demain ou contactez votre établissement."
    ),
}
LETTER_EXPIRED = _(
    "Ce courrier d'activation n'est plus valable. Contactez votre établissement pour en obtenir un nouveau."
)

# Where activation continues once the account is active (the service that asked for a login).
CONTINUE_AFTER_ACTIVATION = "continue_after_activation"
