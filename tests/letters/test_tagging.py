"""The letters' PDF is tagged (issue #19): read through its structure tree, as a screen reader does.

The structure is read back with pypdf, not with the code that wrote it: each page's content stream is parsed
for its marked-content sequences (the text of each MCID, /ActualText where a line carries one), then the
tree is walked from the catalogue's StructTreeRoot and each leaf's MCIDs looked up on its /Pg.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import pytest
from pypdf import PdfReader
from pypdf.generic import ArrayObject, BooleanObject, ContentStream, DictionaryObject, IndirectObject

from trousseau.accounts.models import AccountKind
from trousseau.letters.export import Child, IssuedLetter
from trousseau.letters.pdf import render_letters_pdf

URL = "https://trousseau.example.fr/login"
PUPIL = IssuedLetter(
    kind=AccountKind.PUPIL,
    identifier="lea.lefevre",
    password="Kx7-pQ2-mN4w",
    first_name="Léa",
    last_name="Lefèvre",
    school_name="Collège Jean-Moulin",
    school_uai="0145678B",
    class_name="5e B",
    children=(),
    expires_at=datetime(2027, 3, 1, 12, tzinfo=UTC),
    login_url=URL,
)
GUARDIAN = replace(
    PUPIL,
    kind=AccountKind.GUARDIAN,
    identifier="sophie.lefevre",
    password="Tr9-vB3-hJ6q",
    first_name="Sophie",
    class_name="",
    children=(Child("Léa", "Lefèvre", "5e B", "Collège Jean-Moulin"),),
    contact=("02 31 00 00 00",),
)


# What puts marks on the page: text shown, an image, a path stroked or filled.
DRAWING = {b"Tj", b"TJ", b"'", b'"', b"Do", b"S", b"s", b"f", b"F", b"f*", b"B", b"B*", b"b", b"b*", b"sh"}


@dataclass
class Element:
    role: str
    alt: str = ""
    text: str = ""  # a leaf's content, its MCIDs' text in order
    kids: list[Element] = field(default_factory=list)

    def walk(self) -> list[Element]:
        return [self, *(e for kid in self.kids for e in kid.walk())]


def catalogue(reader: PdfReader) -> Any:
    return reader.trailer["/Root"]


def _resolve(obj: Any) -> Any:
    return obj.get_object() if isinstance(obj, IndirectObject) else obj


def _marked_content(reader: PdfReader, page_number: int) -> tuple[dict[int, str], list[str]]:
    """The text of each MCID on the page, and what is drawn outside any MCID or artifact (should be nothing)."""
    # reportlab shows text with Tj only; TJ, ' and " would be drawn but not read here.
    page = reader.pages[page_number]
    texts: dict[int, str] = {}
    stack: list[tuple[str, Any]] = []  # the open sequences: (tag, properties)
    untagged: list[str] = []
    for operands, operator in ContentStream(page.get_contents(), reader).operations:
        if operator in (b"BDC", b"BMC"):
            properties: Any = operands[1] if operator == b"BDC" else DictionaryObject()
            stack.append((operands[0], properties))
            if "/MCID" in properties:
                texts[properties["/MCID"]] = ""
            actual = properties.get("/ActualText")
            mcids = [p["/MCID"] for _, p in stack if "/MCID" in p]
            if actual is not None and mcids:
                texts[mcids[-1]] = texts.get(mcids[-1], "") + str(actual)
        elif operator == b"EMC":
            stack.pop()
        elif operator in DRAWING:
            mcids = [p["/MCID"] for _, p in stack if "/MCID" in p]
            in_artifact = any(tag == "/Artifact" for tag, _ in stack)
            replaced = any("/ActualText" in p for _, p in stack)
            if not mcids and not in_artifact:
                untagged.append(f"{operator.decode()} {operands}")
            elif operator == b"Tj" and mcids and not replaced:
                shown = operands[0].get_original_bytes().decode("cp1252")
                texts[mcids[-1]] = texts.get(mcids[-1], "") + shown
    return texts, untagged


def read_structure(pdf: bytes) -> tuple[PdfReader, Element, set[tuple[int, int]]]:
    """The structure tree with each leaf's text, and the (page, MCID) pairs its leaves cover."""
    reader = PdfReader(io.BytesIO(pdf))
    page_numbers = {page.indirect_reference.idnum: n for n, page in enumerate(reader.pages)}
    contents = [_marked_content(reader, n)[0] for n in range(len(reader.pages))]
    covered: set[tuple[int, int]] = set()

    def element(reference: IndirectObject) -> Element:
        node: Any = reference.get_object()
        found = Element(str(node["/S"])[1:], alt=str(node.get("/Alt", "")))
        kids = node.raw_get("/K")
        for kid in kids if isinstance(kids, ArrayObject) else [kids]:
            if isinstance(kid, int):
                page = page_numbers[node.raw_get("/Pg").idnum]
                assert (page, kid) not in covered, "an MCID in two elements"
                covered.add((page, kid))
                found.text += contents[page][kid]
            else:
                assert kid.get_object().raw_get("/P").idnum == reference.idnum, "a kid's /P is not its parent"
                found.kids.append(element(kid))
        return found

    tree_root = catalogue(reader)["/StructTreeRoot"]
    return reader, element(tree_root.raw_get("/K")), covered


def reading(root: Element) -> list[str]:
    """What a screen reader says, leaf by leaf: the text, or a figure's /Alt."""
    return [e.alt or e.text for e in root.walk() if not e.kids and (e.text or e.alt)]


def _plain(text: str) -> str:
    return " ".join(text.split())  # no-break spaces of the French typography read as spaces


def test_a_guardians_letter_reads_in_the_letters_order():
    _reader, root, _covered = read_structure(render_letters_pdf([GUARDIAN]))
    assert root.role == "Document"
    [section] = root.kids
    assert section.role == "Sect"
    said = [_plain(text) for text in reading(root)]
    expected_order = [  # whole elements, or their beginning (…)
        "Collège Jean-Moulin",
        "Votre compte Trousseau",
        "À l'attention de Sophie LEFÈVRE, responsable de : Léa LEFÈVRE (5e B)",
        "Identifiant",
        "sophie.lefevre",
        "Mot de passe provisoire",
        "Tr9-vB3-hJ6q",
        f"Adresse : {URL}",
        f"Code QR : il ouvre la page de connexion, {URL}",
        "Ce courrier est valable jusqu'au 01/03/2027…",
        "Première connexion",
        "1.",
        "Sur la page de connexion de l'ENT…",
        "2.",
        "À la première connexion…",
        "3.",
        "Sur l'écran « Activation du compte »…",
        "Sans ce courrier, deux autres façons d'activer votre compte",
        "Par SMS…",
        "Avec FranceConnect…",
        "Besoin d'aide ? Contactez Collège Jean-Moulin : 02 31 00 00 00.",
        "Ne communiquez jamais ce mot de passe…",
    ]

    def position(expected: str) -> int:
        [found] = [
            i
            for i, text in enumerate(said)
            if text == expected or (expected.endswith("…") and text.startswith(expected[:-1]))
        ]
        return found

    positions = [position(expected) for expected in expected_order]
    assert positions == sorted(positions), said
    # Wrapped lines join with their space: a paragraph reads as the sentence it is.
    assert (
        "À la première connexion, renseignez l'identifiant et le mot de passe provisoire de ce courrier, puis "
        "cliquez sur « Se connecter »."
    ) in said


def test_headings_list_and_figure_are_tagged_as_such():
    _reader, root, _covered = read_structure(render_letters_pdf([PUPIL]))
    roles = [e.role for e in root.walk()]
    assert roles.count("H1") == 1
    [h1] = [e for e in root.walk() if e.role == "H1"]
    assert _plain(h1.text) == "Votre compte Trousseau"
    assert [_plain(e.text) for e in root.walk() if e.role == "H2"] == ["Première connexion"]  # a pupil: no other ways
    [steps] = [e for e in root.walk() if e.role == "L"]
    assert [[kid.role for kid in item.kids] for item in steps.kids] == [["Lbl", "LBody"]] * 3
    assert [item.kids[0].text for item in steps.kids] == ["1.", "2.", "3."]
    [figure] = [e for e in root.walk() if e.role == "Figure"]
    assert figure.alt == f"Code QR : il ouvre la page de connexion, {URL}"


def test_the_qr_figure_has_its_alternative_and_its_box():
    reader = PdfReader(io.BytesIO(render_letters_pdf([PUPIL])))
    figures: list[Any] = []

    def collect(node: DictionaryObject) -> None:
        if node.get("/S") == "/Figure":
            figures.append(node)
        kids = _resolve(node.get("/K"))
        for kid in kids if isinstance(kids, list) else [kids]:
            if isinstance(_resolve(kid), DictionaryObject):
                collect(_resolve(kid))

    collect(_resolve(catalogue(reader)["/StructTreeRoot"]["/K"]))
    [figure] = figures
    assert URL in figure["/Alt"]
    x0, y0, x1, y1 = (float(v) for v in figure["/A"]["/BBox"])
    assert round(x1 - x0) == round(y1 - y0) == 112  # the QR code's size on the page


@pytest.mark.parametrize("count", [1, 2, 50])
def test_every_mcid_is_in_the_tree_and_the_parent_tree_maps_it_one_page_per_letter(count):
    letters = [replace(GUARDIAN if n % 2 else PUPIL, identifier=f"compte.{n}") for n in range(count)]
    reader, root, covered = read_structure(render_letters_pdf(letters))
    assert len(reader.pages) == count
    assert [kid.role for kid in root.kids] == ["Sect"] * count
    tree_root = catalogue(reader)["/StructTreeRoot"]
    assert tree_root["/ParentTreeNextKey"] == count
    parent_tree = dict(zip(*[iter(_resolve(tree_root["/ParentTree"])["/Nums"])] * 2, strict=True))
    drawn: set[tuple[int, int]] = set()
    for number, page in enumerate(reader.pages):
        texts, untagged = _marked_content(reader, number)
        assert untagged == []  # every glyph and image is in a structure element or an artifact
        drawn |= {(number, mcid) for mcid in texts}
        parents = _resolve(parent_tree[page["/StructParents"]])
        assert len(parents) == len(texts)
        for mcid, reference in enumerate(parents):
            parent = _resolve(reference)
            kids = _resolve(parent["/K"])
            assert mcid in (kids if isinstance(kids, list) else [kids])
            assert parent.raw_get("/Pg").idnum == page.indirect_reference.idnum
        assert f"compte.{number}" in reading(root.kids[number])
    assert covered == drawn


def test_the_catalogue_says_tagged_language_and_title():
    reader = PdfReader(io.BytesIO(render_letters_pdf([PUPIL])))
    root = catalogue(reader)
    assert root["/MarkInfo"]["/Marked"] == BooleanObject(True)
    assert root["/Lang"] == "fr"
    assert root["/ViewerPreferences"]["/DisplayDocTitle"] == BooleanObject(True)
    assert reader.metadata is not None
    assert reader.metadata.title == "Courriers d'activation Trousseau"
    assert reader.pdf_header >= "%PDF-1.4"
    spanish = PdfReader(io.BytesIO(render_letters_pdf([PUPIL], language="es")))
    assert catalogue(spanish)["/Lang"] == "es"


def test_names_outside_the_fonts_are_read_as_written():
    """Printed without their accents (the standard fonts lack ễ and Ł), read with them through /ActualText."""
    letter = replace(
        GUARDIAN,
        first_name="Thị",
        last_name="Nguyễn",
        children=(Child("Łukasz", "Nguyễn", "5e B", "Collège Jean-Moulin"),),
    )
    pdf = render_letters_pdf([letter])
    said = [_plain(text) for text in reading(read_structure(pdf)[1])]
    assert "À l'attention de Thị NGUYỄN, responsable de : Łukasz NGUYỄN (5e B)" in said
    printed = " ".join(PdfReader(io.BytesIO(pdf)).pages[0].extract_text().split())
    assert "Thi NGUYEN" in printed  # the glyphs on paper
