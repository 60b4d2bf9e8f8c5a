"""Who is on the other end of a socket (or HTTP fallback) call, decided once at connect."""

from __future__ import annotations

from dataclasses import dataclass, replace

from flask_babel import gettext as _
from sqlmodel import Session, select

from evaluation.access import can_manage_organization
from evaluation.models import Campaign, LiveSeat, LiveSession, Stage, TokenKind
from evaluation.services.live_sessions import token_scope
from evaluation.services.tokens import check_token
from live.errors import LiveRefusal

JUDGE, DIRECTOR, OVERLAY = "judge", "director", "overlay"
# The chief judge's tablet gets the judges' picture plus the void requests to decide.
CHIEF = "chief"
AUDIENCE = "audience"  # the audience panel: votes satisfaction, sees what overlays see


@dataclass(frozen=True)
class Identity:
    role: str
    session_id: int
    actor: str
    seat_id: int | None = None
    judge_id: int | None = None
    is_chief: bool = False
    # What admitted the connection, checked again while it lasts (see live.sweeper).
    token_id: int | None = None
    login_id: str | None = None
    # The browser session's `UserSession` row: ending it on the sessions page ends the socket.
    session_row: int | None = None
    member_id: int | None = None

    @property
    def view(self) -> str:
        """Which snapshot this connection receives."""
        return CHIEF if self.is_chief else self.role


def session_organization(db: Session, live: LiveSession) -> int:
    stage = db.get(Stage, live.stage_id)
    return db.get(Campaign, stage.campaign_id).organization_id


def identify(db: Session, session_id: int, token: str | None, user) -> Identity:
    """A judge or overlay by token; the director by control token or organizer login."""
    live = db.get(LiveSession, session_id)
    if live is None:
        raise LiveRefusal("unknown_session", _("场次不存在。"))
    scope = token_scope(session_id)
    for kind, role in (
        (TokenKind.JUDGE, JUDGE),
        (TokenKind.CONTROL, DIRECTOR),
        (TokenKind.OVERLAY, OVERLAY),
    ):
        record = check_token(db, token or "", kind=kind, scope=scope)
        if record is not None:
            return _from_token(db, live, record, role)
    from live.audience import identify_member

    member = identify_member(db, live, token)
    if member is not None:
        return member
    if (
        user is not None
        and user.is_authenticated
        # An admin-set initial password not yet replaced opens only the password page.
        and not user.must_change_password
        and can_manage_organization(user, session_organization(db, live))
    ):
        from evaluation.auth import current_session_record

        row = current_session_record(user)
        return Identity(DIRECTOR, session_id, f"user:{user.id}:{user.username}",
                        login_id=user.get_id(), session_row=row.id if row else None)
    raise LiveRefusal("unauthorized", _("链接无效或已过期，请重新扫码或输入短码。"))


# The pages say which role they are (`auth.role`): a link of another role opened on a page
# is refused before anything is bound (a judge's link on the console would take the seat).
PAGE_ROLES = (JUDGE, DIRECTOR, OVERLAY)


def _wrong_link(page_role: str) -> str:
    return {
        JUDGE: _("此链接不是评委席链接，请扫描评委证上的二维码或输入短码。"),
        DIRECTOR: _("此链接不是导播台链接，请使用导播台链接或以组织者账号登录。"),
        OVERLAY: _("此链接不是图文包装链接，请使用图文包装链接。"),
    }[page_role]


def for_page(who: Identity, page_role: object) -> Identity:
    """The identity a page connects with, given the role the page says it is (or None).

    A control token on an overlay page is read-only there, as on the feeds: it gets the
    overlay's picture, so no mark reaches the air before the reveal.
    """
    if page_role is None or page_role == who.role:
        return who
    if page_role not in PAGE_ROLES:
        raise LiveRefusal("invalid_payload", _("auth.role 须为 judge、director 或 overlay。"),
                          "role")
    if page_role == OVERLAY and who.role == DIRECTOR:
        return replace(who, role=OVERLAY)
    raise LiveRefusal("wrong_role", _wrong_link(page_role), "token")


def _from_token(db: Session, live: LiveSession, record, role: str) -> Identity:
    if role != JUDGE:
        return Identity(role, live.id, f"token:{role}:{record.id}", token_id=record.id)
    seat = db.exec(
        select(LiveSeat).where(LiveSeat.session_id == live.id, LiveSeat.judge_id == record.judge_id)
    ).first()
    if seat is None:
        raise LiveRefusal("no_seat", _("您在本场次没有评委席位。"))
    return Identity(
        JUDGE,
        live.id,
        f"judge:{record.judge_id}:seat{seat.seat_no}",
        seat_id=seat.id,
        judge_id=record.judge_id,
        is_chief=seat.is_chief,
        token_id=record.id,
    )
