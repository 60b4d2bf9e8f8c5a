"""部署安排 for the organizer: the notice, its attachments, invitations and read receipts."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from evaluation.access import get_agency, get_campaign, organizer_required
from evaluation.db import get_session
from evaluation.forms import CsrfOnlyForm
from evaluation.services.deployment import (
    add_attachments,
    attachments_of,
    notice_of,
    publish_notice,
    receipts,
    remove_attachment,
    save_notice,
)
from evaluation.services.errors import ValidationFailed
from evaluation.services.file_store import files_root
from evaluation.services.invitations import contact_for, issue_invitation, latest_invitations
from evaluation.services.markdown_text import render_markdown
from evaluation.views.admin import bp
from evaluation.views.downloads import send_stored, uploads_from_request


def _page(campaign, errors=None, values=None, status=200, invitation_link=None):
    db = get_session()
    notice = notice_of(db, campaign.id)
    rows = receipts(db, campaign.id)
    contact_ids = [u.id for row in rows for u in row.contacts]
    if values is None:
        values = {
            "title": notice.title if notice else _("关于开展%(title)s的通知", title=campaign.title),
            "body_md": notice.body_md if notice else "",
        }
    return render_template(
        "admin/deployment.html",
        campaign=campaign,
        notice=notice,
        preview=render_markdown(values["body_md"]),
        attachments=attachments_of(db, notice.id) if notice else [],
        receipts=rows,
        invitations=latest_invitations(db, contact_ids),
        values=values,
        errors=errors or {},
        form=CsrfOnlyForm(),
        invitation_link=invitation_link,
    ), status


@bp.get("/campaigns/<int:campaign_id>/deployment")
@organizer_required
def deployment(campaign_id: int):
    return _page(get_campaign(campaign_id))


@bp.post("/campaigns/<int:campaign_id>/deployment")
@organizer_required
def deployment_save(campaign_id: int):
    campaign = get_campaign(campaign_id)
    db = get_session()
    values = {
        "title": request.form.get("title", ""),
        "body_md": request.form.get("body_md", "").replace("\r\n", "\n"),
    }
    try:
        notice = save_notice(db, campaign, values["title"], values["body_md"])
        if request.form.get("action") == "publish":
            publish_notice(db, notice)
            flash(_("通知已发布，参评单位联络员登录后即可查看。"), "success")
        else:
            flash(_("通知已保存。"), "success")
    except ValidationFailed as failure:
        db.rollback()
        return _page(campaign, failure.errors, values, 400)
    return redirect(url_for("admin.deployment", campaign_id=campaign.id))


@bp.post("/campaigns/<int:campaign_id>/deployment/attachments")
@organizer_required
def deployment_attach(campaign_id: int):
    campaign = get_campaign(campaign_id)
    db = get_session()
    notice = notice_of(db, campaign.id)
    uploads = uploads_from_request("file")
    if notice is None:
        return _page(campaign, {"file": _("请先保存通知，再上传附件。")}, status=400)
    if not uploads:
        return _page(campaign, {"file": _("请选择要上传的文件。")}, status=400)
    try:
        add_attachments(db, files_root(current_app), notice, uploads, current_user)
    except ValidationFailed as failure:
        db.rollback()
        return _page(campaign, failure.errors, status=400)
    flash(_("附件已上传。"), "success")
    return redirect(url_for("admin.deployment", campaign_id=campaign.id))


@bp.post("/campaigns/<int:campaign_id>/deployment/attachments/<int:attachment_id>/delete")
@organizer_required
def deployment_detach(campaign_id: int, attachment_id: int):
    campaign = get_campaign(campaign_id)
    db = get_session()
    notice = notice_of(db, campaign.id)
    if notice is None:
        abort(404)
    try:
        remove_attachment(db, notice, attachment_id)
    except ValidationFailed:
        abort(404)
    flash(_("附件已删除。"), "success")
    return redirect(url_for("admin.deployment", campaign_id=campaign.id))


@bp.get("/campaigns/<int:campaign_id>/deployment/files/<int:file_id>")
@organizer_required
def deployment_file(campaign_id: int, file_id: int):
    campaign = get_campaign(campaign_id)
    db = get_session()
    notice = notice_of(db, campaign.id)
    attached = {f.id: f for _row, f in attachments_of(db, notice.id)} if notice else {}
    if file_id not in attached:
        abort(404)
    return send_stored(attached[file_id])


@bp.post("/campaigns/<int:campaign_id>/agencies/<int:agency_id>/invite")
@organizer_required
def invite_contact(campaign_id: int, agency_id: int):
    """Create (or find) the agency's contact and show a fresh set-password link once."""
    campaign = get_campaign(campaign_id)
    agency = get_agency(agency_id)
    if agency.organization_id != campaign.organization_id:
        abort(404)
    db = get_session()
    try:
        user = contact_for(
            db, agency, request.form.get("username", ""), request.form.get("display_name", "")
        )
        issued = issue_invitation(db, user, current_user)
    except ValidationFailed as failure:
        db.rollback()
        errors = {f"{key}-{agency.id}": message for key, message in failure.errors.items()}
        return _page(campaign, errors, status=400)
    link = url_for("invite.accept", token=issued.token, _external=True)
    return _page(campaign, invitation_link=(agency, user, link))
