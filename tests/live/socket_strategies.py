"""Hypothesis strategies for /live socket payloads: plausible ones (the payload model's fields
with random, often wrong, values) and broken ones (any JSON, wrong types, unknown keys)."""

from __future__ import annotations

from hypothesis import strategies as st

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(
    max_size=30)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=10,
)
ids = st.integers(min_value=-3, max_value=12) | st.integers() | st.text(max_size=6)
client_ids = st.from_regex(r"[A-Za-z0-9_-]{8,20}", fullmatch=True) | st.text(max_size=70)
mark_texts = (st.from_regex(r"\d{1,3}(\.\d{1,2})?", fullmatch=True) | st.integers(-5, 200)
              | st.floats(allow_nan=False) | st.text(max_size=8) | st.none())


def _sheet(slot_ids: list[int]):
    slot = st.sampled_from(slot_ids) | ids
    total = st.fixed_dictionaries({"client_id": client_ids, "slot_id": slot, "total": mark_texts})
    by_indicator = st.fixed_dictionaries({
        "client_id": client_ids, "slot_id": slot,
        "marks": st.dictionaries(st.integers(-1, 20).map(str) | st.text(max_size=4),
                                 mark_texts, max_size=3)})
    return total | by_indicator


def _director():
    actions = st.sampled_from(["select", "next", "prev", "timer_start", "timer_pause",
                               "timer_extend", "reveal", "release_seat", "void_request",
                               "take_to_air", "take_off_air"]) | st.text(max_size=10)
    return st.fixed_dictionaries({"action": actions}, optional={
        "position": st.integers(-1, 5) | json_scalars, "seconds": st.integers(-5, 4000),
        "seat_no": st.integers(-1, 7) | json_scalars, "reason": st.text(max_size=210),
        "graphic": st.sampled_from(["leaderboard", "audience", "ticker"])})


def payloads(event: str, slot_ids: list[int]):
    """Mostly shaped payloads for `event`, the rest anything JSON can carry."""
    shaped = {
        "submit_mark": _sheet(slot_ids),
        "director": _director(),
        "void_decision": st.fixed_dictionaries({"request_id": ids, "approve": json_scalars}),
        "audience_vote": st.fixed_dictionaries({
            "client_id": client_ids, "slot_id": st.sampled_from(slot_ids) | ids,
            "level": st.sampled_from(["satisfied", "basic", "dissatisfied", "meh"])}),
        "snapshot_request": st.just({}),
    }[event]
    with_extra = shaped.flatmap(lambda d: st.dictionaries(st.text(max_size=6), json_scalars,
                                                          max_size=2).map(lambda x: {**x, **d}))
    return st.one_of(shaped, shaped, with_extra, json_values)
