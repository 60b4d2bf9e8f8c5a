"""Who reviews whom in 互评: every other agency of the group, or a balanced random k.

Pure (no database, no Flask) so the draw can be recomputed from the audit log: the same
groups, k and seed give the same pairs on any machine (random.Random seeded with a string
is stable across Python versions and platforms).
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Mapping, Sequence


def new_seed() -> str:
    return secrets.token_hex(8)


def draw_assignments(groups: Mapping[str, Sequence[int]], sample_size: int | None,
                     seed: str) -> list[tuple[int, int]]:
    """(reviewer, target) pairs, sorted; never (a, a).

    With `sample_size` k (< group size - 1) the group is shuffled into a circle and each
    agency reviews the agencies k distinct random offsets ahead of it, so every agency gives
    exactly k reviews and receives exactly k: balanced by construction, no retries.
    """
    pairs: list[tuple[int, int]] = []
    for group in sorted(groups):
        members = sorted(set(groups[group]))
        size = len(members)
        if size < 2:
            continue
        if sample_size is None or sample_size >= size - 1:
            pairs.extend((r, t) for r in members for t in members if r != t)
            continue
        rng = random.Random(f"{seed}/{group}")
        circle = members[:]
        rng.shuffle(circle)
        offsets = rng.sample(range(1, size), sample_size)
        pairs.extend((circle[i], circle[(i + d) % size]) for i in range(size) for d in offsets)
    return sorted(pairs)
