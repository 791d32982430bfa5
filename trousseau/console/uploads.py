"""Uploads cut short: a 3 GB file is refused while it arrives, not after it filled the disk."""

from __future__ import annotations

from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest


class CappedUploadHandler(FileUploadHandler):
    """Stops the upload as soon as the request body passes `cap` bytes; `exceeded` tells the view."""

    def __init__(self, request: HttpRequest, cap: int) -> None:
        super().__init__(request)
        self.cap = cap
        self.received = 0
        self.exceeded = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        if self.received > self.cap:
            self.exceeded = True
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def declared_too_large(request: HttpRequest, cap: int) -> bool:
    """The body announces more than `cap` bytes: refuse it before reading a byte of it."""
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) > cap
    except ValueError:
        return True


def install(request: HttpRequest, cap: int) -> CappedUploadHandler:
    """Put the cap before Django's own handlers; call before anything reads request.POST or FILES."""
    handler = CappedUploadHandler(request, cap)
    request.upload_handlers = [handler, *request.upload_handlers]
    return handler
