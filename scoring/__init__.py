"""pingyi scoring engine: plain data in, plain data (with its explanation) out."""
from .errors import (
    InexactResultError,
    InsufficientMarksError,
    InvalidMarkError,
    MissingStageError,
    PolicyError,
    RubricError,
    ScoringError,
    WeightError,
)
from .marks import Mark
from .numbers import divide, round_half_up, to_decimal
from .outliers import OutlierReplacement, Replacement
from .panel import PanelResult, PanelRule

__all__ = [
    "InexactResultError", "InsufficientMarksError", "InvalidMarkError", "Mark",
    "MissingStageError", "OutlierReplacement", "PanelResult", "PanelRule", "PolicyError",
    "Replacement", "RubricError", "ScoringError", "WeightError", "divide", "round_half_up",
    "to_decimal",
]
