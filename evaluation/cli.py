"""The `pingyi` command line: serve, db, demo, audit, user."""

from __future__ import annotations

import getpass
import sys

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlmodel import Session

from evaluation.audit import acting_as, verify_chain


def _create_app():
    from evaluation import create_app

    return create_app()


@click.group(
    cls=FlaskGroup,
    create_app=_create_app,
    add_default_commands=False,
    help="pingyi (评议): evaluation campaigns and the live on-site review.",
)
def cli() -> None:
    """Entry point: `pingyi COMMAND`."""


def _session() -> Session:
    return Session(current_app.extensions["pingyi_db"], expire_on_commit=False)


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@with_appcontext
def db_upgrade() -> None:
    """Apply every Alembic migration up to head."""
    from evaluation.migrate import upgrade

    upgrade(current_app.extensions["pingyi_db"])
    click.echo("database is at head")


@click.command()
@with_appcontext
def demo() -> None:
    """Load the demo campaign (idempotent: does nothing when it is already there)."""
    from evaluation.config import is_production
    from evaluation.demo import DEMO_ACCOUNTS, demo_password, load_demo

    if is_production(current_app.config):
        # Its accounts and password are published: they must never exist on a real platform.
        raise click.ClickException(
            "the demo is refused when PINGYI_ENV=production: its accounts and password are "
            "published. For a training machine run it with PINGYI_ENV=development."
        )

    with _session() as session, acting_as("cli:demo"):
        created = load_demo(session)
    click.echo("demo campaign loaded" if created else "demo campaign already present")
    click.echo(f"demo logins (password {demo_password()!r} unless changed since):")
    for username, display_name, role, *_rest in DEMO_ACCOUNTS:
        click.echo(f"  {username:<10} {role.value:<15} {display_name}")


@click.group()
def audit() -> None:
    """The audit chain."""


@audit.command("verify")
@click.option(
    "--head", "head", metavar="SEQ:HASH",
    help="A head published earlier (security log, AUDIT_HEAD_SINK): the chain must hold it.",
)
@with_appcontext
def audit_verify(head: str | None) -> None:
    """Check every audit event's hash and link, and every mark against its events; exit 1 on
    the first broken link or any mark that differs."""
    from evaluation.audit import parse_head
    from evaluation.audit_rows import row_problems

    try:
        published = parse_head(head) if head else None
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--head") from None
    with _session() as session:
        report = verify_chain(session, published)
        problems = row_problems(session) if report.ok else []
    if not report.ok:
        click.echo(
            f"BROKEN at sequence {report.broken_seq}: {report.reason} "
            f"({report.count} events verified before it)",
            err=True,
        )
        sys.exit(1)
    if problems:
        for problem in problems:
            click.echo(f"TAMPERED {problem}", err=True)
        sys.exit(1)
    click.echo(
        f"OK {report.count} events, head {report.head_hash}; "
        "marks and campaign records match the log"
    )


@click.group()
def user() -> None:
    """Accounts."""


@user.command("create")
@click.argument("username")
@click.option(
    "--role",
    type=click.Choice(["admin", "organizer", "agency_contact", "inspector"]),
    default="admin",
    show_default=True,
)
@click.option("--name", "display_name", default=None, help="Display name (default: username)")
@click.option("--organization-id", type=int, default=None)
@click.option("--agency-id", type=int, default=None)
@with_appcontext
def user_create(username, role, display_name, organization_id, agency_id) -> None:
    """Create an account; the password is read from the terminal (or stdin).

    It is a temporary password: the user must choose their own at the first login.
    """
    from evaluation.models import Role
    from evaluation.services.accounts import create_user
    from evaluation.services.errors import ValidationFailed

    password = getpass.getpass("password: ") if sys.stdin.isatty() else sys.stdin.readline().strip()
    with _session() as session, acting_as("cli:user-create"):
        try:
            create_user(
                session,
                username=username,
                display_name=display_name or username,
                password=password,
                role=Role(role),
                organization_id=organization_id,
                agency_id=agency_id,
                temporary_password=True,
            )
            session.commit()
        except ValidationFailed as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"created {role} {username}; they choose their own password at the first login")


def _user_by_name(session, username: str):
    from sqlmodel import select

    from evaluation.models import User

    found = session.exec(select(User).where(User.username == username)).first()
    if found is None:
        raise click.ClickException(f"no user named {username!r}")
    return found


@user.command("reset-2fa")
@click.argument("username")
@with_appcontext
def user_reset_2fa(username) -> None:
    """Remove a user's second factor (lost phone and recovery codes) and end their sessions.

    Check who is asking before running this (a call back on a known number, in person):
    it is the recovery path for a lost factor. They enrol again at their next login.
    """
    from evaluation.security_log import account, security_event
    from evaluation.services import two_factor

    with _session() as session, acting_as("cli:user-reset-2fa"):
        found = _user_by_name(session, username)
        two_factor.reset(session, found)
        security_event("second_factor_reset", user=account(found), by="cli")
    click.echo(f"two-factor authentication reset for {username}; their sessions have ended")


@user.command("reset-link")
@click.argument("username")
@click.option(
    "--base-url", default="http://127.0.0.1:5000", show_default=True, envvar="PINGYI_BASE_URL"
)
@with_appcontext
def user_reset_link(username, base_url) -> None:
    """Print a single-use link (7 days) to set a new password: a forgotten password.

    Older links stop working and every session of the user ends. Check who is asking, and
    hand the link over in person or by a channel already on file: whoever opens it sets the
    password.
    """
    from evaluation.security_log import account, security_event
    from evaluation.services.errors import ValidationFailed
    from evaluation.services.invitations import issue_reset_link

    with _session() as session, acting_as("cli:user-reset-link"):
        found = _user_by_name(session, username)
        try:
            issued = issue_reset_link(session, found, None)
        except ValidationFailed as exc:
            raise click.ClickException(str(exc)) from exc
        security_event("password_reset_link_issued", user=account(found), by="cli")
        expires = issued.invitation.expires_at.strftime("%Y-%m-%d %H:%M UTC")
    click.echo(f"{base_url.rstrip('/')}/invite/{issued.token}")
    click.echo(f"single use, valid until {expires}; older links revoked, sessions of "
               f"{username} ended")


@user.command("end-sessions")
@click.argument("username")
@click.option("--disable", is_flag=True, help="Also deactivate the account.")
@with_appcontext
def user_end_sessions(username, disable) -> None:
    """End every session of a user on every device (a stolen laptop, a leaver)."""
    from evaluation.security_log import account, security_event
    from evaluation.services.accounts import end_sessions

    with _session() as session, acting_as("cli:user-end-sessions"):
        found = _user_by_name(session, username)
        if disable:
            found.active = False
        end_sessions(session, found)
        security_event("sessions_ended", user=account(found), by="cli", disabled=disable)
    click.echo(f"sessions of {username} ended" + ("; account disabled" if disable else ""))


@click.command()
@click.option("--host", default=None, help="Address to bind (default: localhost, IPv4 and IPv6).")
@click.option("--port", default=None, type=int, help="Port (default 5000).")
@with_appcontext
def serve(host: str | None, port: int | None) -> None:
    """Serve the platform with Flask-SocketIO's gevent server."""
    from evaluation.serve import run_server

    host = host or current_app.config.get("HOST", "localhost")
    port = port or int(current_app.config.get("PORT", 5000))
    run_server(current_app._get_current_object(), host, port)


def register_commands(app) -> None:
    for command in (db, demo, audit, user, serve, live_group, results_group):
        app.cli.add_command(command)


@click.group("live")
def live_group() -> None:
    """Live on-site review sessions."""


@live_group.command("links")
@click.argument("session_id", type=int, required=False)
@click.option("--demo", is_flag=True, help="The demo campaign's live session.")
@click.option(
    "--base-url", default="http://127.0.0.1:5000", show_default=True, envvar="PINGYI_BASE_URL"
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@with_appcontext
def live_links(session_id, demo, base_url, as_json) -> None:
    """Issue fresh links (earlier ones stop working) for the console, overlays and tablets."""
    with _session() as session, acting_as("cli:live-links"):
        _print_links(session, _live_session(session, session_id, demo), base_url, as_json)


def _live_session(session, session_id: int | None, demo: bool):
    from evaluation.demo import demo_live_session
    from evaluation.models import LiveSession

    live = demo_live_session(session) if demo else session.get(LiveSession, session_id or 0)
    if live is None:
        raise click.ClickException("no such live session")
    return live


def _print_links(session, live, base_url: str, as_json: bool) -> None:
    import json

    from evaluation.services.live_links import session_urls
    from evaluation.services.live_sessions import issue_session_links

    links = issue_session_links(session, live)
    urls = session_urls(base_url.rstrip("/"), live.id, links)
    if as_json:
        click.echo(json.dumps(urls, ensure_ascii=False, indent=2))
        return
    click.echo(f"live session {live.id} 「{live.title}」")
    for name, url in urls["pages"].items():
        click.echo(f"  {name:<12} {url}")
    for seat_no, seat in urls["seats"].items():
        click.echo(f"  judge seat {seat_no:<2} {seat['url']}  (short code {seat['short_code']})")


@live_group.command("rehearsal")
@click.argument("session_id", type=int, required=False)
@click.option("--demo", is_flag=True, help="The demo campaign's live session.")
@click.option("--reset", is_flag=True, help="Start the rehearsal over: its marks are removed.")
@click.option(
    "--base-url", default="http://127.0.0.1:5000", show_default=True, envvar="PINGYI_BASE_URL"
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@with_appcontext
def live_rehearsal(session_id, demo, reset, base_url, as_json) -> None:
    """A rehearsal (彩排) of a session, with its own links: its marks never count."""
    from evaluation.services.live_sessions import rehearsal_for

    with _session() as session, acting_as("cli:live-rehearsal"):
        live = _live_session(session, session_id, demo)
        rehearsal = rehearsal_for(session, live, reset=reset)
        _print_links(session, rehearsal, base_url, as_json)


@live_group.command("panel-codes")
@click.argument("session_id", type=int, required=False)
@click.option("--demo", is_flag=True, help="The demo campaign's live session.")
@click.option("--count", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.option(
    "--base-url", default="http://127.0.0.1:5000", show_default=True, envvar="PINGYI_BASE_URL"
)
@with_appcontext
def live_panel_codes(session_id, demo, count, base_url) -> None:
    """Issue one-time codes for the audience panel (大众评审团), as CSV: number,code,url."""
    from evaluation.services.live_sessions import issue_panel_codes

    with _session() as session, acting_as("cli:panel-codes"):
        live = _live_session(session, session_id, demo)
        issued = issue_panel_codes(session, live, count)
    click.echo("number,code,url")
    for number, code in issued:
        click.echo(f"{number},{code},{base_url.rstrip('/')}/live/{live.id}/audience#token={code}")


@click.group("results")
def results_group() -> None:
    """Published results: the re-tally bundle."""


@results_group.command("export-bundle")
@click.argument("campaign_id", type=int)
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False))
@with_appcontext
def results_export_bundle(campaign_id, out_dir) -> None:
    """Write raw marks, policy, published results and the audit head hash to OUT."""
    from pathlib import Path

    from evaluation.models import Campaign
    from evaluation.services.results_bundle import BundleError, export_bundle

    with _session() as session:
        campaign = session.get(Campaign, campaign_id)
        if campaign is None:
            raise click.ClickException(f"no campaign {campaign_id}")
        try:
            exported = export_bundle(session, campaign, Path(out_dir))
        except BundleError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"results version {exported.version_number}: {exported.marks} marks -> {out_dir}")
    if exported.changed_since:
        click.echo("note: marks in the database changed after this version was composed; "
                   "the bundle holds the marks the published results were computed from",
                   err=True)


@results_group.command("verify")
@click.argument("bundle", type=click.Path(exists=True, file_okay=False))
def results_verify(bundle) -> None:
    """Recompute BUNDLE's results from its raw marks; exit 1 naming every difference."""
    from pathlib import Path

    from evaluation.services.results_bundle import BundleError, verify_bundle

    try:
        differences = verify_bundle(Path(bundle))
    except BundleError as exc:
        click.echo(f"cannot verify: {exc}", err=True)
        sys.exit(2)
    for line in differences:
        click.echo(f"DIFFERENT {line}", err=True)
    if differences:
        click.echo(f"{len(differences)} difference(s)", err=True)
        sys.exit(1)
    click.echo("OK: every published figure recomputes from the raw marks")
