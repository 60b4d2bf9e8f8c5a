"""What is wrong with a client's payload, in the user's language.

pydantic words its errors in English ("String should match pattern '^\\d{1,4}…'"); the
tablet and the console show an error ack's message as it comes, and an integrator reads it
from the HTTP API. So each kind of problem gets its own sentence here, stating the rule with
the limits the model declares; a kind not listed keeps pydantic's words rather than none.
"""

from __future__ import annotations

from flask_babel import gettext as _
from pydantic import ValidationError

from live.payloads import CLIENT_ID, DECIMAL_TEXT


def _pattern(ctx: dict) -> str:
    pattern = ctx.get("pattern")
    if pattern == DECIMAL_TEXT:
        return _("分数须为数字文本，最多 4 位整数、2 位小数，例如 \"88.5\"。")
    if pattern == CLIENT_ID:
        return _("须为 8 到 64 个字母、数字、下划线或横线。")
    return _("格式不符合要求。")


def _listed(ctx: dict) -> str:
    return _("须为以下之一：%(choices)s。", choices=ctx.get("expected", ""))


# pydantic's error type -> the sentence, given the error's context (its declared limits).
_MESSAGES = {
    "missing": lambda ctx: _("缺少此项。"),
    "extra_forbidden": lambda ctx: _("不接受此项。"),
    "string_pattern_mismatch": _pattern,
    "string_type": lambda ctx: _("须为文本。"),
    "string_too_long": lambda ctx: _("最多 %(n)s 个字符。", n=ctx.get("max_length")),
    "string_too_short": lambda ctx: _("至少 %(n)s 个字符。", n=ctx.get("min_length")),
    "int_type": lambda ctx: _("须为整数。"),
    "int_parsing": lambda ctx: _("须为整数。"),
    "int_from_float": lambda ctx: _("须为整数。"),
    "bool_type": lambda ctx: _("须为 true 或 false。"),
    "bool_parsing": lambda ctx: _("须为 true 或 false。"),
    "dict_type": lambda ctx: _("须为对象（键值对）。"),
    "too_short": lambda ctx: _("至少 %(n)s 项。", n=ctx.get("min_length")),
    "too_long": lambda ctx: _("最多 %(n)s 项。", n=ctx.get("max_length")),
    "greater_than": lambda ctx: _("须大于 %(n)s。", n=ctx.get("gt")),
    "greater_than_equal": lambda ctx: _("须不小于 %(n)s。", n=ctx.get("ge")),
    "less_than": lambda ctx: _("须小于 %(n)s。", n=ctx.get("lt")),
    "less_than_equal": lambda ctx: _("须不大于 %(n)s。", n=ctx.get("le")),
    "literal_error": _listed,
    "enum": _listed,
    # A model's own validator: its ValueError already says it (translated where raised).
    "value_error": lambda ctx: str(ctx.get("error", "")),
}


def first_problem(error: ValidationError) -> tuple[str, str]:
    """(field, message) of the first thing wrong with a payload."""
    problem = error.errors()[0]
    field = ".".join(str(part) for part in problem["loc"]) or "payload"
    return field, problem_message(problem)


def problem_message(problem: dict) -> str:
    """The message for one of `ValidationError.errors()`."""
    worded = _MESSAGES.get(problem.get("type", ""))
    message = worded(problem.get("ctx") or {}) if worded else ""
    return message or problem.get("msg", "")
