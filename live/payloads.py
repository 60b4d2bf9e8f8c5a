"""What clients may send: non-table models, validated before anything is touched."""

from __future__ import annotations

from typing import Annotated, Literal

from flask_babel import gettext as _
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    WithJsonSchema,
    model_validator,
)

from evaluation.url_converters import MAX_ID

__all__ = [
    "AudienceBallot",
    "DirectorCommand",
    "MarkSubmission",
    "ValidationError",
    "VoidDecisionPayload",
]

CLIENT_ID = r"^[A-Za-z0-9_-]{8,64}$"
DECIMAL_TEXT = r"^\d{1,4}(\.\d{1,2})?$"
# A larger id than the database holds is refused here, not overflowed there.
Id = Annotated[int, Field(gt=0, le=MAX_ID)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _mark_text(value):
    if isinstance(value, float | bool):
        raise ValueError(_('分数须以文本发送，例如 "88.5"。'))
    return str(value) if isinstance(value, int) else value


# The published schema (/api/openapi.json) says what the validator accepts: text, or a whole
# number the tablet may send unquoted.
MarkText = Annotated[
    str,
    BeforeValidator(_mark_text),
    Field(pattern=DECIMAL_TEXT),
    WithJsonSchema({"anyOf": [{"type": "string", "pattern": DECIMAL_TEXT},
                              {"type": "integer", "minimum": 0, "maximum": 9999}]}),
]


class MarkSubmission(_Strict):
    """A judge's sheet for the agency on stage: one `total`, or `marks` per indicator
    ({indicator id: mark}) when the session scores by indicator.

    `client_id` is made by the tablet once per sheet and reused on every resend.
    Marks travel as text ("88.5"): a JSON float would be a binary fraction.
    """

    client_id: str = Field(pattern=CLIENT_ID)
    slot_id: Id
    total: MarkText | None = None
    marks: dict[Id, MarkText] | None = Field(
        default=None, min_length=1, max_length=100,
        json_schema_extra={"propertyNames": {"pattern": r"^[1-9]\d{0,9}$"}},
    )

    @model_validator(mode="after")
    def _one_kind_of_sheet(self):
        if (self.total is None) == (self.marks is None):
            raise ValueError(_("须发送 total（总分）或 marks（分项分）之一。"))
        return self


class DirectorCommand(_Strict):
    action: Literal[
        "select",
        "next",
        "prev",
        "timer_start",
        "timer_pause",
        "timer_extend",
        "reveal",
        "release_seat", "void_request",
        "take_to_air", "take_off_air",
    ]
    position: int | None = Field(default=None, ge=0, le=10_000)
    seconds: int | None = Field(default=None, ge=1, le=3600)
    seat_no: int | None = Field(default=None, ge=1, le=10_000)
    reason: str | None = Field(default=None, max_length=200)
    graphic: Literal["leaderboard", "audience"] | None = None


class AudienceBallot(_Strict):
    """A panel member's vote on the agency being scored."""

    client_id: str = Field(pattern=CLIENT_ID)
    slot_id: Id
    level: Literal["satisfied", "basic", "dissatisfied"]


class VoidDecisionPayload(_Strict):
    """The chief judge's answer to a void request."""

    request_id: Id
    approve: bool
