"""Which ballots look like ballot stuffing: they are kept, but in quarantine for a person.

Three signs, each with its reason in words an organizer can weigh:
- a burst: more ballots from one network (IPv4 /24, IPv6 /48) within the window than the
  stage allows (a script, or a whole office told to vote);
- a form filled faster than a person reads it (the form carries a signed time of showing);
- machine timing: the last ballots from one network arrive at identical intervals.
Nothing here is a verdict: the organizer accepts or rejects each ballot with a reason.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime
from functools import lru_cache

from evaluation.models import BallotSettings
from evaluation.models.base import N_

REGULAR_GAPS = 4  # this many equal gaps in a row is a metronome, not people
REGULAR_TOLERANCE_SECONDS = 0.05


@lru_cache(maxsize=4096)  # a voter rates several agencies from one address; parsing is slow
def network_of(address: str | None) -> str:
    """The network a client address belongs to: /24 for IPv4, /48 for IPv6."""
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return "unknown"
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def reasons(
    settings: BallotSettings,
    now: datetime,
    fill_seconds: float | None,
    recent_from_network: list[datetime],
) -> list[tuple[str, dict]]:
    """(msgid, params) for every sign this ballot shows; empty when it looks like a person.

    `recent_from_network` are the arrival times of earlier ballots from the same network
    within the burst window, oldest first.
    """
    found: list[tuple[str, dict]] = []
    in_window = len(recent_from_network) + 1
    if in_window > settings.burst_limit:
        found.append(
            (
                N_("同一网络 %(seconds)s 秒内提交了 %(count)s 张选票（上限 %(limit)s 张）。"),
                {
                    "seconds": settings.burst_window_seconds,
                    "count": in_window,
                    "limit": settings.burst_limit,
                },
            )
        )
    if fill_seconds is None:
        found.append((N_("选票缺少有效的填写时间（表单被篡改或过期）。"), {}))
    elif fill_seconds < settings.min_fill_seconds:
        found.append(
            (
                N_("填写用时 %(seconds)s 秒，快于正常阅读（至少 %(minimum)s 秒）。"),
                {"seconds": f"{fill_seconds:.1f}", "minimum": settings.min_fill_seconds},
            )
        )
    if _metronome([*recent_from_network, now]):
        found.append((N_("同一网络最近的选票间隔完全相同，像是程序提交。"), {}))
    return found


def _metronome(times: list[datetime]) -> bool:
    if len(times) < REGULAR_GAPS + 1:
        return False
    last = times[-(REGULAR_GAPS + 1) :]
    gaps = [(b - a).total_seconds() for a, b in zip(last, last[1:], strict=False)]
    return max(gaps) - min(gaps) <= REGULAR_TOLERANCE_SECONDS
