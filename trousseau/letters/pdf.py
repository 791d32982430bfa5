"""Activation letters as PDF: one A4 page per account, in French by default (reportlab, segno).

Each page carries the identifier, a fresh provisional password, the validity date, the first-login
steps of the seed guides (002 for guardians, 003 for pupils) and a QR code to the login page.
`letters_pdf(accounts)` issues and renders; `render_letters_pdf(letters)` renders letters already
issued (export.letters_issue), for a PDF and a CSV of the same passwords. The PDF is tagged (tagging.py): each
piece of a letter is drawn inside the structure element a screen reader will announce.
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
from trousseau.letters.tagging import Tagger

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
    # PDF 1.4: the version of /MarkInfo, /Lang and DisplayDocTitle, which a tagged PDF needs.
    canvas = Canvas(out, pagesize=A4, pageCompression=1, pdfVersion=(1, 4))
    canvas.setTitle(f"Courriers d'activation {SERVICE_NAME}")
    canvas.setAuthor(SERVICE_NAME)
    tags = Tagger(canvas, lang=language)
    with translation.override(language):
        for letter in letters:
            with tags.group("Sect"):
                _page(tags, letter)
            tags.show_page()
    tags.finish()
    canvas.save()
    return out.getvalue()


@cache
def _qr_png(url: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=8, border=4)
    return buffer.getvalue()


def printable(text: str) -> str:
    """The standard PDF fonts cover Windows-1252: other letters lose their accents, not their place."""
    if _encodable(text):  # nearly every text: no need to look at each letter
        return text
    return "".join(ch if _encodable(ch) else _fold(ch) for ch in text)


def _encodable(text: str) -> bool:
    try:
        text.encode("cp1252")
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
    """Lines that fit the width once printable, broken at plain spaces only (a no-break space holds).

    The lines keep the letters as written, for the tagged PDF's /ActualText; they are measured as printed.
    """
    lines: list[str] = []
    line = shown = ""
    for word in text.split(" "):
        word_shown = printable(word)
        candidate, candidate_shown = (f"{line} {word}", f"{shown} {word_shown}") if line else (word, word_shown)
        if line and stringWidth(candidate_shown, font, size) > width:
            lines.append(line)
            line, shown = word, word_shown
        else:
            line, shown = candidate, candidate_shown
    return [*lines, line]


def _draw(tags: Tagger, x: float, y: float, text: str, *, right: bool = False) -> None:
    """One line in the current font: printable letters on the page, the letters as written for a reader."""
    shown = printable(text)
    with tags.actual_text(text, shown):
        if right:
            tags.canvas.drawRightString(x, y, shown)
        else:
            tags.canvas.drawString(x, y, shown)


class _Writer:
    """Top-down text on one page, wrapped to the text width; each text one structure element (a paragraph…)."""

    def __init__(self, tags: Tagger, y: float) -> None:
        self.tags = tags
        self.canvas = tags.canvas
        self.y = y

    def text(  # noqa: PLR0913 - keyword-only drawing options
        self,
        value: str,
        *,
        size: float = 10,
        font: str = FONT,
        indent: float = 0,
        gap: float = 3,
        role: str = "P",
    ) -> None:
        # French spacing: no line break inside « … » nor before a colon.
        value = value.replace("« ", "«\u00a0").replace(" »", "\u00a0»").replace(" :", "\u00a0:")
        lines = wrap(value, font, size, TEXT_WIDTH - indent)
        self.canvas.setFont(font, size)
        with self.tags.content(role):
            for number, line in enumerate(lines, 1):
                self.y -= size * 1.25
                # The space it was broken at ends the line (unseen): read aloud, its last word and the next stay two.
                _draw(self.tags, MARGIN + indent, self.y, line if number == len(lines) else f"{line} ")
        self.y -= gap

    def step(self, number: int, value: str) -> None:
        """A numbered step: a list item, its number the label and its text the body."""
        with self.tags.group("LI"):
            self.canvas.setFont(BOLD, 10)
            with self.tags.content("Lbl"):
                self.canvas.drawString(MARGIN, self.y - 12.5, f"{number}.")
            self.text(value, indent=16, gap=5, role="LBody")


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
    write.text(_("Sans ce courrier, deux autres façons d'activer votre compte"), size=10, font=BOLD, gap=3, role="H2")
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


def _page(tags: Tagger, letter: IssuedLetter) -> float:
    """Draws the letter; returns where its text ended (above the footer, or the letter overflows its page).

    Its structure elements, in reading order: the school and the date, the title (H1), whom it is for, the
    identifier and the password with the QR code (a Figure), the validity, the first-login steps (H2 and a
    list), the notes, a guardian's other ways (H2), whom to ask and the never-share line.
    """
    canvas = tags.canvas
    pupil = letter.kind == AccountKind.PUPIL
    top = HEIGHT - MARGIN
    write = _Writer(tags, top)
    write.text(letter.school_name or SERVICE_NAME, size=11, font=BOLD, gap=0)
    today = date_format(timezone.localdate(), "DATE_FORMAT")
    canvas.setFont(FONT, 9)
    with tags.content("P"):
        _draw(tags, WIDTH - MARGIN, top - 11, today, right=True)
    write.y -= 18
    write.text(_("Votre compte %(service)s") % {"service": SERVICE_NAME}, size=16, font=BOLD, gap=2, role="H1")
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
    write.y = _credentials(tags, letter, write.y) - 6
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
    write.text(_("Première connexion"), size=12, font=BOLD, gap=4, role="H2")
    with tags.group("L"):
        _first_login_steps(write, pupil=pupil)
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
    with tags.content("P"):
        _draw(tags, MARGIN, FOOTER_Y, _never_asked(letter))
    return write.y


def _credentials(tags: Tagger, letter: IssuedLetter, box_top: float) -> float:
    """The identifier and the password in a box, the QR code of the login page beside them; returns its bottom."""
    canvas = tags.canvas
    box_height = QR_SIZE + 16
    canvas.setLineWidth(1.2)
    with tags.artifact():
        canvas.roundRect(MARGIN, box_top - box_height, TEXT_WIDTH, box_height, 6)
    x = MARGIN + 14
    for label, value, y in (
        (_("Identifiant"), letter.identifier, box_top - 26),
        (_("Mot de passe provisoire"), letter.password, box_top - 70),
    ):
        canvas.setFont(FONT, 10)
        with tags.content("P"):
            _draw(tags, x, y, label)
        canvas.setFont(MONO, 15)
        with tags.content("P"):
            canvas.drawString(x, y - 20, value)
    canvas.setFont(FONT, 9)
    with tags.content("P"):
        _draw(tags, x, box_top - 112, _("Adresse : %(url)s") % {"url": letter.login_url})
    # Drawn after the text beside it, which it does not overlap, so that it is read after the address.
    qr_x, qr_y = WIDTH - MARGIN - QR_SIZE - 8, box_top - QR_SIZE - 8
    qr_alt = _("Code QR : il ouvre la page de connexion, %(url)s") % {"url": letter.login_url}
    with tags.content("Figure", alt=qr_alt, bbox=(qr_x, qr_y, qr_x + QR_SIZE, qr_y + QR_SIZE)):
        canvas.drawImage(ImageReader(io.BytesIO(_qr_png(letter.login_url))), qr_x, qr_y, QR_SIZE, QR_SIZE)
    return box_top - box_height


def _first_login_steps(write: _Writer, *, pupil: bool) -> None:
    """The seed guides' three steps, the items of a numbered list."""
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


def _never_asked(letter: IssuedLetter) -> str:
    if letter.primary:
        return _("Ne communiquez jamais ce mot de passe : l'école ne vous le demandera jamais.")
    return _("Ne communiquez jamais ce mot de passe : l'établissement ne vous le demandera jamais.")
