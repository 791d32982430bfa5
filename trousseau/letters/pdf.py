"""Activation letters as PDF: one A4 page per account, in French by default (reportlab, segno).

Each page carries the identifier, a fresh provisional password, the validity date, the first-login
steps of the seed guides (002 for guardians, 003 for pupils) and a QR code to the login page.
`letters_pdf(accounts)` issues and renders; `render_letters_pdf(letters)` renders letters already
issued (export.letters_issue), for a PDF and a CSV of the same passwords.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import cache

import segno
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from trousseau.accounts.models import Account, AccountKind
from trousseau.letters.export import IssuedLetter, letters_issue

SERVICE_NAME = "Trousseau"
WIDTH, HEIGHT = A4
MARGIN = 56
FOOTER_Y = MARGIN - 20  # the "never share this password" line; the text must end above it
TEXT_WIDTH = WIDTH - 2 * MARGIN
QR_SIZE = 112
FONT, BOLD, MONO = "Helvetica", "Helvetica-Bold", "Courier-Bold"


def letters_pdf(accounts: Iterable[Account], *, now: datetime | None = None, language: str = "fr") -> bytes:
    """Issue a new letter for each account (earlier ones are revoked) and render them, one page each."""
    return render_letters_pdf(letters_issue(accounts, now=now), language=language)


def render_letters_pdf(letters: Sequence[IssuedLetter], *, language: str = "fr") -> bytes:
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4, pageCompression=1)
    canvas.setTitle(f"Courriers d'activation {SERVICE_NAME}")
    canvas.setAuthor(SERVICE_NAME)
    with translation.override(language):
        for letter in letters:
            _page(canvas, letter)
            canvas.showPage()
    canvas.save()
    return out.getvalue()


@cache
def _qr_png(url: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=8, border=4)
    return buffer.getvalue()


def printable(text: str) -> str:
    """The standard PDF fonts cover Windows-1252: other letters lose their accents, not their place."""
    return "".join(ch if _encodable(ch) else _fold(ch) for ch in text)


def _encodable(ch: str) -> bool:
    try:
        ch.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def _fold(ch: str) -> str:
    base = "".join(c for c in unicodedata.normalize("NFKD", ch) if _encodable(c))
    if base:
        return base
    # Letters that do not decompose (Ł, Đ, Ø…): their Unicode name says which Latin letter they are.
    name = unicodedata.name(ch, "")
    if name.startswith("LATIN ") and " LETTER " in name:
        letter = name.split(" LETTER ", 1)[1].split(" ", 1)[0]
        if len(letter) == 1:
            return letter if "CAPITAL" in name else letter.lower()
    return "?"


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Lines that fit the width, broken at plain spaces only (a no-break space holds)."""
    lines: list[str] = []
    line = ""
    for word in text.split(" "):
        candidate = f"{line} {word}" if line else word
        if line and stringWidth(candidate, font, size) > width:
            lines.append(line)
            line = word
        else:
            line = candidate
    return [*lines, line]


class _Writer:
    """Top-down text on one page, wrapped to the text width."""

    def __init__(self, canvas: Canvas, y: float) -> None:
        self.canvas = canvas
        self.y = y

    def text(self, value: str, *, size: float = 10, font: str = FONT, indent: float = 0, gap: float = 3) -> None:
        # French spacing: no line break inside « … » nor before a colon.
        value = value.replace("« ", "«\u00a0").replace(" »", "\u00a0»").replace(" :", "\u00a0:")
        lines = wrap(printable(value), font, size, TEXT_WIDTH - indent)
        self.canvas.setFont(font, size)
        for line in lines:
            self.y -= size * 1.25
            self.canvas.drawString(MARGIN + indent, self.y, line)
        self.y -= gap

    def step(self, number: int, value: str) -> None:
        self.canvas.setFont(BOLD, 10)
        self.canvas.drawString(MARGIN, self.y - 12.5, f"{number}.")
        self.text(value, indent=16, gap=5)


def _addressee(letter: IssuedLetter) -> str:
    name = f"{letter.first_name} {letter.last_name.upper()}"
    if letter.kind == AccountKind.PUPIL:
        if letter.class_name:
            return _("À l'attention de %(name)s, élève en %(class)s") % {"name": name, "class": letter.class_name}
        return _("À l'attention de %(name)s, élève") % {"name": name}
    children = ", ".join(
        f"{c.first_name} {c.last_name.upper()}" + (f" ({c.class_name})" if c.class_name else "")
        for c in letter.children
    )
    return _("À l'attention de %(name)s, responsable de : %(children)s") % {"name": name, "children": children}


def _other_ways(write: _Writer, letter: IssuedLetter) -> None:
    """A guardian can also activate without the letter: by SMS, or with FranceConnect (the seeds' two ways)."""
    write.y -= 4
    write.text(_("Sans ce courrier, deux autres façons d'activer votre compte"), size=10, font=BOLD, gap=3)
    by_sms = (
        _(
            "Par SMS : sur la page de connexion, cliquez sur « Je n'ai pas de compte » et indiquez le numéro de "
            "téléphone portable que vous avez donné à l'école : vous recevrez un code par SMS."
        )
        if letter.primary
        else _(
            "Par SMS : sur la page de connexion, cliquez sur « Je n'ai pas de compte » et indiquez le numéro de "
            "téléphone portable que vous avez donné à l'établissement : vous recevrez un code par SMS."
        )
    )
    write.text(by_sms, size=9)
    write.text(
        _(
            "Avec FranceConnect : cliquez sur « S'identifier avec FranceConnect » et utilisez votre compte des "
            "impôts ou de l'Assurance Maladie ; à la première connexion, indiquez le même numéro de portable."
        ),
        size=9,
    )


def _help(letter: IssuedLetter) -> str:
    """Whom to ask, as the school gave it in the console; its secretariat, or the école, otherwise."""
    if letter.contact:
        return _("Besoin d'aide ? Contactez %(school)s : %(contact)s.") % {
            "school": letter.school_name or SERVICE_NAME,
            "contact": " · ".join(letter.contact),
        }
    if letter.primary:
        return _("Besoin d'aide ? Contactez l'école, qui peut vous remettre un nouveau courrier.")
    return _("Besoin d'aide ? Contactez le secrétariat de l'établissement, qui peut vous remettre un nouveau courrier.")


def _page(canvas: Canvas, letter: IssuedLetter) -> float:
    """Draws the letter; returns where its text ended (above the footer, or the letter overflows its page)."""
    pupil = letter.kind == AccountKind.PUPIL
    top = HEIGHT - MARGIN
    write = _Writer(canvas, top)
    write.text(letter.school_name or SERVICE_NAME, size=11, font=BOLD, gap=0)
    today = date_format(timezone.localdate(), "DATE_FORMAT")
    canvas.setFont(FONT, 9)
    canvas.drawRightString(WIDTH - MARGIN, top - 11, printable(today))
    write.y -= 18
    write.text(_("Votre compte %(service)s") % {"service": SERVICE_NAME}, size=16, font=BOLD, gap=2)
    services = (
        _("Identifiant et mot de passe provisoire pour les services numériques de l'école (ENT, téléservices).")
        if letter.primary
        else _(
            "Identifiant et mot de passe provisoire pour les services numériques de l'établissement "
            "(ENT, Pronote, téléservices)."
        )
    )
    write.text(services, size=10, gap=8)
    write.text(_addressee(letter), size=11, gap=12)
    # The credentials, in a box with the QR code of the login page beside them.
    box_top, box_height = write.y, QR_SIZE + 16
    canvas.setLineWidth(1.2)
    canvas.roundRect(MARGIN, box_top - box_height, TEXT_WIDTH, box_height, 6)
    canvas.drawImage(
        ImageReader(io.BytesIO(_qr_png(letter.login_url))),
        WIDTH - MARGIN - QR_SIZE - 8,
        box_top - QR_SIZE - 8,
        QR_SIZE,
        QR_SIZE,
    )
    x = MARGIN + 14
    canvas.setFont(FONT, 10)
    canvas.drawString(x, box_top - 26, printable(_("Identifiant")))
    canvas.setFont(MONO, 15)
    canvas.drawString(x, box_top - 46, letter.identifier)
    canvas.setFont(FONT, 10)
    canvas.drawString(x, box_top - 70, printable(_("Mot de passe provisoire")))
    canvas.setFont(MONO, 15)
    canvas.drawString(x, box_top - 90, letter.password)
    canvas.setFont(FONT, 9)
    canvas.drawString(x, box_top - 112, printable(_("Adresse : %(url)s") % {"url": letter.login_url}))
    write.y = box_top - box_height - 6
    expires = date_format(timezone.localtime(letter.expires_at), "SHORT_DATE_FORMAT")
    write.text(
        _(
            "Ce courrier est valable jusqu'au %(date)s et tant que vous n'avez pas validé l'écran "
            "« Activation du compte ». Un nouveau courrier annule celui-ci."
        )
        % {"date": expires},
        font=BOLD,
        gap=14,
    )
    write.text(_("Première connexion"), size=12, font=BOLD, gap=4)
    profile = "Élève ou responsable légal avec EduConnect"
    write.step(
        1,
        _(
            "Sur la page de connexion de l'ENT, choisissez « %(profile)s », ou ouvrez directement l'adresse "
            "ci-dessus (QR code)."
        )
        % {"profile": profile},
    )
    write.step(
        2,
        _(
            "À la première connexion, renseignez l'identifiant et le mot de passe provisoire de ce courrier, "
            "puis cliquez sur « Se connecter »."
        ),
    )
    birth = _("votre date de naissance") if pupil else _("la date de naissance de votre enfant")
    write.step(
        3,
        _(
            "Sur l'écran « Activation du compte », choisissez un nouveau mot de passe et confirmez-le, "
            "renseignez %(birth)s, indiquez si vous le souhaitez une adresse mail, puis cliquez sur "
            "« Activer votre compte »."
        )
        % {"birth": birth},
    )
    write.y -= 4
    write.text(
        _(
            "Ces étapes ne concernent que la première connexion : une fois votre compte activé, il vous suffira "
            "de renseigner votre identifiant et votre mot de passe."
        ),
        size=9,
    )
    write.text(
        _(
            "Vous pouvez activer votre compte même sans adresse mail. Si vous la renseignez, ce qui est "
            "fortement conseillé, elle pourra vous servir si vous oubliez votre identifiant ou votre mot de passe."
        ),
        size=9,
    )
    if pupil:
        write.text(
            _(
                "Si vous avez 15 ans ou plus, vous pouvez indiquer une adresse mail personnelle ; si vous avez "
                "moins de 15 ans, indiquez celle d'un parent."
            ),
            size=9,
        )
    else:
        write.text(
            _(
                "Il est possible que tous vos enfants ne figurent pas sur ce courrier : l'enfant manquant est "
                "rattaché à un autre compte. Vous pourrez regrouper vos enfants sous un seul compte."
            ),
            size=9,
        )
    if not pupil:
        _other_ways(write, letter)
    write.y -= 6
    write.text(_help(letter), size=9, font=BOLD)
    canvas.setFont(FONT, 8)
    canvas.drawString(MARGIN, FOOTER_Y, printable(_never_asked(letter)))
    return write.y


def _never_asked(letter: IssuedLetter) -> str:
    if letter.primary:
        return _("Ne communiquez jamais ce mot de passe : l'école ne vous le demandera jamais.")
    return _("Ne communiquez jamais ce mot de passe : l'établissement ne vous le demandera jamais.")
