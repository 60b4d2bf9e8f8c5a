"""Demo data for 互评 of the city campaign, and its 2024 results composed and certified.

Each agency's contact marked five agencies of its group drawn by the platform (a total out of
100, half points). Three county governments marked each other far above what the others gave
them, so the organizer's page shows a bloc; 市水务局 missed the deadline; 市司法局 (the demo
contact `sifaju`) was reopened by the organizer with a draft started, so the sheet can be
filled in and submitted live. Deterministic: a fixed seed, its own generator.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from sqlmodel import Session, select

from evaluation.models import (
    Agency,
    Campaign,
    CampaignAgency,
    PeerMarking,
    PeerMode,
    Role,
    StageStatus,
    User,
)
from evaluation.models.base import utcnow
from evaluation.services.peer_draw import draw_assignments
from evaluation.services.peer_review import (
    SetupFields,
    group_members,
    peer_stage,
    reopen,
    save_draft,
    set_up,
    sheet_lines,
    sheets_of_reviewer,
    submit,
)

SEED = "2024-互评"
PER_REVIEWER = 5
LATE = "市水务局"
REOPENED = "市司法局"
BLOC_GROUP = "县区组"


def load_peer_review(session: Session, campaign: Campaign) -> None:
    stage = peer_stage(session, campaign.id)
    organizer = session.exec(select(User).where(User.username == "organizer")).one()
    names = {a.id: a.name for a in session.exec(
        select(Agency).join(CampaignAgency).where(CampaignAgency.campaign_id == campaign.id))}
    seed, bloc = _seed_with_a_bloc(group_members(session, campaign.id))
    fields = SetupFields(PeerMode.SAMPLE, PER_REVIEWER, PeerMarking.TOTAL, Decimal(100),
                         Decimal("0.5"), seed)
    setup = set_up(session, stage, fields, organizer, now=stage.opens_at - timedelta(days=1))
    lines = sheet_lines(session, setup, campaign.id)
    contacts = {u.agency_id: u for u in session.exec(
        select(User).where(User.role == Role.AGENCY_CONTACT))}
    rng = random.Random(SEED)
    standing = {agency_id: rng.uniform(72, 90) for agency_id in sorted(names)}
    # The bloc's members stand modestly with everyone else, and mark each other near full.
    standing.update({member: rng.uniform(74, 78) for member in sorted(bloc)})
    span = (stage.closes_at - stage.opens_at).total_seconds()
    for reviewer in sorted(names):
        if names[reviewer] in (LATE, REOPENED):
            continue
        when = stage.opens_at + timedelta(seconds=rng.uniform(0.1, 0.95) * span)
        for sheet in sheets_of_reviewer(session, stage, reviewer):
            target = sheet.target_agency_id
            mark = 98.5 if reviewer in bloc and target in bloc else \
                standing[target] + rng.gauss(0, 3)
            submit(session, stage, sheet, lines, {"total": _half_points(mark)},
                   contacts[reviewer], now=when)
    own = next(a for a, name in names.items() if name == REOPENED)
    first = sheets_of_reviewer(session, stage, own)[0]
    save_draft(session, stage, first, lines, {"total": "86"},
               now=stage.closes_at - timedelta(days=2))
    stage.status = StageStatus.CLOSED
    session.add(stage)
    session.commit()
    # Reopened into the future, so the demo contact can finish it while clicking through.
    reopen(session, stage, own, utcnow() + timedelta(days=30), organizer)


def _half_points(value: float) -> str:
    clamped = min(max(value, 60.0), 100.0)
    return f"{round(clamped * 2) / 2:.1f}"


def _seed_with_a_bloc(groups: dict[str, list[int]]) -> tuple[str, set[int]]:
    """The first seed (SEED, SEED-1, ...) whose draw puts three county governments in each
    other's lists, so the demo can show a bloc (the draw itself stays the platform's)."""
    for attempt in range(500):
        seed = SEED if attempt == 0 else f"{SEED}-{attempt}"
        pairs = set(draw_assignments(groups, PER_REVIEWER, seed))
        trio = _mutual_trio(sorted(groups.get(BLOC_GROUP, [])), pairs)
        if trio:
            return seed, trio
    raise RuntimeError("no draw with a mutual trio")  # not reached with the demo's groups


def _mutual_trio(members: list[int], pairs: set[tuple[int, int]]) -> set[int] | None:
    def mutual(a: int, b: int) -> bool:
        return (a, b) in pairs and (b, a) in pairs

    for i, a in enumerate(members):
        for j, b in enumerate(members[i + 1:], start=i + 1):
            if not mutual(a, b):
                continue
            for c in members[j + 1:]:
                if mutual(a, c) and mutual(b, c):
                    return {a, b, c}
    return None


def compose_2024_results(session: Session, campaign: Campaign) -> None:
    """The 2024 results composed from every mark in so far, and certified by a second
    organizer. Not published: the demo leaves the on-site review (现场评议) to be run live,
    and a published ranking would be frozen without it; publishing is one click for the
    visitor. Stages without marks yet (on-site, field inspection, publicity) are left out of
    an agency's total and the weights of the others scaled up (`missing="renormalize"`,
    which the policy page shows and the organizer can change)."""
    from evaluation.services.results_policy import build_policy, default_settings, save_policy
    from evaluation.services.results_versions import certify, compose_version

    composer = session.exec(select(User).where(User.username == "organizer")).one()
    certifier = session.exec(select(User).where(User.username == "reviewer")).one()
    settings = replace(default_settings(session, campaign), missing="renormalize")
    # Ties are broken on the on-site score by default; with no on-site marks yet, ties share
    # a rank instead (the policy editor puts the tie-breaker back when it is saved).
    policy = replace(build_policy(settings), tie_breakers=())
    save_policy(session, campaign, policy, composer.id)
    stage = peer_stage(session, campaign.id)
    composed_at = stage.closes_at + timedelta(days=3)
    version = compose_version(session, campaign, composer, now=composed_at)
    certify(session, version, certifier, now=composed_at + timedelta(hours=4))
