"""A SIECLE file as SIECLE writes it, read whole in C: one parse (libxml2), one XSLT (libxslt), no Python per field.

siecle_xml.SiecleFile.elements streams any file and visits each item in Python (about 15 µs an item). A
school's export is a few MB: parsed whole, its wanted items become tab-separated lines in one XSLT, and
Python only splits the lines. The result is exactly what the stream hands out, because only a file of the
plain shape SIECLE writes is read this way: one PARAMETRES first, every item where the stream looks for it
(`DONNEES/<list>/<item>`) and nowhere else, the wanted fields leaves, no comment, processing instruction or
namespace in the document, no tab or newline in a field. Anything else (broken XML, another root, a DTD, an
odd nesting) returns None: the stream reads the file again and says what is wrong, as it always did.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from lxml import etree

Wanted = dict[tuple[str, str], tuple[str, tuple[str, ...] | None]]
Item = tuple[str, int, str, Any]
GROUP = "#"  # opens a group of a grouped item's line (never an element name, so never a leaf's name)
TAB, NEWLINE = "&#9;", "&#10;"  # in the stylesheet (XML)
SEPARATORS = "contains(., '\t') or contains(., '\n')"  # in XPath: the characters themselves


def _parser() -> etree.XMLParser:
    # The stream's options (siecle_xml.SiecleFile.elements): no entity, no network, no DTD, no huge tree.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def read_whole(text: bytes, root: str, wanted: Wanted, item_tags: tuple[str, ...]) -> list[Item] | None:
    """(list, line, identifier, fields or groups) of each wanted item, PARAMETRES first; None: stream it instead."""
    try:
        tree = etree.fromstring(text, _parser())  # noqa: S320 (no entity, no DTD, no network: the stream's options)
    except etree.XMLSyntaxError:
        return None
    if tree.tag != root:
        return None
    specs = tuple(sorted(wanted.items()))
    shape, transform, items = _compiled(specs, item_tags)
    if not shape(tree):
        return None
    params = tree[0]
    found: list[Item] = [("PARAMETRES", params.sourceline, "", _leaves(params))]
    lines = str(transform(tree.getroottree())).split("\n")
    elements = items(tree)
    if len(lines) != len(elements) + 1:
        return None  # cannot happen: each item writes one line
    for line, element in zip(lines, elements, strict=False):
        parts = line.split("\t")
        (list_tag, _), (_, names) = specs[int(parts[0])]
        if names is not None:
            found.append((list_tag, element.sourceline, parts[1], tuple(map(str.strip, parts[2:]))))
        else:
            found.append((list_tag, element.sourceline, parts[1], _groups(parts[2:])))
    return found


def _leaves(element: Any) -> dict[str, str]:
    return {child.tag: (child.text or "").strip() for child in element if not len(child)}


def _groups(parts: list[str]) -> list[dict[str, str]]:
    """`# name value name value # …`: a name is never "#", so a value may be anything."""
    groups: list[dict[str, str]] = []
    i = 0
    while i < len(parts):
        if parts[i] == GROUP:
            groups.append({})
            i += 1
        else:
            groups[-1][parts[i]] = parts[i + 1].strip()
            i += 2
    return groups


@lru_cache(maxsize=8)
def _compiled(specs: tuple[Any, ...], item_tags: tuple[str, ...]) -> tuple[etree.XPath, etree.XSLT, etree.XPath]:
    paths = [f"/*/DONNEES/{list_tag}/{item_tag}" for (list_tag, item_tag), _ in specs]
    union = " | ".join(paths)
    others = [t for t in item_tags if t != "PARAMETRES"]
    conditions = [
        "not(/*//comment() | /*//processing-instruction() | //*[namespace-uri() != ''])",
        "count(//PARAMETRES) = 1 and name(/*/*[1]) = 'PARAMETRES'",
        # Items only where the stream takes them: nested in a field, the stream would clear their siblings.
        f"count({' | '.join('//' + t for t in others)}) = count({' | '.join('/*/DONNEES/*/' + t for t in others)})",
    ]
    for path, (_, (attribute, names)) in zip(paths, specs, strict=True):
        leaves = f"{path}/*" if names is not None else f"{path}/*/*"
        conditions.append(f"not({leaves}/*)")
        conditions.append(f"not({leaves}[{SEPARATORS}])")
        if attribute:
            conditions.append(f"not({path}/@{attribute}[{SEPARATORS}])")
    shape = etree.XPath("boolean(" + " and ".join(f"({c})" for c in conditions) + ")")
    stylesheet = etree.fromstring(_stylesheet(specs, union))
    transform = etree.XSLT(stylesheet, access_control=etree.XSLTAccessControl.DENY_ALL)
    return shape, transform, etree.XPath(union)


def _stylesheet(specs: tuple[Any, ...], union: str) -> str:
    tab = f"<xsl:text>{TAB}</xsl:text>"
    branches = []
    for n, ((list_tag, item_tag), (attribute, names)) in enumerate(specs):
        ident = f'<xsl:value-of select="@{attribute}"/>' if attribute else ""
        if names is not None:
            fields = "".join(f'{tab}<xsl:value-of select="{name}[last()]"/>' for name in names)
        else:
            fields = (
                f'<xsl:for-each select="*[*]">{tab}<xsl:text>{GROUP}</xsl:text>'
                f'<xsl:for-each select="*">{tab}<xsl:value-of select="name()"/>{tab}<xsl:value-of select="."/>'
                "</xsl:for-each></xsl:for-each>"
            )
        branches.append(
            f'<xsl:when test="self::{item_tag} and parent::{list_tag}"><xsl:text>{n}</xsl:text>{tab}{ident}{fields}'
            "</xsl:when>"
        )
    return (
        '<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">'
        '<xsl:output method="text" encoding="UTF-8"/><xsl:template match="/">'
        f'<xsl:for-each select="{union}"><xsl:choose>{"".join(branches)}</xsl:choose>'
        f"<xsl:text>{NEWLINE}</xsl:text></xsl:for-each></xsl:template></xsl:stylesheet>"
    )
