"""The demo's public review (社会评议): vote codes, a closed ballot, a few ballots in quarantine.

Ballots are written as rows (the service's checks are for live requests: the demo's voting
window lies in the past); their shapes are what the service stores, screening included.
Deterministic: a fixed seed.
"""

from __future__ import annotations

import json
import random
from datetime import timedelta

from sqlmodel import Session, select

from evaluation.models import (
    Ballot,
    BallotSettings,
    BallotStatus,
    Campaign,
    CampaignAgency,
    Satisfaction,
    Stage,
    StageKind,
    StageStatus,
    VoteCode,
)
from evaluation.services.tokens import digest

SEED = 2025
VOTERS = 300  # code holders; each rates a handful of agencies (the demo loads in seconds)
AGENCIES_PER_VOTER = (3, 5)
# Most agencies are well regarded; a few less so (weights for 满意 / 基本满意 / 不满意).
MOODS = [(75, 20, 5), (60, 30, 10), (45, 35, 20)]
BURST_NETWORK = "113.108.66.0/24"
BURST_REASONS = [
    [
        "填写用时 %(seconds)s 秒，快于正常阅读（至少 %(minimum)s 秒）。",
        {"seconds": "1.4", "minimum": 3},
    ],
    ["同一网络最近的选票间隔完全相同，像是程序提交。", {}],
]


def load_public_review(session: Session, campaign: Campaign) -> None:
    stage = session.exec(
        select(Stage).where(Stage.campaign_id == campaign.id, Stage.kind == StageKind.PUBLIC_REVIEW)
    ).one()
    rng = random.Random(SEED)
    session.add(BallotSettings(stage_id=stage.id))
    codes = [
        VoteCode(
            stage_id=stage.id,
            batch=1 + serial // 250,
            serial=serial % 250 + 1,
            code_digest=digest(f"demo-{campaign.id}-{serial}-{rng.random()}"),
        )
        for serial in range(VOTERS + 30)
    ]
    session.add_all(codes)
    session.flush()
    agency_ids = session.exec(
        select(CampaignAgency.agency_id)
        .where(CampaignAgency.campaign_id == campaign.id)
        .order_by(CampaignAgency.group_name, CampaignAgency.position)
    ).all()
    moods = {agency_id: rng.choice(MOODS) for agency_id in agency_ids}
    span = (stage.closes_at - stage.opens_at).total_seconds()
    levels = list(Satisfaction)
    for code in codes[:VOTERS]:
        for agency_id in rng.sample(agency_ids, rng.randint(*AGENCIES_PER_VOTER)):
            session.add(
                Ballot(
                    stage_id=stage.id,
                    agency_id=agency_id,
                    voter_key=f"code:{code.id}",
                    vote_code_id=code.id,
                    level=rng.choices(levels, moods[agency_id])[0],
                    network=f"{rng.choice([14, 27, 58, 113, 120, 183])}.{rng.randint(0, 255)}."
                    f"{rng.randint(0, 255)}.0/24",
                    fill_ms=rng.randint(6000, 90000),
                    cast_at=stage.opens_at + timedelta(seconds=rng.uniform(0, span)),
                )
            )
    _burst(session, stage, codes[VOTERS:], agency_ids[0])
    stage.status = StageStatus.CLOSED
    session.add(stage)
    session.flush()


def _burst(session: Session, stage: Stage, codes: list[VoteCode], agency_id: int) -> None:
    """One office network, one agency, a ballot every 2.0 s, the last ones filled in 1.4 s:
    screening lets the first four through and quarantines the rest; one was rejected."""
    start = stage.opens_at + timedelta(days=3, hours=2)
    for number, code in enumerate(codes[:8]):
        suspicious = number >= 4
        ballot = Ballot(
            stage_id=stage.id,
            agency_id=agency_id,
            voter_key=f"code:{code.id}",
            vote_code_id=code.id,
            level=Satisfaction.SATISFIED,
            network=BURST_NETWORK,
            fill_ms=1400 if suspicious else 12000 + 900 * number,
            cast_at=start + timedelta(seconds=2 * number),
            status=BallotStatus.QUARANTINED if suspicious else BallotStatus.VALID,
            quarantine_reason=json.dumps(BURST_REASONS, ensure_ascii=False) if suspicious else "",
        )
        if number == 4:
            ballot.status, ballot.decided_by = BallotStatus.REJECTED, "organizer"
            ballot.decided_at = start + timedelta(days=1)
            ballot.decision_reason = "同一网络每 2 秒一张、1.4 秒填完，经核实为同一人代投。"
        session.add(ballot)
