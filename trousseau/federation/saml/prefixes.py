"""One namespace prefix per namespace in what we send: samlp, saml, ds, xenc, xs, xsi.

pysaml2 serialises with ElementTree, which names namespaces it was not told about ns0, ns1…, and gives
the assertion inside an EncryptedAssertion prefixes of its own (encas0, encas1…) so that it is a
standalone document once decrypted. python3-saml (OneLogin), the library of many ENTs, decrypts the
assertion in place: libxml2 parses it in the context of the response and binds its names to the
response's declarations, so an assertion whose prefixes differ from the response's no longer matches
its exclusive-C14N signature and the SP rejects it. With the same prefix for a namespace in the
response and in the assertion, both kinds of SP verify it: those that read the decrypted assertion as
a document (pysaml2) and those that put it back into the response (python3-saml).
"""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

from saml2 import samlp
from saml2.saml import NAMESPACE as SAML
from saml2.saml import XS_NAMESPACE, XSI_NAMESPACE
from saml2.xmldsig import NAMESPACE as DS
from saml2.xmlenc import NAMESPACE as XENC

PREFIXES = {"samlp": samlp.NAMESPACE, "saml": SAML, "ds": DS, "xenc": XENC, "xs": XS_NAMESPACE, "xsi": XSI_NAMESPACE}
_BY_URI = {uri: prefix for prefix, uri in PREFIXES.items()}


def _self_contained_prefixes(response: samlp.Response, elements: list[Any]) -> dict[str, str]:
    """pysaml2's `get_prefix_map`, with the response's prefixes instead of encas0, encas1…"""
    uris = sorted(response.get_ns_map(elements, set()))
    return {_BY_URI.get(uri, f"encas{index}"): uri for index, uri in enumerate(uris)}


def install() -> None:
    """Called once by the app's `ready()`: ElementTree's prefix registry is process-wide."""
    for prefix, uri in PREFIXES.items():
        ET.register_namespace(prefix, uri)
    samlp.Response.get_prefix_map = _self_contained_prefixes
