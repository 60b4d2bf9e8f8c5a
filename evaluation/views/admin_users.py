"""Accounts: an admin manages everyone; an organizer the contacts and inspectors of their own
organization."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlmodel import select
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Regexp

from evaluation.access import admin_required, organizer_required
from evaluation.db import get_session
from evaluation.forms import REQUIRED, attach_errors, options, strip
from evaluation.models import Agency, Organization, Role, User
from evaluation.security_log import account, security_event
from evaluation.services import two_factor
from evaluation.services.accounts import create_user, end_sessions
from evaluation.services.errors import ValidationFailed
from evaluation.services.invitations import issue_reset_link
from evaluation.services.persistence import commit_or_fail
from evaluation.views.admin import bp, organizations_for_user, render_form

ORGANIZER_MAY_CREATE = (Role.AGENCY_CONTACT, Role.INSPECTOR)


class UserForm(FlaskForm):
    username = StringField(
        _l("用户名"),
        filters=[strip],
        validators=[
            DataRequired(REQUIRED),
            Length(max=64),
            Regexp(
                r"^[A-Za-z0-9_.-]+$", message=_l("用户名只能包含字母、数字、下划线、点和连字符。")
            ),
        ],
    )
    display_name = StringField(
        _l("姓名/名称"), filters=[strip], validators=[DataRequired(REQUIRED), Length(max=64)]
    )
    # Temporary: the user must replace it at the first login (ASVS V6.4.1).
    password = PasswordField(_l("初始密码"), validators=[DataRequired(REQUIRED)])
    role = SelectField(_l("角色"))
    organization_id = SelectField(_l("所属普法办"), coerce=int)
    agency_id = SelectField(_l("所属单位（联络员必填）"), coerce=int, default=0)


def _allowed_roles() -> list[Role]:
    return list(Role) if current_user.role == Role.ADMIN else list(ORGANIZER_MAY_CREATE)


def _prepare(form: UserForm) -> UserForm:
    orgs = organizations_for_user()
    form.role.choices = options((r.value, _(r.label)) for r in _allowed_roles())
    none = [(0, _("（无）"))] if current_user.role == Role.ADMIN else []
    form.organization_id.choices = options(none + [(o.id, o.name) for o in orgs])
    agencies = (
        get_session()
        .exec(
            select(Agency)
            .where(Agency.organization_id.in_([o.id for o in orgs]))
            .order_by(Agency.id)
        )
        .all()
    )
    form.agency_id.choices = options([(0, _("（无）"))] + [(a.id, a.name) for a in agencies])
    return form


def _check_scope(form: UserForm) -> None:
    """Choices were built from the user's scope; WTForms rejects values outside them."""
    role = Role(form.role.data)
    if role not in _allowed_roles():
        abort(403)
    if role == Role.AGENCY_CONTACT and not form.agency_id.data:
        raise ValidationFailed({"agency_id": _("单位联络员必须选择所属单位。")})
    if role != Role.ADMIN and not form.organization_id.data:
        raise ValidationFailed({"organization_id": _("请选择所属普法办。")})
    if form.agency_id.data:
        agency = get_session().get(Agency, form.agency_id.data)
        if agency.organization_id != form.organization_id.data:
            raise ValidationFailed({"agency_id": _("所属单位须属于所选普法办。")})


@bp.get("/users")
@organizer_required
def users():
    query = select(User, Organization).join(Organization, isouter=True).order_by(User.id)
    if current_user.role != Role.ADMIN:
        query = query.where(User.organization_id == current_user.organization_id)
    return render_template("admin/users.html", rows=get_session().exec(query).all())


@bp.route("/users/new", methods=["GET", "POST"])
@organizer_required
def user_new():
    form = _prepare(UserForm())
    if form.validate_on_submit():
        db = get_session()
        try:
            _check_scope(form)
            create_user(
                db,
                username=form.username.data,
                display_name=form.display_name.data,
                password=form.password.data,
                role=Role(form.role.data),
                organization_id=form.organization_id.data or None,
                agency_id=form.agency_id.data or None,
                temporary_password=True,
            )
            commit_or_fail(db)
        except ValidationFailed as failure:
            db.rollback()
            attach_errors(form, failure)
        else:
            flash(_("账号已创建。"), "success")
            return redirect(url_for("admin.users"))
    return render_form("admin/user_form.html", form)


# What an admin may do to another account from the list; each ends the account's sessions.
SECURITY_ACTIONS = ("end_sessions", "reset_2fa", "reset_link", "disable", "enable")


@bp.post("/users/<int:user_id>/security")
@admin_required
def user_security(user_id: int):
    """End sessions / reset a lost second factor / disable: the web side of the CLI."""
    action = request.form.get("action", "")
    if action not in SECURITY_ACTIONS:
        abort(400, description=_("未知的操作：%(action)s", action=action[:32]))
    db = get_session()
    target = db.get(User, user_id)
    if target is None:
        abort(404)
    if target.id == current_user.id:
        abort(400, description=_("不能对自己的账号执行此操作：请使用“修改密码”和“两步验证”页面。"))
    if action == "reset_link":
        return _reset_link(db, target)
    if action == "reset_2fa":
        two_factor.reset(db, target)
        message = _("已重置 %(name)s 的两步验证，其所有登录已结束；下次登录时需重新设置。",
                    name=target.username)
    else:
        if action in ("disable", "enable"):
            target.active = action == "enable"
        end_sessions(db, target)
        message = {
            "end_sessions": _("%(name)s 的所有登录已结束。", name=target.username),
            "disable": _("已停用 %(name)s，其所有登录已结束。", name=target.username),
            "enable": _("已启用 %(name)s。", name=target.username),
        }[action]
    security_event(
        "account_security_action", user=account(target), action=action, by=account(current_user)
    )
    flash(message, "success")
    return redirect(url_for("admin.users"))


def _reset_link(db, target: User):
    """A forgotten password: a single-use link shown once, here, to the admin (V6.4.3)."""
    try:
        issued = issue_reset_link(db, target, current_user._get_current_object())
    except ValidationFailed as failure:
        db.rollback()
        flash(failure.errors["form"], "error")
        return redirect(url_for("admin.users"))
    security_event(
        "password_reset_link_issued", user=account(target), by=account(current_user)
    )
    link = url_for("invite.accept", token=issued.token, _external=True)
    response = render_template(
        "admin/user_reset_link.html", target=target, link=link, invitation=issued.invitation
    )
    # The link opens the account: never cached, never sent on in a Referer.
    return response, 200, {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
