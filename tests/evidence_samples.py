"""Small, real files of each accepted kind (and impostors) for upload tests."""

from __future__ import annotations

import io
import zipfile

from openpyxl import Workbook

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
# A Windows executable's first bytes ("MZ" header), as someone renames it to .pdf.
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200


def xlsx() -> bytes:
    book = Workbook()
    book.active["A1"] = "普法台账"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def plain_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "not an office document")
    return out.getvalue()


# The antivirus test file (eicar.org): every scanner reports it, it harms nothing.
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


class FakeScanner:
    """A scanner for tests (FILE_SCANNER="evidence_samples:FakeScanner"): finds EICAR."""

    def scan(self, data: bytes) -> str | None:
        return "Eicar-Test-Signature" if EICAR in data else None


class BrokenScanner:
    """A scanner that cannot be reached."""

    def scan(self, data: bytes) -> str | None:
        from evaluation.services.virus_scan import ScanFailed

        raise ScanFailed("connection refused")
