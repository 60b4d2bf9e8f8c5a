"""Reading uploads from a request and sending stored files back, always as downloads."""

from __future__ import annotations

from flask import current_app, request, send_file

from evaluation.models import StoredFile
from evaluation.services.file_store import MAX_FILE_BYTES, Upload, blob_path, files_root


def uploads_from_request(field: str = "file") -> list[Upload]:
    """The files of a multipart field; each read to at most one byte past the limit."""
    found = []
    for storage in request.files.getlist(field):
        if storage and storage.filename:
            found.append(Upload(storage.filename, storage.stream.read(MAX_FILE_BYTES + 1)))
    return found


def send_stored(stored: StoredFile):
    """As an attachment of a generic type: a browser saves it and never renders it here."""
    response = send_file(
        blob_path(files_root(current_app), stored.sha256),
        mimetype="application/octet-stream",
        as_attachment=True,
        download_name=stored.original_name,
        max_age=0,
    )
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
