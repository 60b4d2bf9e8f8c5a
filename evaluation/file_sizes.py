"""File sizes as people read them, the same on every page that lists files.

Under 1 KB a size is counted in bytes: a 40-byte file divided into KB showed as "0.0 KB".
Above, one decimal of KB or MB; the unit moves up once the rounded figure would reach 1024,
so nothing reads "1024.0 KB".
"""

from __future__ import annotations

from flask_babel import gettext as _

KIB = 1024


def file_size(size_bytes: int) -> str:
    if size_bytes < KIB:
        return _("%(n)s 字节", n=size_bytes)
    kib = size_bytes / KIB
    if round(kib, 1) < KIB:
        return f"{kib:.1f} KB"
    return f"{kib / KIB:.1f} MB"
