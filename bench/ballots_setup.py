"""Prepare a pingyi instance for bench/ballots_bench.py: an open public review with N codes.

Run (by ballots_bench.py) with PINGYI_ENV=development and PINGYI_INSTANCE_PATH set, after
`pingyi db upgrade` and `pingyi demo`, BEFORE the server starts:

    python bench/ballots_setup.py --voters 2500

It opens the demo city campaign's public review (社会评议, satisfaction ballots, vote codes:
the demo's settings) with no closing time, issues N fresh vote codes through the service (as
the organizer's page does) and prints JSON: {"campaign", "agencies": [ids], "codes": [...]}.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# The repository root must be on sys.path first.
from sqlmodel import Session, select  # noqa: E402

from evaluation import create_app  # noqa: E402
from evaluation.audit import acting_as  # noqa: E402
from evaluation.demo import demo_live_session  # noqa: E402
from evaluation.models import CampaignAgency, Stage, StageStatus  # noqa: E402
from evaluation.models.base import utcnow  # noqa: E402
from evaluation.services import ballots, vote_codes  # noqa: E402


def prepare(db: Session, voters: int) -> dict:
    live = demo_live_session(db)
    if live is None:
        raise SystemExit("no demo campaign: run `pingyi demo` first")
    campaign_id = db.get(Stage, live.stage_id).campaign_id
    stage = ballots.public_review_stage(db, campaign_id)
    stage.status, stage.opens_at, stage.closes_at = StageStatus.OPEN, utcnow(), None
    db.add(stage)
    db.commit()
    codes = []
    while len(codes) < voters:
        count = min(vote_codes.MAX_BATCH, voters - len(codes))
        codes += [c.code for c in vote_codes.issue_batch(db, stage, count, "bench")]
    agencies = db.exec(
        select(CampaignAgency.agency_id)
        .where(CampaignAgency.campaign_id == campaign_id)
        .order_by(CampaignAgency.group_name, CampaignAgency.position)
    ).all()
    return {"campaign": campaign_id, "agencies": list(agencies), "codes": codes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voters", type=int, default=2500)
    args = parser.parse_args()
    app = create_app()
    with (
        app.app_context(),
        acting_as("bench:ballots-setup"),
        Session(app.extensions["pingyi_db"], expire_on_commit=False) as db,
    ):
        print(json.dumps(prepare(db, args.voters)))


if __name__ == "__main__":
    main()
