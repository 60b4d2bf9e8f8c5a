"""Flaky venue Wi-Fi: tablets lose their connection for a while, at random, and keep scoring.

    python bench/flaky_wifi.py [--tablets 50] [--agencies 4] [--min-drop 5] [--max-drop 120]
                               [--scale 0.05] [--seed 5]

A fresh instance with a session of T judges (bench/live_setup.py) is served by `pingyi serve`.
T simulated tablets (tests/live/simtablet.py: the tablet's delivery rules) score A agencies in
turn. Each tablet, at random moments, drops its connection for a random time between
--min-drop and --max-drop seconds (multiplied by --scale: 0.05 turns 5-120 s into 0.25-6 s)
and comes back; a mark entered while offline waits in the outbox, and some tablets "reload
the page" while offline (a new client: only the outbox survives, as in browser storage).

Printed: marks entered, acknowledged, stored, lost (entered but never stored) and duplicates
(a mark stored twice or a seat with two marks for one agency), drops and reloads, and the time
from the last tablet coming back to every outbox being empty, as a ratio to one plain
reconnect measured in the same run. `tests/live/test_flaky_wifi_short.py` runs a small version
in `make test`; the browser side (a page reloaded while offline in Chromium) is
`tests/browser/test_tablet_offline.py`.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "live"))
sys.path.insert(0, str(ROOT / "bench"))

from chaos_live import Director, _setup, stored_marks, tally  # noqa: E402
from serverproc import Server  # noqa: E402
from simtablet import SimTablet  # noqa: E402

DELIVERY_TIMEOUT = 180.0


class FlakyTablet:
    """A SimTablet whose Wi-Fi comes and goes; a reload replaces it, keeping the outbox."""

    def __init__(self, base: str, session: int, token: str, device: str):
        self.args = (base, session, token, device)
        self.tablet = SimTablet(*self.args)
        self.entered: list[str] = []
        self.acks: dict[str, dict] = {}
        self.drops = 0
        self.reloads = 0

    def connect(self) -> None:
        self.tablet.connect()

    def offline(self, seconds: float, reload: bool) -> None:
        """Cut the connection (no reconnecting meanwhile), then come back."""
        self.drops += 1
        tablet = self.tablet
        tablet._retrying = False
        tablet.client.reconnection = False
        tablet.client.disconnect()
        time.sleep(seconds)
        if reload:  # the page reloads: a fresh client, the stored outbox survives
            self.reloads += 1
            self.acks.update(tablet.acks)
            fresh = SimTablet(*self.args)
            # Browser storage outlives the page: the same outbox (and its lock), not a copy.
            fresh.outbox, fresh.lock = tablet.outbox, tablet.lock
            self.tablet = fresh
        else:
            self.tablet = tablet
            tablet.client = tablet._new_client()
        self.tablet.connect()

    def enter(self, client_id: str, slot_id: int, total: str) -> None:
        self.entered.append(client_id)
        tablet = self.tablet
        with tablet.lock:
            tablet.outbox[client_id] = {"client_id": client_id, "slot_id": slot_id,
                                        "total": total}
        if tablet.client.connected:
            tablet.client.start_background_task(tablet._send, client_id)

    def pending(self) -> int:
        return self.tablet.pending()

    def all_acks(self) -> dict[str, dict]:
        return {**self.acks, **self.tablet.acks}

    def close(self) -> None:
        self.tablet.close()


@dataclass
class Figures:
    entered: int = 0
    acknowledged: int = 0
    stored: int = 0
    lost: int = 0
    duplicates: int = 0
    drops: int = 0
    reloads: int = 0
    settle_seconds: list[float] = field(default_factory=list)  # last one back -> outboxes empty
    plain_reconnect_seconds: float = 0.0


def _plain_reconnect(base: str, session: int, token: str) -> float:
    """Baseline: one client connecting and answered (the overlay's token: a seat is bound to
    its own device)."""
    import socketio

    client = socketio.Client(reconnection=False)
    started = time.monotonic()
    client.connect(base, namespaces=["/live"], transports=["websocket"], wait_timeout=10,
                   auth={"session": session, "token": token})
    client.call("snapshot_request", {}, namespace="/live", timeout=10)
    elapsed = time.monotonic() - started
    client.disconnect()
    return elapsed


def run(tablets: int = 50, agencies: int = 4, min_drop: float = 5, max_drop: float = 120,
        scale: float = 0.05, seed: int = 5, log=print) -> Figures:
    rng = random.Random(seed)
    figures = Figures()
    with tempfile.TemporaryDirectory(prefix="pingyi-wifi-") as folder:
        instance = Path(folder)
        links = _setup(instance, tablets, agencies)
        session = links["session"]
        server = Server(instance)
        director = Director(server.base, session, links["control_token"])
        seats = {int(n): FlakyTablet(server.base, session, token, f"wifi-{n}")
                 for n, token in links["seats"].items()}
        try:
            for tablet in seats.values():
                tablet.connect()
            figures.plain_reconnect_seconds = _plain_reconnect(
                server.base, session, links["overlay_token"])
            for position in range(agencies):
                current = director.bring(position, "scoring")
                outages = []
                for tablet in seats.values():
                    if rng.random() < 0.5:  # half the room loses Wi-Fi during this agency
                        seconds = rng.uniform(min_drop, max_drop) * scale
                        # About a third reload the page while offline (the first always).
                        reload = not outages or rng.random() < 0.3
                        thread = threading.Thread(target=tablet.offline,
                                                  args=(seconds, reload), daemon=True)
                        outages.append(thread)
                        thread.start()
                for n, tablet in seats.items():  # judges enter their marks, online or not
                    time.sleep(rng.uniform(0, 0.02))
                    tablet.enter(f"wifi-{current['slot_id']}-{n:03d}", current["slot_id"],
                                 f"{rng.randint(60, 99)}.5")
                for thread in outages:
                    thread.join()
                back = time.monotonic()
                while any(t.pending() for t in seats.values()):
                    if time.monotonic() - back > DELIVERY_TIMEOUT:
                        stuck = {n: t.tablet.diagnosis() for n, t in seats.items()
                                 if t.pending()}
                        raise RuntimeError(f"outboxes not delivered: {stuck}")
                    time.sleep(0.05)
                figures.settle_seconds.append(time.monotonic() - back)
                log(f"agency {position + 1}/{agencies}: every mark delivered "
                    f"{figures.settle_seconds[-1]:.2f} s after the last tablet came back")
                director.bring(position, "revealed")
            acked = {cid for t in seats.values() for cid in t.all_acks()}
            entered = [cid for t in seats.values() for cid in t.entered]
            stored = stored_marks(instance, session)
            figures.entered, figures.acknowledged = len(entered), len(acked)
            figures.stored = len(stored)
            figures.lost, figures.duplicates = tally(stored, set(entered))
            figures.drops = sum(t.drops for t in seats.values())
            figures.reloads = sum(t.reloads for t in seats.values())
        finally:
            for tablet in seats.values():
                tablet.close()
            director.client.disconnect()
            server.stop()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tablets", type=int, default=50)
    parser.add_argument("--agencies", type=int, default=4)
    parser.add_argument("--min-drop", type=float, default=5)
    parser.add_argument("--max-drop", type=float, default=120)
    parser.add_argument("--scale", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--json", type=Path, metavar="PATH", help="write the figures as JSON")
    args = parser.parse_args()
    figures = run(args.tablets, args.agencies, args.min_drop, args.max_drop, args.scale,
                  args.seed)
    settle = sorted(figures.settle_seconds)
    print(f"\n{args.tablets} tablets, {args.agencies} agencies, drops of "
          f"{args.min_drop * args.scale:.2f}-{args.max_drop * args.scale:.2f} s")
    print(f"marks entered       {figures.entered}")
    print(f"acknowledged        {figures.acknowledged}")
    print(f"stored              {figures.stored}")
    print(f"lost                {figures.lost}")
    print(f"duplicates          {figures.duplicates}")
    print(f"drops / reloads     {figures.drops} / {figures.reloads}")
    print(f"delivered after the last tablet came back: max {settle[-1]:.2f} s = "
          f"{settle[-1] / figures.plain_reconnect_seconds:.1f}x one plain reconnect "
          f"({figures.plain_reconnect_seconds:.2f} s, same run)")
    ok = figures.lost == 0 and figures.duplicates == 0 and figures.stored == figures.entered
    write_json(args, figures, settle)
    sys.exit(0 if ok else 1)


def write_json(args, figures: Figures, settle: list[float]) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from summary import figure, write

    write(args.json, "flaky_wifi", [
        figure("marks entered", figures.entered),
        figure("acknowledged", figures.acknowledged),
        figure("stored = entered (each exactly once)", figures.stored, "", "= entered",
               figures.stored == figures.entered, f"{figures.entered} entered"),
        figure("lost", figures.lost, "", "0", figures.lost == 0),
        figure("duplicates", figures.duplicates, "", "0", figures.duplicates == 0),
        figure("drops / reloads while offline", f"{figures.drops} / {figures.reloads}"),
        figure("delivered after the last tablet came back (max)", round(settle[-1], 2), "s",
               None, None, f"{settle[-1] / figures.plain_reconnect_seconds:.1f}x one plain "
               f"reconnect ({figures.plain_reconnect_seconds:.2f} s, same run)"),
    ], {"tablets": args.tablets, "agencies": args.agencies, "min_drop": args.min_drop,
        "max_drop": args.max_drop, "scale": args.scale, "seed": args.seed})


if __name__ == "__main__":
    main()
