"""Prepare a pingyi instance for bench/live_bench.py: a live session with N judges and seats.

Run (by live_bench.py) with PINGYI_ENV=development and PINGYI_INSTANCE_PATH set, after
`pingyi db upgrade` and `pingyi demo`, BEFORE the server starts:

    python bench/live_setup.py --judges 50 --slots 4

It adds N judges to the demo city campaign (no affiliation, so nobody is ever recused), creates
a session with one slot per agency (the campaign's first agencies) and one seat per judge, issues
its links and prints them as JSON: {"session", "control_token", "overlay_token",
"seats": {seat_no: token}}.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# The repository root must be on sys.path first.
from sqlmodel import Session, select  # noqa: E402

from evaluation import create_app, demo_data  # noqa: E402
from evaluation.audit import acting_as  # noqa: E402
from evaluation.demo import demo_live_session  # noqa: E402
from evaluation.models import Campaign, CampaignAgency, Judge, Stage  # noqa: E402
from evaluation.services.live_sessions import create_session, issue_session_links  # noqa: E402

GROUPS = ("人大代表", "政协委员", "专家", "群众代表", "媒体代表")
TITLE = "压测场次"


def prepare(db: Session, judges: int, slots: int) -> dict:
    demo = demo_live_session(db)
    if demo is None:
        raise SystemExit("no demo campaign: run `pingyi demo` first")
    stage = db.get(Stage, demo.stage_id)
    campaign = db.get(Campaign, stage.campaign_id)
    agencies = db.exec(
        select(CampaignAgency)
        .where(CampaignAgency.campaign_id == campaign.id)
        .order_by(CampaignAgency.group_name, CampaignAgency.position)
        .limit(slots)
    ).all()
    if len(agencies) < slots:
        raise SystemExit(f"the demo campaign has only {len(agencies)} agencies, {slots} wanted")
    panel = [
        Judge(campaign_id=campaign.id, name=f"压测评委{number:03d}",
              group_name=GROUPS[number % len(GROUPS)], title="压测")
        for number in range(1, judges + 1)
    ]
    db.add_all(panel)
    db.flush()
    live = create_session(
        db, stage, TITLE, [row.agency_id for row in agencies], [judge.id for judge in panel],
        venue=demo_data.LIVE_VENUE,
    )
    links = issue_session_links(db, live)
    return {
        "session": live.id,
        "control_token": links.control.token,
        "overlay_token": links.overlay.token,
        "seats": {seat_no: issued.token for seat_no, issued in links.seats.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--judges", type=int, default=50)
    parser.add_argument("--slots", type=int, default=4)
    args = parser.parse_args()
    app = create_app()
    with (
        app.app_context(),
        acting_as("bench:live-setup"),
        Session(app.extensions["pingyi_db"], expire_on_commit=False) as db,
    ):
        print(json.dumps(prepare(db, args.judges, args.slots)))


if __name__ == "__main__":
    main()
