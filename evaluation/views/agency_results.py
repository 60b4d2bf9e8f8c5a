"""The agency contact's results: their agency's published results and its appeals."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlmodel import select

from evaluation.access import roles_required
from evaluation.db import get_session
from evaluation.forms import CsrfOnlyForm
from evaluation.models import Appeal, ResultsVersion, Role, VersionStatus
from evaluation.services.appeals import agency_in_version, appeal_open, file_appeal
from evaluation.services.errors import ValidationFailed
from evaluation.services.results_freeze import FrozenView
from evaluation.services.results_history import published_versions
from evaluation.views.agency_portal import bp


def _entries(db) -> list[dict]:
    entries = []
    for version, campaign in reversed(published_versions(db)):
        entry = FrozenView.load(version.results_json).agency(current_user.agency_id)
        if entry is None:
            continue
        appeal = db.exec(select(Appeal).where(Appeal.version_id == version.id,
                                              Appeal.agency_id == current_user.agency_id)).first()
        entries.append({"version": version, "campaign": campaign, "entry": entry,
                        "appeal": appeal, "open": appeal_open(version)})
    return entries


def _page(errors=None, status=200):
    return render_template("agency/results.html", entries=_entries(get_session()),
                           errors=errors or {}, form=CsrfOnlyForm()), status


@bp.get("/results")
@roles_required(Role.AGENCY_CONTACT)
def results():
    return _page()


@bp.post("/results/<int:version_id>/appeal")
@roles_required(Role.AGENCY_CONTACT)
def appeal(version_id: int):
    db = get_session()
    version = db.get(ResultsVersion, version_id)
    # Another agency's result, or one not public: not theirs to learn about.
    if version is None or version.status != VersionStatus.PUBLISHED or \
            not agency_in_version(version, current_user.agency_id):
        abort(404)
    if not CsrfOnlyForm().validate_on_submit():
        return _page({version.id: _("表单已过期，请重试。")}, 400)
    try:
        file_appeal(db, version, current_user, request.form.get("text", ""))
    except ValidationFailed as failure:
        db.rollback()
        status = 409 if "form" in failure.errors else 400
        return _page({version.id: "；".join(failure.errors.values())}, status)
    flash(_("申诉已提交，组织者处理后将在此显示结果。"), "success")
    return redirect(url_for("agency.results"))
