"""Refusals that go back to the client in an ack: a code, a message, the field at fault."""

from __future__ import annotations


class LiveRefusal(Exception):
    def __init__(self, code: str, message: str, field: str | None = None, **extra):
        super().__init__(message)
        self.code, self.message, self.field, self.extra = code, message, field, extra

    def ack(self) -> dict:
        error = {"code": self.code, "message": self.message, **self.extra}
        if self.field:
            error["field"] = self.field
        return {"ok": False, "error": error}
