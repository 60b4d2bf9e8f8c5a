"""实地考察 photos: images only (by content), size and count limits, content-hash storage.

Stored through services/file_store.py outside the web root and sent back only as downloads
to whoever may see the sheet (views/inspector_sheets.py). A photo carries an id made by the
page, so a resent upload (a flaky network, a double tap) is the same photo, not a second one.
"""

from __future__ import annotations

from pathlib import Path

from flask_babel import gettext as _
from sqlmodel import Session, select

from evaluation.models import InspectionPhoto, StoredFile, User
from evaluation.services.errors import ValidationFailed
from evaluation.services.file_store import Upload, check_upload, safe_display_name, store_upload
from evaluation.services.inspection_sheets import (
    Visit,
    check_client_id,
    closed_reason,
    require,
    sheet_leaves,
)
from evaluation.services.persistence import commit_or_fail

MAX_PHOTOS_PER_INDICATOR = 6
MAX_PHOTOS_PER_SHEET = 40
MAX_PHOTO_BYTES = 8 * 1024 * 1024
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")


def photos_of(db: Session, sheet_id: int) -> list[tuple[InspectionPhoto, StoredFile]]:
    return list(
        db.exec(
            select(InspectionPhoto, StoredFile)
            .join(StoredFile, StoredFile.id == InspectionPhoto.file_id)
            .where(InspectionPhoto.sheet_id == sheet_id)
            .order_by(InspectionPhoto.id)
        ).all()
    )


def check_photo(upload: Upload, field: str) -> str:
    """An image by its content (PNG, JPEG, GIF, WebP) within the size limit, or refused."""
    name = safe_display_name(upload.name)
    if len(upload.data) > MAX_PHOTO_BYTES:
        raise ValidationFailed({field: _(
            "照片“%(name)s”超过大小上限 %(mb)d MB。", name=name, mb=MAX_PHOTO_BYTES // 2**20,
        )})  # fmt: skip
    try:
        media_type = check_upload(upload, field)
    except ValidationFailed:
        media_type = None
    if media_type not in IMAGE_TYPES:
        raise ValidationFailed({field: _(
            "文件“%(name)s”的内容不是图片（PNG、JPEG、GIF、WebP），与文件扩展名无关。", name=name,
        )})  # fmt: skip
    return media_type


def add_photo(
    db: Session, root: Path, visit: Visit, user: User, *, indicator_id: int, client_id: str,
    upload: Upload,
) -> tuple[InspectionPhoto, bool]:
    """(the photo, whether it is new): a resend with the same client id is the same photo."""
    client_id = check_client_id(client_id, "client_id")
    earlier = db.exec(
        select(InspectionPhoto).where(InspectionPhoto.client_id == client_id)
    ).first()
    if earlier is not None and earlier.sheet_id == visit.sheet.id:
        return earlier, False
    if earlier is not None:
        raise ValidationFailed({"client_id": _("该照片编号属于另一份考察表。")})
    require(closed_reason(visit, user))
    field = f"photo-{indicator_id}"
    node = next((n for n in sheet_leaves(db, visit.campaign.id) if n.id == indicator_id), None)
    if node is None:
        raise ValidationFailed({field: _("指标 %(id)s 不是本次评议的末级指标。", id=indicator_id)})
    check_photo(upload, field)
    photos = [photo for photo, _file in photos_of(db, visit.sheet.id)]
    if sum(p.indicator_id == indicator_id for p in photos) >= MAX_PHOTOS_PER_INDICATOR:
        raise ValidationFailed({field: _(
            "指标 %(code)s「%(name)s」最多 %(n)d 张照片，请先删除不需要的照片。",
            code=node.code, name=node.name, n=MAX_PHOTOS_PER_INDICATOR,
        )})  # fmt: skip
    if len(photos) >= MAX_PHOTOS_PER_SHEET:
        raise ValidationFailed({field: _(
            "每份考察表最多 %(n)d 张照片。", n=MAX_PHOTOS_PER_SHEET)})  # fmt: skip
    stored = store_upload(db, root, upload, user_id=user.id, field=field)
    photo = InspectionPhoto(
        sheet_id=visit.sheet.id, indicator_id=indicator_id, file_id=stored.id, client_id=client_id
    )
    db.add(photo)
    commit_or_fail(db)
    return photo, True


def remove_photo(db: Session, visit: Visit, user: User, photo_id: int) -> None:
    require(closed_reason(visit, user))
    photo = db.get(InspectionPhoto, photo_id)
    if photo is None or photo.sheet_id != visit.sheet.id:
        raise ValidationFailed({"form": _("没有这张照片。")})
    db.delete(photo)
    commit_or_fail(db)
