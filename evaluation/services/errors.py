"""Validation failures that name the field (or row, or node) and the rule broken."""

from __future__ import annotations


class ValidationFailed(ValueError):
    """`errors` maps a field name to its message; nothing was stored."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors
