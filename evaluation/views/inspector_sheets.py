"""The inspection sheet on the inspector's tablet or phone: fill, save, submit, confirm.

Draft saves arrive as JSON from static/inspection_sheet.js (kept in the browser until the
server has them); submit, confirm, return and photos are plain forms, so a sheet can be
finished without JavaScript too.
"""

from __future__ import annotations

import uuid

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from evaluation.access import roles_required
from evaluation.db import get_session
from evaluation.forms import CsrfOnlyForm
from evaluation.models import InspectionPhoto, Role, SheetStatus, StoredFile
from evaluation.services import inspection_photos as photos
from evaluation.services import inspection_sheets as sheets
from evaluation.services.errors import ValidationFailed
from evaluation.services.file_store import files_root
from evaluation.services.inspection_teams import team_of
from evaluation.views.downloads import send_stored, uploads_from_request
from evaluation.views.inspector_portal import bp

VIEWERS = (Role.INSPECTOR, Role.ORGANIZER, Role.ADMIN)


def visible_visit(sheet_id: int) -> sheets.Visit:
    """The sheet when the current user may see it; 404 otherwise (no hint it exists)."""
    db = get_session()
    visit = sheets.load_visit(db, sheet_id)
    if visit is None or not sheets.may_view(db, current_user, visit):
        abort(404)
    return visit


def _own_visit(sheet_id: int) -> sheets.Visit:
    visit = visible_visit(sheet_id)
    if visit.author.id != current_user.id:
        abort(403)
    return visit


def _lines_from_form(leaves) -> dict[int, sheets.LineInput]:
    return {
        node.id: sheets.LineInput(
            request.form.get(f"points-{node.id}", ""), request.form.get(f"notes-{node.id}", "")
        )
        for node in leaves
        if f"points-{node.id}" in request.form or f"notes-{node.id}" in request.form
    }


def _lines_from_json(payload) -> dict[int, sheets.LineInput]:
    lines = payload.get("lines") if isinstance(payload, dict) else None
    if not isinstance(lines, dict):
        raise ValidationFailed({"lines": _("缺少考察表内容。")})
    parsed = {}
    for key, value in lines.items():
        if not str(key).isdigit() or not isinstance(value, dict):
            raise ValidationFailed({"lines": _("考察表内容格式不正确。")})
        points, notes = value.get("points", ""), value.get("notes", "")
        if not isinstance(points, str) or not isinstance(notes, str):
            raise ValidationFailed({"lines": _("考察表内容格式不正确。")})
        parsed[int(key)] = sheets.LineInput(points, notes)
    return parsed


def _base_version(raw) -> int:
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise ValidationFailed({"base_version": _("缺少考察表版本号。")}) from None


def render_sheet(visit: sheets.Visit, *, errors=None, values=None, status=200, notice=None):
    """The sheet page: an editor for its author while editable, read-only for everyone else."""
    db = get_session()
    editable = sheets.closed_reason(visit, current_user) is None
    team = team_of(db, visit.stage.id, visit.agency.id)
    confirmable = (
        current_user.role == Role.INSPECTOR
        and current_user.id != visit.author.id
        and visit.sheet.status == SheetStatus.SUBMITTED
        and any(m.inspector.id == current_user.id for m in team)
    )
    by_indicator: dict[int, list] = {}
    for photo, stored in photos.photos_of(db, visit.sheet.id):
        by_indicator.setdefault(photo.indicator_id, []).append((photo, stored))
    names = {m.inspector.id: m.inspector.display_name for m in team}
    return render_template(
        "inspector/sheet.html",
        visit=visit,
        leaves=sheets.sheet_leaves(db, visit.campaign.id),
        lines=sheets.lines_of(db, visit.sheet.id),
        photos=by_indicator,
        team=team,
        names=names,
        editable=editable,
        confirmable=confirmable,
        closed_reason=sheets.closed_reason(visit, current_user),
        errors=errors or {},
        values=values,
        notice=notice,
        new_client_id=uuid.uuid4().hex,
        limits={
            "photos": photos.MAX_PHOTOS_PER_INDICATOR,
            "mb": photos.MAX_PHOTO_BYTES // 2**20,
            "notes": sheets.MAX_NOTES_CHARS,
        },
        form=CsrfOnlyForm(),
    ), status


@bp.get("/sw.js")
def service_worker():
    """Served from /inspector/ so that its scope covers the sheet pages (code, no data)."""
    response = current_app.send_static_file("inspection_sw.js")
    response.headers["Content-Type"] = "text/javascript; charset=utf-8"
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/sheets/<int:sheet_id>")
@roles_required(*VIEWERS)
def sheet(sheet_id: int):
    return render_sheet(visible_visit(sheet_id))


@bp.post("/sheets/<int:sheet_id>/draft")
@roles_required(Role.INSPECTOR)
def sheet_draft(sheet_id: int):
    """A draft save from the device (JSON): idempotent by save_id, version-checked."""
    visit = _own_visit(sheet_id)
    db = get_session()
    payload = request.get_json(silent=True)
    try:
        if not isinstance(payload, dict):
            raise ValidationFailed({"form": _("请求内容须为 JSON。")})
        draft, stored = sheets.save_draft(
            db, visit, current_user,
            save_id=str(payload.get("save_id", "")),
            base_version=_base_version(payload.get("base_version")),
            lines=_lines_from_json(payload),
        )  # fmt: skip
    except sheets.DraftConflict as conflict:
        db.rollback()
        return jsonify(conflict=conflict.current), 409
    except ValidationFailed as failure:
        db.rollback()
        return jsonify(errors=failure.errors), 400
    return jsonify(draft=draft, stored=stored)


@bp.post("/sheets/<int:sheet_id>/submit")
@roles_required(Role.INSPECTOR)
def sheet_submit(sheet_id: int):
    visit = _own_visit(sheet_id)
    db = get_session()
    leaves = sheets.sheet_leaves(db, visit.campaign.id)
    try:
        sheets.submit(
            db, visit, current_user,
            save_id=request.form.get("save_id", ""),
            base_version=_base_version(request.form.get("base_version")),
            lines=_lines_from_form(leaves),
        )  # fmt: skip
    except sheets.DraftConflict:
        db.rollback()
        notice = _("另一台设备在此期间保存过这份考察表，请核对下方内容后再提交。")
        return render_sheet(sheets.load_visit(db, sheet_id), notice=notice, status=409)
    except ValidationFailed as failure:
        db.rollback()
        return render_sheet(
            sheets.load_visit(db, sheet_id), errors=failure.errors, values=request.form, status=400
        )
    flash(_("考察表已提交，请考察组另一名成员确认。"), "success")
    return redirect(url_for("inspector.sheet", sheet_id=sheet_id))


def _decide(sheet_id: int, action):
    visit = visible_visit(sheet_id)
    db = get_session()
    try:
        action(db, visit)
    except ValidationFailed as failure:
        db.rollback()
        return None, render_sheet(
            sheets.load_visit(db, sheet_id), errors=failure.errors, values=request.form, status=400
        )
    return visit, None


@bp.post("/sheets/<int:sheet_id>/confirm")
@roles_required(Role.INSPECTOR)
def sheet_confirm(sheet_id: int):
    visit, failed = _decide(sheet_id, lambda db, v: sheets.confirm(db, v, current_user))
    if failed:
        return failed
    flash(_("已确认%(name)s的考察表，评分计入实地考察成绩。", name=visit.author.display_name),
          "success")  # fmt: skip
    return redirect(url_for("inspector.sheet", sheet_id=sheet_id))


@bp.post("/sheets/<int:sheet_id>/return")
@roles_required(Role.INSPECTOR)
def sheet_return(sheet_id: int):
    comment = request.form.get("comment", "")
    visit, failed = _decide(
        sheet_id, lambda db, v: sheets.return_sheet(db, v, current_user, comment)
    )
    if failed:
        return failed
    flash(_("已将考察表退回%(name)s修改。", name=visit.author.display_name), "success")
    return redirect(url_for("inspector.sheet", sheet_id=sheet_id))


@bp.post("/sheets/<int:sheet_id>/photos")
@roles_required(Role.INSPECTOR)
def photo_upload(sheet_id: int):
    visit = _own_visit(sheet_id)
    db = get_session()
    indicator_id = request.form.get("indicator_id", type=int) or 0
    uploads = uploads_from_request("photo")
    try:
        if len(uploads) != 1:
            raise ValidationFailed({f"photo-{indicator_id}": _("请选择一张照片。")})
        _photo, new = photos.add_photo(
            db, files_root(current_app), visit, current_user,
            indicator_id=indicator_id, client_id=request.form.get("client_id", ""),
            upload=uploads[0],
        )  # fmt: skip
    except ValidationFailed as failure:
        db.rollback()
        return render_sheet(sheets.load_visit(db, sheet_id), errors=failure.errors, status=400)
    if new:
        flash(_("照片已上传。"), "success")
    return redirect(url_for("inspector.sheet", sheet_id=sheet_id, _anchor=f"line-{indicator_id}"))


@bp.post("/sheets/<int:sheet_id>/photos/<int:photo_id>/delete")
@roles_required(Role.INSPECTOR)
def photo_delete(sheet_id: int, photo_id: int):
    visit = _own_visit(sheet_id)
    db = get_session()
    try:
        photos.remove_photo(db, visit, current_user, photo_id)
    except ValidationFailed as failure:
        db.rollback()
        return render_sheet(sheets.load_visit(db, sheet_id), errors=failure.errors, status=404)
    flash(_("照片已删除。"), "success")
    return redirect(url_for("inspector.sheet", sheet_id=sheet_id))


@bp.get("/photos/<int:photo_id>")
@roles_required(*VIEWERS)
def photo_download(photo_id: int):
    """Always as an attachment, to whoever may see the sheet."""
    db = get_session()
    photo = db.get(InspectionPhoto, photo_id)
    if photo is None:
        abort(404)
    visible_visit(photo.sheet_id)
    return send_stored(db.get(StoredFile, photo.file_id))
