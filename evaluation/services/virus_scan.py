"""Antivirus scanning of uploaded files before they are stored (ASVS V5.4.3).

Off by default. `FILE_SCANNER` (environment `PINGYI_FILE_SCANNER`) chooses the scanner, like
`SMS_SENDER` chooses the SMS gateway: "" (off), "clamd" (ClamAV's daemon, at `CLAMD_ADDRESS`:
a Unix socket path, default /var/run/clamav/clamd.ctl, or host:port), or "module:Class" for
another scanner with `scan(data) -> signature name | None`. A scanner that cannot be reached
refuses the upload (fail closed): evidence files are opened by organizers on their own PCs.
"""

from __future__ import annotations

import importlib
import logging
import socket
import struct
from typing import Protocol

from flask import current_app, has_app_context

DEFAULT_CLAMD_ADDRESS = "/var/run/clamav/clamd.ctl"
CHUNK = 64 * 1024


class ScanFailed(RuntimeError):
    """The scanner could not give an answer."""


class Scanner(Protocol):
    def scan(self, data: bytes) -> str | None:
        """The name of what was found, or None when the bytes are clean."""


class ClamdScanner:
    """ClamAV's clamd over its INSTREAM command (the file never touches clamd's disk)."""

    def __init__(self, address: str = DEFAULT_CLAMD_ADDRESS, timeout: float = 30.0):
        self.address, self.timeout = address, timeout

    def _connect(self) -> socket.socket:
        if self.address.startswith("/"):
            connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            target: object = self.address
        else:
            host, _colon, port = self.address.rpartition(":")
            connection = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            target = (host, int(port))
        connection.settimeout(self.timeout)
        connection.connect(target)
        return connection

    def scan(self, data: bytes) -> str | None:
        try:
            with self._connect() as connection:
                connection.sendall(b"zINSTREAM\0")
                for start in range(0, len(data), CHUNK):
                    chunk = data[start : start + CHUNK]
                    connection.sendall(struct.pack("!I", len(chunk)) + chunk)
                connection.sendall(struct.pack("!I", 0))
                answer = b""
                while not answer.endswith(b"\0"):
                    received = connection.recv(4096)
                    if not received:
                        break
                    answer += received
        except (OSError, ValueError) as error:
            raise ScanFailed(f"clamd at {self.address}: {error}") from error
        text = answer.rstrip(b"\0").decode("utf-8", "replace").strip()
        if text.endswith(" FOUND"):  # "stream: Eicar-Test-Signature FOUND"
            return text.removeprefix("stream:").removesuffix(" FOUND").strip()
        if text.endswith(" OK"):
            return None
        raise ScanFailed(f"clamd at {self.address} answered {text!r}")


def scanner() -> Scanner | None:
    # Uploads arrive in requests (an app context); code storing files without one (test
    # fixtures, scripts) has no configuration to read, so no scanner either.
    if not has_app_context():
        return None
    chosen = (current_app.config.get("FILE_SCANNER") or "").strip()
    if not chosen:
        return None
    if chosen == "clamd":
        return ClamdScanner(current_app.config.get("CLAMD_ADDRESS") or DEFAULT_CLAMD_ADDRESS)
    module_name, _colon, class_name = chosen.partition(":")
    return getattr(importlib.import_module(module_name), class_name)()


def scan_upload(data: bytes, name: str) -> tuple[str, str] | None:
    """None when the file may be stored; else ("infected", signature) or ("failed", "")."""
    from evaluation.security_log import security_event

    chosen = scanner()
    if chosen is None:
        return None
    try:
        found = chosen.scan(data)
    except ScanFailed:
        logging.getLogger(__name__).exception("virus scan failed")
        security_event("upload_scan_failed", level=logging.ERROR, name=name)
        return ("failed", "")
    if found:
        security_event("upload_infected", level=logging.WARNING, name=name, found=found)
        return ("infected", found)
    return None
