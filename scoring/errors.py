"""The ScoringError family: every refusal names the offending mark, node, stage or weight.

Messages are in Chinese with the identifier quoted, because the web app shows them to
organizers as-is; an English gloss follows where the cause is technical (floats, precision).
"""

from __future__ import annotations


class ScoringError(ValueError):
    """Base of every error the engine raises on bad input or an impossible rule."""


class InvalidMarkError(ScoringError):
    """A mark is a float, a bool, NaN/infinite, unparsable, or a duplicate judge."""


class FloatMarkError(InvalidMarkError, TypeError):
    """A binary float was given where a score is expected (also a TypeError, as it should be)."""


class InsufficientMarksError(ScoringError):
    """Fewer marks than the rule needs and the rule declares no fallback."""


class InexactResultError(ScoringError):
    """An unrounded (places=None) step has no exact decimal value, e.g. 265/3."""


class RubricError(ScoringError):
    """An indicator tree is inconsistent; the message names the node code."""


class WeightError(ScoringError):
    """Weights do not total 100, or are negative, or name unknown items."""


class MissingStageError(ScoringError):
    """A stage (or judge group) has no score and the policy does not allow re-normalizing."""


class PolicyError(ScoringError):
    """A rule or policy object is configured inconsistently."""
