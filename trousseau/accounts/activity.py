"""Reads for "Gérer mon compte": recent logins, open sessions, and the account's security history."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from trousseau.accounts.models import Account, AccountSession
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

RECENT_LOGINS = 10
HISTORY_LENGTH = 50
MAX_SESSIONS = 20

# What the holder reads for each step; every tag has one (tests/accounts/test_activity.py checks it).
EVENT_LABELS: dict[str, StrOrPromise] = {
    EventTag.LOGIN_SUCCESS: _("Connexion réussie"),
    EventTag.LOGIN_FAILURE: _("Échec de connexion (mot de passe incorrect)"),
    EventTag.LOGIN_THROTTLED: _("Connexion bloquée après trop d'essais"),
    EventTag.LOGIN_LETTER_UNUSABLE: _("Connexion avec un courrier qui n'est plus valable"),
    EventTag.LOGIN_PROVISIONAL: _("Connexion avec le courrier d'activation"),
    EventTag.LOGIN_WRONG_PROFILE: _("Connexion refusée : le profil choisi n'était pas celui du compte"),
    EventTag.LOGIN_MERGED: _("Connexion à ce compte regroupé"),
    EventTag.LOGOUT: _("Déconnexion"),
    EventTag.LETTER_ISSUED: _("Courrier d'activation émis par l'établissement"),
    EventTag.LETTER_BIRTH_DATE_FAILURE: _("Date de naissance erronée saisie avec le courrier d'activation"),
    EventTag.LETTER_BLOCKED: _("Courrier d'activation bloqué après trop de dates de naissance erronées"),
    EventTag.LETTER_BIRTH_DATE_REFUSED: _("Date de naissance refusée : courrier d'activation bloqué pour le moment"),
    EventTag.ACTIVATION_BY_LETTER_SUCCESS: _("Compte activé"),
    EventTag.ACTIVATION_BY_LETTER_FAILURE: _("Échec d'activation (date de naissance)"),
    EventTag.ACTIVATION_BY_LETTER_ABANDONED: _("Activation abandonnée après trop d'essais"),
    EventTag.EMAIL_VERIFICATION_SENT: _("Email de confirmation envoyé"),
    EventTag.EMAIL_VERIFICATION_SUCCESS: _("Adresse email vérifiée"),
    EventTag.EMAIL_VERIFICATION_FAILURE: _("Lien de confirmation d'email refusé"),
    EventTag.EMAIL_CHANGED: _("Adresse email modifiée"),
    EventTag.CODE_SENT: _("Code de sécurité envoyé par SMS"),
    EventTag.CODE_VERIFIED: _("Code de sécurité accepté"),
    EventTag.CODE_FAILURE: _("Code de sécurité refusé"),
    EventTag.CODE_LIMIT_REACHED: _("Envoi de SMS bloqué (trop de codes demandés)"),
    EventTag.SELF_REGISTRATION_NO_MATCH: _("Inscription par SMS sans correspondance"),
    EventTag.SELF_REGISTRATION_THROTTLED: _("Inscription par SMS bloquée après trop d'essais"),
    EventTag.SELF_REGISTRATION_ALREADY_ACTIVE: _("Inscription par SMS : compte déjà actif"),
    EventTag.SELF_REGISTRATION_SUCCESS: _("Compte créé par inscription SMS"),
    EventTag.CHILD_CONFIRMATION_FAILURE: _("Date de naissance d'un enfant refusée"),
    EventTag.LINK_CONTESTED: _("Lien avec un élève signalé comme erroné"),
    EventTag.ACCOUNT_MERGED: _("Élèves ajoutés depuis un autre compte (regroupement)"),
    EventTag.GROUPING_CREDENTIALS_CHECKED: _("Identifiants vérifiés pour un regroupement avec un autre compte"),
    EventTag.ACCOUNT_CLOSED_BY_MERGE: _("Compte fermé : regroupé avec un autre compte"),
    EventTag.GROUPING_REFUSED: _("Regroupement de comptes refusé"),
    EventTag.LOST_IDENTIFIER_REQUESTED: _("Identifiant perdu : demande"),
    EventTag.LOST_IDENTIFIER_SENT: _("Identifiant envoyé"),
    EventTag.LOST_PASSWORD_REQUESTED: _("Mot de passe perdu : demande"),
    EventTag.LOST_PASSWORD_LINK_SENT: _("Lien de changement de mot de passe envoyé"),
    EventTag.LOST_PASSWORD_LINK_REFUSED: _("Lien de changement de mot de passe refusé"),
    EventTag.LOST_PASSWORD_SUCCESS: _("Mot de passe réinitialisé"),
    EventTag.PASSWORD_CHANGED: _("Mot de passe modifié"),
    EventTag.PASSWORD_CHANGE_FAILURE: _("Changement de mot de passe refusé (mot de passe actuel incorrect)"),
    EventTag.CHANGE_MOBILE_STARTED: _("Changement de téléphone portable demandé"),
    EventTag.CHANGE_MOBILE_SUCCESS: _("Téléphone portable modifié"),
    EventTag.SESSIONS_ENDED: _("Déconnexion de toutes les autres sessions"),
    EventTag.SESSION_EXPIRED: _("Session fermée : durée maximale de connexion atteinte"),
    EventTag.SMS_GLOBAL_BUDGET_SPENT: _("Envoi de SMS suspendu : budget quotidien du service atteint"),
    EventTag.SMS_COUNTRY_BUDGET_SPENT: _("Envoi de SMS suspendu vers un indicatif : budget quotidien atteint"),
    EventTag.EMAIL_CHANGE_FAILURE: _("Changement d'adresse email refusé (confirmation d'identité manquante)"),
    EventTag.EMAIL_CHANGE_REQUESTED: _("Nouvelle adresse email demandée (en attente de vérification)"),
    EventTag.CHANGE_MOBILE_FAILURE: _("Changement de téléphone portable refusé (confirmation d'identité manquante)"),
    EventTag.CHANGE_MOBILE_LIMIT_REACHED: _("Changement de téléphone portable refusé (trop de demandes aujourd'hui)"),
    EventTag.CHANGE_NOTICE_SENT: _("Ancienne adresse ou ancien numéro prévenu d'un changement"),
    EventTag.CHANGE_REPORTED: _("Changement signalé « Ce n'était pas moi » : sessions fermées, coordonnées rétablies"),
    EventTag.CHANGE_REPORT_REFUSED: _("Lien « Ce n'était pas moi » refusé"),
    EventTag.FRANCECONNECT_LINKED: _("Compte lié à FranceConnect"),
    EventTag.FRANCECONNECT_UNLINKED: _("FranceConnect délié du compte"),
    EventTag.FRANCECONNECT_ACCOUNT_UNUSABLE: _("Connexion avec FranceConnect refusée : compte désactivé"),
    EventTag.FRANCECONNECT_REFUSED: _("Réponse de FranceConnect refusée"),
    EventTag.FRANCECONNECT_CANCELLED: _("Connexion avec FranceConnect annulée"),
    EventTag.FRANCECONNECT_PROVIDER_ERROR: _("Erreur de FranceConnect"),
    EventTag.FRANCECONNECT_FIRST_LOGIN_NO_MATCH: _("Première connexion avec FranceConnect sans correspondance"),
    EventTag.FRANCECONNECT_FIRST_LOGIN_THROTTLED: _(
        "Première connexion avec FranceConnect bloquée après trop d'essais"
    ),
    EventTag.OIDC_CLIENT_REGISTERED: _("Service OpenID Connect enregistré"),
    EventTag.OIDC_CODE_ISSUED: _("Connexion à un service en ligne"),
    EventTag.OIDC_REFUSED: _("Demande d'un service en ligne refusée"),
    EventTag.OIDC_CODE_REPLAYED: _("Code de connexion réutilisé : accès du service révoqués"),
    EventTag.OIDC_REFRESH_REUSED: _("Jeton de service réutilisé : accès du service révoqués"),
    EventTag.OIDC_BACKCHANNEL_LOGOUT: _("Déconnexion transmise aux services en ligne"),
    EventTag.SAML_ASSERTION_ISSUED: _("Connexion à un service en ligne"),
    EventTag.SAML_REFUSED: _("Demande d'un service en ligne refusée"),
    EventTag.CONSOLE_LOGIN_SUCCESS: _("Console : connexion d'un personnel"),
    EventTag.CONSOLE_LOGIN_FAILURE: _("Console : échec de connexion d'un personnel"),
    EventTag.CONSOLE_LOGIN_THROTTLED: _("Console : connexion bloquée après trop d'essais"),
    EventTag.CONSOLE_TOTP_FAILURE: _("Console : code de vérification refusé"),
    EventTag.CONSOLE_TOTP_REUSED: _("Console : code de vérification déjà utilisé"),
    EventTag.CONSOLE_TOTP_ENROLLED: _("Console : application d'authentification enregistrée"),
    EventTag.CONSOLE_LOGOUT: _("Console : déconnexion"),
    EventTag.CONSOLE_SESSION_EXPIRED: _("Console : session fermée après inactivité"),
    EventTag.CONSOLE_STAFF_CREATED: _("Console : accès créé pour un personnel"),
    EventTag.CONSOLE_STAFF_RESET: _("Console : accès d'un personnel réinitialisé (nouveau lien d'inscription)"),
    EventTag.CONSOLE_STAFF_REMOVED: _("Console : accès d'un personnel retiré"),
    EventTag.CONSOLE_STAFF_REFUSED: _("Console : ajout d'un personnel refusé"),
    EventTag.CONSOLE_ACCESS_DENIED: _("Console : accès refusé hors du périmètre"),
    EventTag.CONSOLE_ACCOUNT_RESET: _("Compte réinitialisé par l'établissement (nouveau courrier)"),
    EventTag.CONSOLE_ACCOUNT_DISABLED: _("Compte désactivé par l'établissement"),
    EventTag.CONSOLE_ACCOUNT_ENABLED: _("Compte réactivé par l'établissement"),
    EventTag.CONSOLE_CONTACT_UPDATED: _("Coordonnées du responsable modifiées par l'établissement"),
    EventTag.CONSOLE_CONTACT_REFUSED: _("Console : numéro de portable refusé (pas un portable valide)"),
    EventTag.CONSOLE_LINK_CONFIRMED: _("Lien avec un élève confirmé par l'établissement"),
    EventTag.CONSOLE_LINK_REMOVED: _("Lien avec un élève supprimé par l'établissement"),
    EventTag.CONSOLE_LETTERS_PRINTED: _("Console : courriers d'activation imprimés"),
    EventTag.CONSOLE_LETTERS_EXPORTED: _("Console : courriers d'activation exportés en CSV"),
    EventTag.CONSOLE_LETTERS_EMAILED: _("Console : courriers d'activation envoyés par courriel"),
    EventTag.CONSOLE_LETTER_EMAIL_SENT: _("Courrier d'activation envoyé par courriel"),
    EventTag.CONSOLE_LETTER_EMAIL_BOUNCED: _("Courriel du courrier d'activation rejeté (adresse à vérifier)"),
    EventTag.CONSOLE_IMPORT_PREVIEWED: _("Console : import vérifié (essai à blanc)"),
    EventTag.CONSOLE_IMPORT_APPLIED: _("Console : import appliqué"),
    EventTag.CONSOLE_IMPORT_REFUSED: _("Console : import refusé"),
    EventTag.CONSOLE_FOLLOWUP_EXPORTED: _("Console : suivi des activations exporté"),
    EventTag.CONSOLE_SCHOOL_CONTACT_UPDATED: _("Console : contact de l’établissement modifié"),
    EventTag.CONSOLE_BATCH_APPLIED: _("Console : action sur une sélection de comptes"),
    EventTag.CONSOLE_BATCH_REFUSED: _("Console : action sur une sélection de comptes refusée"),
    EventTag.DIRECTORY_IMPORT_APPLIED: _("Fiches de l'établissement importées"),
    EventTag.DIRECTORY_IMPORT_REFUSED: _("Import des fiches de l'établissement refusé"),
    EventTag.ACCOUNT_RENAMED_BY_IMPORT: _("Nom et prénom du compte corrigés d'après les fiches de l'établissement"),
    EventTag.DIRECTORY_PUPIL_TRANSFERRED: _("Élève passé d'un établissement à un autre par un import"),
    EventTag.DIRECTORY_RETENTION_PURGED: _("Fiches des élèves partis effacées (durée de conservation écoulée)"),
    EventTag.RETENTION_PURGED: _("Données périmées effacées (durées de conservation écoulées)"),
    EventTag.DATA_EXPORTED: _("Données du compte téléchargées"),
    EventTag.DATA_EXPORT_REFUSED: _("Téléchargement des données refusé (mot de passe incorrect)"),
}
UNKNOWN_EVENT = _("Événement de sécurité")

_BROWSERS = [("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari")]
_SYSTEMS = [
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
]
_PRINTABLE = re.compile(r"[^\w ./()-]")


def browser_name(user_agent: str) -> str:
    """A short "Firefox, Android"-style name; the raw header is cut short when nothing is recognised."""
    browser = next((name for mark, name in _BROWSERS if mark in user_agent), "")
    system = next((name for mark, name in _SYSTEMS if mark in user_agent), "")
    if browser or system:
        return ", ".join(part for part in (browser, system) if part)
    return _PRINTABLE.sub("", user_agent)[:40]


# How each login was made, as the holder reads it in "Mes dernières connexions": a FranceConnect login
# writes LOGIN_SUCCESS with method="franceconnect", a login with the school's letter LOGIN_PROVISIONAL.
LOGIN_TAGS = (EventTag.LOGIN_SUCCESS, EventTag.LOGIN_PROVISIONAL)
LOGIN_BY_PASSWORD = _("identifiant et mot de passe")
LOGIN_BY_LETTER = _("avec le courrier")
LOGIN_BY_FRANCECONNECT = _("avec FranceConnect")


@dataclass(frozen=True)
class Login:
    at: datetime
    ip: str | None
    how: StrOrPromise = LOGIN_BY_PASSWORD


@dataclass(frozen=True)
class OpenSession:
    at: datetime
    ip: str | None
    browser: str
    current: bool


@dataclass(frozen=True)
class HistoryLine:
    at: datetime
    ip: str | None
    label: str
    tag: str


def _login_method(row: AuditEvent) -> StrOrPromise:
    if row.tag == EventTag.LOGIN_PROVISIONAL:
        return LOGIN_BY_LETTER
    if row.data.get("method") == "franceconnect":
        return LOGIN_BY_FRANCECONNECT
    return LOGIN_BY_PASSWORD


def recent_logins(account: Account) -> list[Login]:
    """The last logins of every kind: password, the school's letter, FranceConnect."""
    rows = AuditEvent.objects.filter(account=account, tag__in=LOGIN_TAGS)[:RECENT_LOGINS]
    return [Login(at=row.created_at, ip=row.ip_address, how=_login_method(row)) for row in rows]


def _is_live(store: type[SessionBase], key: str, account: Account) -> bool:
    # load() gives {} for a session that ended or expired.
    return str(store(session_key=key).load().get("_auth_user_id", "")) == str(account.pk)


def open_sessions(account: Account, *, current_key: str | None) -> list[OpenSession]:
    """The account's sessions that are still logged in, this one marked."""
    store: type[SessionBase] = import_string(f"{settings.SESSION_ENGINE}.SessionStore")
    rows = AccountSession.objects.filter(account=account)[:MAX_SESSIONS]
    return [
        OpenSession(
            at=row.created_at,
            ip=row.ip_address,
            browser=browser_name(row.user_agent),
            current=row.session_key == current_key,
        )
        for row in rows
        if row.session_key == current_key or _is_live(store, row.session_key, account)
    ]


def history(account: Account) -> list[HistoryLine]:
    rows = AuditEvent.objects.filter(account=account)[:HISTORY_LENGTH]
    return [
        HistoryLine(
            at=row.created_at,
            ip=row.ip_address,
            label=str(EVENT_LABELS.get(row.tag, UNKNOWN_EVENT)),
            tag=row.tag,
        )
        for row in rows
    ]
