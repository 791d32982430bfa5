"""Django's MessageMiddleware, with the message storage made when a request first uses it.

Django's middleware builds the storage for every request (a cookie storage with its signer and a
session storage behind it) and asks it at the end of the response whether anything changed. Most
requests of a sign-in never touch messages: redirects, the SAML pages, the JSON of the back channel
(issue #21). Here `request._messages` is a lazy object that builds Django's storage at its first use
(a message added, the page's `{% if messages %}`); a request that never used it stores nothing, which
is what Django's storage would conclude (nothing read, nothing added), and messages kept from an
earlier request stay where they are for the next page that shows them.
"""

from __future__ import annotations

from django.contrib.messages import middleware
from django.contrib.messages.storage import default_storage
from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject, empty


class MessageMiddleware(middleware.MessageMiddleware):
    def process_request(self, request: HttpRequest) -> None:
        # Django's own attribute, as its middleware sets it.
        request._messages = SimpleLazyObject(lambda: default_storage(request))  # type: ignore[attr-defined]  # noqa: SLF001

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        stored = getattr(request, "_messages", None)
        # A lazy object keeps what it wraps in its own __dict__, `empty` until its first use.
        if isinstance(stored, SimpleLazyObject) and stored.__dict__.get("_wrapped") is empty:
            return response  # never read nor added to: nothing to store
        return super().process_response(request, response)
