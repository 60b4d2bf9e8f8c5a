"""pingyi scoring engine: plain data in, plain data (with its explanation) out.

Standard library only. Scores are Decimal, rounded ROUND_HALF_UP at documented points.
See scoring/README.md for the rules, their rounding points and the input shapes.
"""

from .campaign import AgencyResult, CampaignResult, ScoringPolicy, evaluate
from .composition import (
    AdjustmentPart,
    AdjustmentRule,
    Composition,
    CompositionResult,
    StagePart,
    StageSpec,
)
from .diagnostics import (
    Concordance,
    JudgeDiagnostics,
    judge_diagnostics,
    kendalls_w,
    panel_concordance,
)
from .errors import (
    FloatMarkError,
    InexactResultError,
    InsufficientMarksError,
    InvalidMarkError,
    MissingStageError,
    PolicyError,
    RubricError,
    ScoringError,
    WeightError,
)
from .explain import Explanation, explain_groups, explain_panel, explain_satisfaction
from .explain_total import explain, explain_agency, explain_composition
from .grading import Graded, GradeScale
from .groups import GroupPart, GroupResult, GroupWeighting, split_by_group
from .indicator_scores import FirstLevelIndex, IndicatorScore, first_level_scores
from .marks import Mark
from .numbers import divide, format_score, round_half_up, to_decimal
from .outliers import OutlierReplacement, Replacement
from .panel import PanelResult, PanelRule
from .peer import PeerResult, PeerReview, ReciprocityFlag
from .policy import canonical_json, policy_fingerprint, policy_from_plain, register, to_plain
from .ranking import Ranked, rank
from .rubric import (
    Indicator,
    RubricSheet,
    check_mark,
    rubric_problems,
    score_sheet,
    validate_rubric,
)
from .satisfaction import FIVE_LEVEL, THREE_LEVEL, SatisfactionResult, SatisfactionScale
from .stages import STAGE_NAMES, stage_name

for _rule_class in (PanelRule, OutlierReplacement, GroupWeighting, SatisfactionScale,
                    StageSpec, AdjustmentRule, Composition, GradeScale, PeerReview,
                    Indicator, ScoringPolicy):
    register(_rule_class)


def grade(ranked, scale: GradeScale) -> tuple[Graded, ...]:
    """Functional spelling of `scale.grade(ranked)`."""
    return scale.grade(ranked)


__all__ = [
    "AdjustmentPart", "AdjustmentRule", "AgencyResult", "CampaignResult", "Composition",
    "CompositionResult", "Concordance", "Explanation", "FIVE_LEVEL", "FirstLevelIndex",
    "FloatMarkError",
    "GradeScale", "Graded", "GroupPart", "GroupResult", "GroupWeighting", "Indicator",
    "IndicatorScore",
    "InexactResultError", "InsufficientMarksError", "InvalidMarkError", "JudgeDiagnostics",
    "Mark", "MissingStageError", "OutlierReplacement", "PanelResult", "PanelRule", "PeerResult",
    "PeerReview", "PolicyError", "Ranked", "ReciprocityFlag", "Replacement", "RubricError",
    "RubricSheet", "STAGE_NAMES", "SatisfactionResult", "SatisfactionScale", "ScoringError",
    "ScoringPolicy", "StagePart", "StageSpec", "THREE_LEVEL", "WeightError", "canonical_json",
    "check_mark", "divide", "evaluate", "explain", "explain_agency", "explain_composition",
    "explain_groups", "explain_panel", "explain_satisfaction", "first_level_scores",
    "format_score", "grade",
    "judge_diagnostics", "kendalls_w", "panel_concordance", "policy_fingerprint",
    "policy_from_plain", "rank", "register", "round_half_up", "rubric_problems", "score_sheet",
    "split_by_group", "stage_name", "to_decimal", "to_plain", "validate_rubric",
]
