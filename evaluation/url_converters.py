"""Route converters bounded by what the database can hold."""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

# Ids are PostgreSQL INTEGER (32-bit signed; SQLite's are 64-bit): a larger number in a URL
# is no row at all (404), not a database overflow error (500). Found by schemathesis.
MAX_ID = 2**31 - 1


class DatabaseIntegerConverter(IntegerConverter):
    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)
