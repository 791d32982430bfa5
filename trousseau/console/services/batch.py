"""One action on several accounts of a school at once: reprint or export letters, reset, disable (issue #19).

`plan` reads what the action would do to the accounts ticked on a search or a waiting list (which
accounts it acts on, which it leaves and why, which valid letters it voids): the confirmation page
shows it. `apply` does it in one transaction through the single-account services (`actions`,
`letters`), so each family still reads the step in its own history, and audits the batch once with
its list of accounts. Accounts outside the school are refused as a whole, audited: nothing changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from django.db import transaction
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from trousseau.accounts.models import Account, AccountState
from trousseau.audit.events import EventTag
from trousseau.console.audit import staff_audit
from trousseau.console.models import StaffMember
from trousseau.console.scoping import require_action
from trousseau.console.selectors.accounts import school_accounts
from trousseau.console.services import actions, letters
from trousseau.directory.models import School

# The most a search page shows is 100 accounts; a class's waiting list (pupils and their guardians)
# may reach about 90. Past this, one PDF and one transaction get too large for a secretary's click.
BATCH_LIMIT = 200
SCOPE = "batch"  # the letters' audit scope: "a selection of accounts"


class BatchAction(StrEnum):
    REPRINT = "reprint"
    EXPORT = "export"
    RESET = "reset"
    DISABLE = "disable"


ACTION_LABELS = {
    BatchAction.REPRINT: _("Réimprimer les courriers (PDF)"),
    BatchAction.EXPORT: _("Exporter les courriers (CSV)"),
    BatchAction.RESET: _("Réinitialiser les comptes et imprimer leurs courriers"),
    BatchAction.DISABLE: _("Désactiver les comptes"),
}


class BatchRefused(Exception):
    """The selection cannot be acted on as asked; `message` says why, in French."""

    def __init__(self, message: object) -> None:
        super().__init__(str(message))
        self.message = message


class NothingTicked(BatchRefused):
    """An empty selection: a slip, not a step worth the journal."""


@dataclass(frozen=True)
class Left:
    """An account of the selection the action leaves as it is, and why."""

    account: Account
    reason: Promise


@dataclass
class BatchPlan:
    action: BatchAction
    accounts: list[Account]  # acted on, by name
    left: list[Left] = field(default_factory=list)
    voided: list[Account] = field(default_factory=list)  # whose still-valid letter the action voids

    @property
    def ids(self) -> list[int]:
        return [a.pk for a in self.accounts]

    @property
    def letters(self) -> bool:
        """Whether the action issues new letters (and so voids the previous ones)."""
        return self.action != BatchAction.DISABLE


def _why_left(action: BatchAction, account: Account) -> Promise | None:
    """Why `action` leaves this account alone; None when it acts on it."""
    if account.merged_into_id is not None:
        return _("regroupé avec un autre compte : agissez sur le compte conservé")
    if action == BatchAction.DISABLE:
        return _("déjà désactivé") if account.state == AccountState.DISABLED else None
    if account.state == AccountState.DISABLED:
        return _("désactivé : réactivez-le d'abord")
    if action in {BatchAction.REPRINT, BatchAction.EXPORT} and account.state != AccountState.PROVISIONAL:
        return _("déjà activé : réinitialisez-le pour lui donner un nouveau courrier")
    return None


def selected(school: School, ids: Iterable[int]) -> list[Account]:
    """The school's accounts with these ids, by name; raises BatchRefused if one is not the school's."""
    wanted = set(ids)
    if not wanted:
        raise NothingTicked(_("Cochez au moins un compte."))
    if len(wanted) > BATCH_LIMIT:
        raise BatchRefused(
            _("Vous avez coché %(n)s comptes : une action porte sur %(max)s comptes au plus. Précisez la recherche.")
            % {"n": len(wanted), "max": BATCH_LIMIT}
        )
    found = list(school_accounts(school).filter(pk__in=wanted).order_by("last_name", "first_name", "identifier"))
    if len(found) != len(wanted):
        raise BatchRefused(
            _("Certains comptes cochés ne sont pas ceux de cet établissement : aucune action n'a été faite.")
        )
    return found


def plan(school: School, action: BatchAction, ids: Iterable[int]) -> BatchPlan:
    """What `action` would do to the accounts `ids` of this school, without doing it."""
    result = BatchPlan(action=action, accounts=[])
    for account in selected(school, ids):
        reason = _why_left(action, account)
        if reason is None:
            result.accounts.append(account)
        else:
            result.left.append(Left(account, reason))
    if result.letters:
        live = letters.with_valid_letter(result.accounts)
        result.voided = [a for a in result.accounts if a.pk in live]
    return result


def refuse(  # noqa: PLR0913 - keyword-only: who, where, what was asked, why
    *, staff: StaffMember, school: School, action: str, ids: Sequence[int], reason: str, ip: str | None = None
) -> None:
    """Keep a refused selection on record (ids outside the school are someone probing): nothing else."""
    staff_audit(
        EventTag.CONSOLE_BATCH_REFUSED,
        staff=staff,
        school=school,
        ip=ip,
        action=action[:20],
        count=len(ids),
        ids=list(ids)[:BATCH_LIMIT],
        reason=reason[:300],
    )


@dataclass(frozen=True)
class BatchResult:
    plan: BatchPlan
    payload: bytes = b""  # the letters: PDF (reprint, reset) or CSV (export); empty for a disable


@transaction.atomic
def apply(  # noqa: PLR0913 - keyword-only: who, where, what, which accounts, as confirmed
    *,
    staff: StaffMember,
    school: School,
    action: BatchAction,
    ids: Iterable[int],
    confirmed: Sequence[int],
    ip: str | None = None,
) -> BatchResult:
    """Do `action` on the accounts confirmed, all or none.

    `confirmed` is the list the confirmation page showed: if the selection now gives another one (an
    account was activated or disabled meanwhile), BatchRefused asks to look again. A refusal by a
    single-account service rolls the whole batch back.
    """
    require_action(staff)
    todo = plan(school, action, ids)
    if sorted(todo.ids) != sorted(confirmed):
        raise BatchRefused(_("Ces comptes ont changé depuis la confirmation : vérifiez de nouveau ce qui sera fait."))
    if not todo.accounts:
        raise BatchRefused(_("Aucun des comptes cochés n'est concerné par cette action : rien n'a été fait."))
    payload = b""
    try:
        payload = _do(staff, school, todo, ip)
    except actions.ActionRefused as exc:
        raise BatchRefused(exc.message) from exc
    staff_audit(
        EventTag.CONSOLE_BATCH_APPLIED,
        staff=staff,
        school=school,
        ip=ip,
        action=str(action),
        count=len(todo.accounts),
        accounts=[a.identifier for a in todo.accounts],
        left=[a.account.identifier for a in todo.left],
        voided=len(todo.voided),
    )
    return BatchResult(plan=todo, payload=payload)


def _do(staff: StaffMember, school: School, todo: BatchPlan, ip: str | None) -> bytes:
    accounts = todo.accounts
    if todo.action == BatchAction.DISABLE:
        for account in accounts:
            actions.account_disable(staff=staff, school=school, account=account, ip=ip)
        return b""
    if todo.action == BatchAction.RESET:
        accounts = [actions.account_reset(staff=staff, school=school, account=a, ip=ip) for a in accounts]
    if todo.action == BatchAction.EXPORT:
        return letters.export_csv(staff=staff, school=school, accounts=accounts, scope=SCOPE, ip=ip)
    return letters.print_pdf(staff=staff, school=school, accounts=accounts, scope=SCOPE, ip=ip)
