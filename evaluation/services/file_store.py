"""Uploaded files: type checked by content, kept outside the web root under a content hash.

The browser's file name and Content-Type are only labels: a renamed .exe is still an .exe.
Blobs live in `<instance>/files/ab/abcdef...` (the SHA-256), never under static/, and are
sent back only as downloads (see views/files.py), so nothing uploaded is ever rendered.
"""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

from flask_babel import gettext as _
from sqlmodel import Session

from evaluation.models import StoredFile
from evaluation.services.errors import ValidationFailed

MAX_FILE_BYTES = 10 * 1024 * 1024
OLE2_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")  # legacy .doc / .xls / .ppt
# Parts an Office Open XML package must carry, per kind (a plain .zip has none of them).
OOXML_PARTS = {
    "word/document.xml": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xl/workbook.xml": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt/presentation.xml": (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation"
    ),
}
ACCEPTED_KINDS = "PDF, PNG, JPEG, GIF, WebP, Word, Excel, PowerPoint"
# The extensions a file of each sniffed kind may carry (ASVS V5.2.2): the name is what the
# organizer's computer opens the download with, so a PDF named report.exe is refused.
# OLE2 is the pre-2007 container of Word, Excel and PowerPoint, and of WPS's own formats.
EXTENSIONS = {
    "application/pdf": (".pdf",),
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg", ".jpe", ".jfif"),
    "image/gif": (".gif",),
    "image/webp": (".webp",),
    "application/x-ole-storage": (".doc", ".xls", ".ppt", ".wps", ".et", ".dps"),
    OOXML_PARTS["word/document.xml"]: (".docx",),
    OOXML_PARTS["xl/workbook.xml"]: (".xlsx",),
    OOXML_PARTS["ppt/presentation.xml"]: (".pptx",),
}


@dataclass(frozen=True)
class Upload:
    name: str
    data: bytes


def sniff_media_type(data: bytes) -> str | None:
    """The media type the bytes themselves show, or None when it is not an accepted kind."""
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(OLE2_MAGIC):
        return "application/x-ole-storage"  # .doc/.xls/.ppt: the container tells no more
    if data.startswith(b"PK\x03\x04"):
        return _ooxml_type(data)
    return None


def _ooxml_type(data: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile:
        return None
    if "[Content_Types].xml" not in names:
        return None
    return next((kind for part, kind in OOXML_PARTS.items() if part in names), None)


def safe_display_name(name: str) -> str:
    """The last path component, without control characters, at most 200 characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable()).strip()
    return (cleaned or "file")[-200:]


def check_upload(upload: Upload, field: str = "file") -> str:
    """The sniffed media type; ValidationFailed naming the file and the rule otherwise."""
    name = safe_display_name(upload.name)
    if not upload.data:
        raise ValidationFailed({field: _("文件“%(name)s”是空的。", name=name)})
    if len(upload.data) > MAX_FILE_BYTES:
        raise ValidationFailed(
            {
                field: _(
                    "文件“%(name)s”超过大小上限 %(mb)d MB。",
                    name=name,
                    mb=MAX_FILE_BYTES // (1024 * 1024),
                )
            }
        )
    media_type = sniff_media_type(upload.data)
    if media_type is None:
        from evaluation.security_log import security_event

        # A file whose bytes are no accepted kind: a mistake, or an attempt to plant one.
        security_event("upload_refused", name=name, size=len(upload.data))
        raise ValidationFailed(
            {
                field: _(
                    "文件“%(name)s”的内容不是允许的类型（%(kinds)s），与文件扩展名无关。",
                    name=name,
                    kinds=ACCEPTED_KINDS,
                )
            }
        )
    extensions = EXTENSIONS[media_type]
    if not name.lower().endswith(extensions):
        from evaluation.security_log import security_event

        security_event("upload_refused", name=name, size=len(upload.data), sniffed=media_type)
        raise ValidationFailed(
            {
                field: _(
                    "文件“%(name)s”的扩展名与内容不符：按内容应为 %(extensions)s 文件。"
                    "请核对后重新选择文件。",
                    name=name,
                    extensions="、".join(extensions),
                )
            }
        )
    return media_type


def files_root(app) -> Path:
    """FILES_FOLDER when configured, else `files/` in the instance folder (not web-served)."""
    return Path(app.config.get("FILES_FOLDER") or Path(app.instance_path) / "files")


def blob_path(root: Path, sha256: str) -> Path:
    return root / sha256[:2] / sha256


def write_blob(root: Path, data: bytes) -> str:
    """Write once under the hash (atomically: a crash leaves no half file) and return it."""
    sha256 = hashlib.sha256(data).hexdigest()
    target = blob_path(root, sha256)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(f".{os.getpid()}.part")
        partial.write_bytes(data)
        os.replace(partial, target)
    return sha256


def _refuse_if_infected(upload: Upload, field: str) -> None:
    """The configured antivirus scanner (off by default: services/virus_scan.py) sees the
    bytes before they are written; a finding, or a scanner that cannot answer, refuses."""
    from evaluation.services.virus_scan import scan_upload

    name = safe_display_name(upload.name)
    outcome = scan_upload(upload.data, name)
    if outcome is None:
        return
    if outcome[0] == "infected":
        message = _("文件“%(name)s”未通过病毒扫描（%(found)s），未保存。", name=name,
                    found=outcome[1])
    else:
        message = _("暂时无法完成对文件“%(name)s”的病毒扫描，未保存，请稍后再试。", name=name)
    raise ValidationFailed({field: message})


def store_upload(
    session: Session, root: Path, upload: Upload, *, user_id: int, field: str = "file"
) -> StoredFile:
    """Check, write the blob, add the row (flushed, not committed: the caller commits)."""
    media_type = check_upload(upload, field)
    _refuse_if_infected(upload, field)
    sha256 = write_blob(root, upload.data)
    stored = StoredFile(
        sha256=sha256,
        size_bytes=len(upload.data),
        media_type=media_type,
        original_name=safe_display_name(upload.name),
        uploaded_by=user_id,
    )
    session.add(stored)
    session.flush()
    return stored
