"""Property-based tests (hypothesis) for the invariants the issue lists."""

import json
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from scoring import (
    GradeScale,
    OutlierReplacement,
    PanelRule,
    canonical_json,
    divide,
    policy_fingerprint,
    policy_from_plain,
    rank,
)

# Applied per test (not as a global profile) so other packages' hypothesis tests are unaffected.
FAST = settings(max_examples=150, deadline=None, database=None)

marks_2dp = st.integers(0, 10000).map(lambda i: Decimal(i).scaleb(-2))  # 0.00 .. 100.00
rules = st.builds(
    PanelRule,
    drop_high=st.integers(0, 2),
    drop_low=st.integers(0, 2),
    combine=st.sampled_from(["mean", "median"]),
    places=st.just(2),
)


@st.composite
def rule_and_marks(draw, rule_strategy=rules):
    rule = draw(rule_strategy)
    marks = draw(st.lists(marks_2dp, min_size=rule.trimmed_needs, max_size=15))
    return rule, marks


@FAST
@given(rule_and_marks())
def test_result_within_min_and_max_of_kept_marks(case):
    rule, marks = case
    result = rule.apply(marks)
    assert min(result.kept) <= result.value <= max(result.kept)


@FAST
@given(rule_and_marks(), st.randoms(use_true_random=False))
def test_invariant_to_judge_order(case, random):
    rule, marks = case
    shuffled = list(enumerate(marks))
    random.shuffle(shuffled)
    first, second = rule.apply(list(enumerate(marks))), rule.apply(shuffled)
    assert first.value == second.value
    assert sorted(first.kept) == sorted(second.kept)
    assert sorted(first.dropped) == sorted(second.dropped)


@FAST
@given(
    rule_and_marks(st.builds(PanelRule, drop_high=st.integers(0, 2), drop_low=st.integers(0, 2))),
    st.integers(-5000, 5000).map(lambda i: Decimal(i).scaleb(-2)),
)
def test_adding_c_to_every_mark_adds_c_to_a_mean(case, c):
    # ROUND_HALF_UP rounds half *away from zero*, so the shift holds while the sign of
    # the marks does not change (scores are >= 0; ISU GOE panels are shown in golden tables)
    rule, marks = case
    c = max(c, -min(marks))
    assert rule.apply([m + c for m in marks]).value == rule.apply(marks).value + c


@FAST
@given(rule_and_marks(), st.data())
def test_every_judge_is_kept_dropped_or_recused_exactly_once(case, data):
    rule, marks = case
    given_marks = {f"J{i}": m for i, m in enumerate(marks)}
    recused = data.draw(st.sets(st.sampled_from(sorted(given_marks))))
    relaxed = PanelRule(
        rule.drop_high,
        rule.drop_low,
        rule.combine,
        2,
        min_marks=rule.trimmed_needs,
        fallback="use_all",
    )
    if len(recused) == len(given_marks):
        return
    result = relaxed.apply(given_marks, recused=recused)
    judges = [m.judge for m in result.kept + result.dropped] + list(result.recused)
    assert sorted(judges) == sorted(given_marks)
    assert (result.fallback is not None) == (len(marks) - len(recused) < rule.trimmed_needs)


@FAST
@given(st.lists(marks_2dp, min_size=2, max_size=10), st.randoms(use_true_random=False))
def test_outlier_replacement_is_order_invariant(marks, random):
    rule = PanelRule(outliers=OutlierReplacement("5"))
    shuffled = list(marks)
    random.shuffle(shuffled)
    assert rule.apply(marks).value == rule.apply(shuffled).value


@FAST
@given(st.integers(-(10**9), 10**9), st.integers(1, 10**6), st.integers(0, 6))
def test_divide_equals_exact_fraction_rounded_half_up(p, q, places):
    exact = Fraction(p, q)
    scaled = abs(exact) * 10**places
    whole = int(scaled) + (1 if scaled - int(scaled) >= Fraction(1, 2) else 0)
    expected = Decimal(whole if exact >= 0 else -whole).scaleb(-places)
    assert divide(Decimal(p), q, places) == expected
    # with inputs this small the 28-digit context quotient is close enough to agree
    assert divide(Decimal(p), q, places) == (Decimal(p) / q).quantize(
        Decimal(1).scaleb(-places), ROUND_HALF_UP
    )


totals = st.dictionaries(
    st.text("abcdefgh", min_size=1, max_size=3),
    st.integers(0, 40).map(lambda i: Decimal(i) / 2 + 80),
    min_size=1,
    max_size=25,
)


@FAST
@given(totals, st.data())
def test_a_better_total_never_ranks_worse(scores, data):
    groups = {a: data.draw(st.sampled_from(["市直组", "县区组"])) for a in scores}
    onsite = {a: data.draw(st.integers(0, 3).map(Decimal)) for a in scores}
    ranked = {r.agency: r for r in rank(scores, tie_breakers=[("onsite", onsite)], groups=groups)}
    for a in scores:
        for b in scores:
            if groups[a] != groups[b]:
                continue
            if scores[a] > scores[b]:
                assert ranked[a].rank < ranked[b].rank
            if (scores[a], onsite[a]) == (scores[b], onsite[b]):
                assert ranked[a].rank == ranked[b].rank
        better = sum(
            groups[b] == groups[a] and (scores[b], onsite[b]) > (scores[a], onsite[a])
            for b in scores
        )
        assert ranked[a].rank == better + 1  # competition ranking: 1, 2, 2, 4


@FAST
@given(totals, st.integers(0, 100), st.integers(0, 100))
def test_quotas_never_exceeded_and_grades_follow_rank(scores, top_quota, second_quota):
    scale = GradeScale(
        {"优秀": 95, "良好": 90, "合格": 85}, quotas={"优秀": top_quota, "良好": second_quota}
    )
    graded = scale.grade(rank(scores))
    size = len(scores)
    for grade_name, percent in (("优秀", top_quota), ("良好", second_quota)):
        assert sum(g.grade == grade_name for g in graded) <= size * percent // 100
    order = {name: i for i, name in enumerate(scale.levels)}
    for a in graded:
        for b in graded:
            if a.rank < b.rank:
                assert order[a.grade] <= order[b.grade]
        assert order[a.grade] >= order[a.threshold_grade]


@FAST
@given(rules, st.sampled_from([None, "1.67", "3.2"]))
def test_policy_round_trip_keeps_fingerprint(rule, factor):
    rule = PanelRule(rule.drop_high, rule.drop_low, rule.combine, rule.places, factor=factor)
    loaded = policy_from_plain(json.loads(canonical_json(rule)))
    assert loaded == rule and policy_fingerprint(loaded) == policy_fingerprint(rule)


@FAST
@given(totals, st.data(), st.integers(0, 100), st.integers(0, 100))
def test_quotas_hold_within_each_group_with_a_tie_break_chain(scores, data, top, second):
    groups = {a: data.draw(st.sampled_from(["市直组", "县区组"])) for a in scores}
    onsite = {a: data.draw(st.integers(0, 2).map(Decimal)) for a in scores}
    scale = GradeScale({"优秀": 95, "良好": 90, "合格": 85}, quotas={"优秀": top, "良好": second})
    graded = scale.grade(rank(scores, tie_breakers=[("现场评议", onsite)], groups=groups))
    order = {name: i for i, name in enumerate(scale.levels)}
    for group in set(groups.values()):
        members = [g for g in graded if g.group == group]
        for grade_name, percent in (("优秀", top), ("良好", second)):
            # quota = floor(group size x percent / 100), counted within the group
            assert sum(g.grade == grade_name for g in members) <= len(members) * percent // 100
        for a in members:
            assert order[a.grade] >= order[a.threshold_grade]  # a quota only moves down
            for b in members:
                if a.rank < b.rank:
                    assert order[a.grade] <= order[b.grade]  # better rank, never worse grade
                if a.rank == b.rank:
                    assert a.grade == b.grade  # a tie is never split
