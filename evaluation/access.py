"""Who may see what: role checks and loaders that 404 outside the user's scope.

An organizer asking for another organization's campaign gets 404, not 403: the
existence of another city's campaign is not theirs to learn.
"""

from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required
from sqlmodel import select

from evaluation.db import get_session
from evaluation.models import Agency, Campaign, Indicator, Judge, Role, User
from evaluation.security_log import account, security_event


def roles_required(*roles: Role):
    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


organizer_required = roles_required(Role.ADMIN, Role.ORGANIZER)
admin_required = roles_required(Role.ADMIN)


def can_manage_organization(user: User, organization_id: int) -> bool:
    return user.role == Role.ADMIN or (
        user.role == Role.ORGANIZER and user.organization_id == organization_id
    )


def visible_campaigns_query(user: User):
    query = select(Campaign).order_by(Campaign.year.desc(), Campaign.id.desc())
    if user.role != Role.ADMIN:
        query = query.where(Campaign.organization_id == user.organization_id)
    return query


def _owned_or_404(obj, organization_id_of):
    if obj is None:
        abort(404)
    if not can_manage_organization(current_user, organization_id_of(obj)):
        # Another organization's object: 404 to them, a line in the security log for us.
        security_event(
            "authorization_failed",
            user=account(current_user),
            object=f"{type(obj).__tablename__}:{obj.id}",
        )
        abort(404)
    return obj


def get_campaign(campaign_id: int) -> Campaign:
    return _owned_or_404(get_session().get(Campaign, campaign_id), lambda c: c.organization_id)


def get_agency(agency_id: int) -> Agency:
    return _owned_or_404(get_session().get(Agency, agency_id), lambda a: a.organization_id)


def get_judge(judge_id: int) -> tuple[Judge, Campaign]:
    judge = get_session().get(Judge, judge_id)
    if judge is None:
        abort(404)
    return judge, get_campaign(judge.campaign_id)


def get_indicator(indicator_id: int) -> tuple[Indicator, Campaign]:
    indicator = get_session().get(Indicator, indicator_id)
    if indicator is None:
        abort(404)
    return indicator, get_campaign(indicator.campaign_id)
