"""Demo: 实地考察 in the city campaign, run through the inspection services.

Teams of two visit five agencies: some sheets confirmed by the teammate, one returned with a
comment, one submitted and waiting for the demo inspector's confirmation, and the demo
inspector's own sheet for 市司法局 left as a half-filled draft. One inspector is seconded from
市税务局, so the recusal register lists her and she is on no team visiting it.
"""

from __future__ import annotations

import random
from decimal import ROUND_DOWN, Decimal

from sqlmodel import Session, select

from evaluation.models import Agency, Campaign, CampaignAgency, Role, Stage, StageKind, User
from evaluation.services import inspection_sheets as sheets
from evaluation.services.inspection_teams import assign_team, team_of

SEED = 2025
# (username, display name, the agency the inspector is seconded from or None)
INSPECTORS = [
    ("zhanglixin", "张立新", None),
    ("linwanqing", "林婉清", None),
    ("hezhiyuan", "何志远", None),
    ("zhouxiaohong", "周晓红", "市税务局"),
]
# agency -> the team, first member's sheet state, second member's sheet state
TEAMS = [
    ("市公安局", ("inspector", "zhanglixin"), ("confirmed", "confirmed")),
    ("市市场监督管理局", ("linwanqing", "hezhiyuan"), ("confirmed", "confirmed")),
    ("市税务局", ("zhanglixin", "linwanqing"), ("returned", "confirmed")),
    ("市司法局", ("inspector", "hezhiyuan"), ("draft", "submitted")),
    ("市民政局", ("zhouxiaohong", "hezhiyuan"), ("confirmed", "submitted")),
]
RETURN_COMMENT = "C2「行政执法中实时普法」得分与现场查看的执法案卷不符，请核实后重新提交。"
NOTES = ["台账齐全，记录规范。", "现场查看宣传栏和普法阵地。", "抽查执法案卷 5 宗，普法告知到位。",
         "部分材料未按年度归档。", ""]


def load_inspections(session: Session, campaign: Campaign) -> None:
    # Each service call commits; not expiring every loaded row on each commit keeps the load
    # quick (the services refresh what they must, e.g. the sheet's version).
    expiring, session.expire_on_commit = session.expire_on_commit, False
    try:
        _load(session, campaign)
    finally:
        session.expire_on_commit = expiring


def _load(session: Session, campaign: Campaign) -> None:
    rng = random.Random(SEED)
    agencies = {
        a.name: a
        for a in session.exec(
            select(Agency)
            .join(CampaignAgency, CampaignAgency.agency_id == Agency.id)
            .where(CampaignAgency.campaign_id == campaign.id)
        )
    }
    people = _inspectors(session, campaign, agencies)
    stage = session.exec(
        select(Stage).where(
            Stage.campaign_id == campaign.id, Stage.kind == StageKind.FIELD_INSPECTION
        )
    ).one()
    leaves = sheets.sheet_leaves(session, campaign.id)
    for agency_name, usernames, states in TEAMS:
        agency = agencies[agency_name]
        assign_team(session, campaign, stage, agency.id, [people[u].id for u in usernames])
        members = {m.inspector.id: m for m in team_of(session, stage.id, agency.id)}
        visits = [sheets.load_visit(session, members[people[u].id].sheet.id) for u in usernames]
        for index, (visit, state) in enumerate(zip(visits, states, strict=True)):
            lines = _lines(leaves, rng, partial=state == "draft")
            _save(session, visit, lines)
            if state == "draft":
                continue
            visit = _reload(session, visit)
            sheets.submit(session, visit, visit.author, save_id=f"demo-submit-{visit.sheet.id}",
                          base_version=visit.sheet.version, lines={})  # fmt: skip
            teammate = visits[1 - index].author
            if state == "confirmed":
                sheets.confirm(session, _reload(session, visit), teammate)
            elif state == "returned":
                sheets.return_sheet(session, _reload(session, visit), teammate, RETURN_COMMENT)


def _inspectors(session, campaign, agencies) -> dict[str, User]:
    people = {"inspector": session.exec(select(User).where(User.username == "inspector")).one()}
    for username, name, seconded_from in INSPECTORS:
        # The demo password's hash, reused: hashing it again costs a third of a second each.
        people[username] = User(
            username=username,
            display_name=name,
            password_hash=people["inspector"].password_hash,
            role=Role.INSPECTOR,
            organization_id=campaign.organization_id,
            agency_id=agencies[seconded_from].id if seconded_from else None,
        )
        session.add(people[username])
    session.commit()
    return people


def _lines(leaves, rng, *, partial: bool) -> dict[int, sheets.LineInput]:
    chosen = leaves[:3] if partial else leaves
    lines = {}
    for node in chosen:
        if node.kind.value != "normal" and rng.random() < 0.6:
            continue  # bonus items are optional: most agencies claim none
        step = node.step or Decimal("0.5")
        raw = node.max_points * Decimal(str(rng.uniform(0.72, 0.97)))
        points = (raw / step).quantize(Decimal(1), rounding=ROUND_DOWN) * step
        lines[node.id] = sheets.LineInput(f"{points:f}", rng.choice(NOTES))
    return lines


def _save(session, visit, lines) -> None:
    # Fixed ids: the demo is deterministic (a real device makes random ones).
    sheets.save_draft(session, visit, visit.author, save_id=f"demo-draft-{visit.sheet.id}",
                      base_version=visit.sheet.version, lines=lines)  # fmt: skip


def _reload(session, visit):
    return sheets.load_visit(session, visit.sheet.id)
