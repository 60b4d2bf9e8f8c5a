"""Canonical JSON and SHA-256 fingerprint of the whole scoring policy."""

import json
from decimal import Decimal as D

import pytest

from scoring import (
    THREE_LEVEL,
    AdjustmentRule,
    Composition,
    GradeScale,
    GroupWeighting,
    OutlierReplacement,
    PanelRule,
    PeerReview,
    PolicyError,
    ScoringPolicy,
    StageSpec,
    canonical_json,
    policy_fingerprint,
    policy_from_plain,
    to_plain,
)


def make_policy(onsite_weight="50", places=2):
    return ScoringPolicy(
        stage_rules={
            "onsite_review": GroupWeighting(
                {"专家": 60, "群众代表": 40},
                rule=PanelRule(1, 1, min_marks=3, fallback="use_all", places=places),
                group_rules={"群众代表": PanelRule(outliers=OutlierReplacement("10"))},
            ),
            "public_review": THREE_LEVEL,
            "peer_review": PeerReview(),
        },
        composition=Composition(
            (
                StageSpec("self_assessment", 20),
                StageSpec("public_review", 20),
                StageSpec("peer_review", D(100) - D(onsite_weight) - 40),
                StageSpec("onsite_review", onsite_weight),
            ),
            adjustments=(AdjustmentRule("innovation", "bonus", cap=2),),
        ),
        tie_breakers=("onsite_review",),
        grading=GradeScale({"优秀": 90, "良好": 80, "合格": 60}, quotas={"优秀": 30}),
        name="2024年度履职评议",
    )


def test_fingerprint_is_sha256_hex_and_stable():
    fingerprint = policy_fingerprint(make_policy())
    assert len(fingerprint) == 64 and int(fingerprint, 16) >= 0
    assert fingerprint == make_policy().fingerprint


def test_equal_numbers_spelled_differently_fingerprint_alike():
    assert policy_fingerprint(make_policy("50")) == policy_fingerprint(make_policy("50.00"))


@pytest.mark.parametrize(
    "other",
    [
        lambda: make_policy(onsite_weight="45"),
        lambda: make_policy(places=3),
    ],
)
def test_any_change_changes_the_fingerprint(other):
    assert policy_fingerprint(other()) != policy_fingerprint(make_policy())


def test_canonical_json_is_sorted_compact_and_plain():
    text = canonical_json(PanelRule(1, 1))
    assert text == (
        '{"combine":"mean","drop_high":1,"drop_low":1,"factor":null,'
        '"fallback":"error","min_marks":null,"outliers":null,"places":2,'
        '"type":"PanelRule"}'
    )
    assert "专家" in canonical_json(make_policy())  # UTF-8, not \\u escapes


def test_round_trip_through_json_keeps_the_fingerprint():
    policy = make_policy()
    loaded = policy_from_plain(json.loads(canonical_json(policy)))
    assert loaded == policy
    assert policy_fingerprint(loaded) == policy_fingerprint(policy)


def test_floats_cannot_enter_a_policy():
    with pytest.raises(PolicyError):
        to_plain({"weight": 0.4})
    with pytest.raises(PolicyError, match="未知"):
        policy_from_plain({"type": "Nope"})


def test_policy_refers_only_to_weighted_stages():
    with pytest.raises(PolicyError, match="media_publicity"):
        ScoringPolicy(
            {"media_publicity": PanelRule()}, Composition((StageSpec("onsite_review", 100),))
        )


def test_every_result_carries_its_rule_fingerprint():
    policy = make_policy()
    onsite = dict(policy.stage_rules)["onsite_review"]
    result = onsite.apply({"专家": ["90", "91", "92"], "群众代表": ["80", "81"]})
    assert result.fingerprint == policy_fingerprint(onsite)
    assert result.parts[0].result.fingerprint == policy_fingerprint(onsite.rule)
    assert THREE_LEVEL.apply({"满意": 3}).fingerprint == policy_fingerprint(THREE_LEVEL)
    composed = policy.composition.compose(
        {"self_assessment": 90, "public_review": 90, "peer_review": 90, "onsite_review": 90}
    )
    assert composed.fingerprint == policy_fingerprint(policy.composition)


def test_a_field_added_later_keeps_old_fingerprints():
    # round_before_factor was added after policies were stored: at its default it is left out
    # of the canonical JSON, so a stored PanelRule keeps its fingerprint and loads back as it was
    stored = json.loads(canonical_json(PanelRule(1, 1, factor="1.67")))
    assert "round_before_factor" not in stored
    assert policy_from_plain(stored).round_before_factor is True
    exact = PanelRule(1, 1, factor="1.67", round_before_factor=False)
    plain = json.loads(canonical_json(exact))
    assert plain["round_before_factor"] is False
    assert policy_from_plain(plain) == exact
    assert policy_fingerprint(exact) != policy_fingerprint(PanelRule(1, 1, factor="1.67"))
