"""The scoring policy as plain data: canonical JSON and its SHA-256 fingerprint.

Every rule object is a frozen dataclass, so the whole policy (panel rules, group weights,
satisfaction scale, composition, tie-breakers, grades) serializes to one canonical JSON text:
keys sorted, no insignificant whitespace, UTF-8, Decimals as plain strings with trailing zeros
removed (so weight 40 and 40.0 fingerprint alike), tuples as lists, each object tagged with its
class name in "type". `policy_from_plain` rebuilds the objects, so a stored policy can be
re-applied years later and proven to be the same by its fingerprint.

A field added to a rule after policies were stored is declared with `OMIT_AT_DEFAULT` metadata:
it is left out of the plain form while it holds its default, so every policy stored before the
field existed keeps its fingerprint (and loads back with the default).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from .errors import PolicyError

_REGISTRY: dict[str, type] = {}
OMIT_AT_DEFAULT = {"omit_at_default": True}


def register(cls: type) -> type:
    """Make a rule class loadable by `policy_from_plain`."""
    _REGISTRY[cls.__name__] = cls
    return cls


def to_plain(obj: Any) -> Any:
    """Rule objects -> JSON-ready dicts, lists, strings, ints, bools and None."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        plain = {"type": type(obj).__name__}
        for field in dataclasses.fields(obj):
            value = getattr(obj, field.name)
            if field.name.startswith("_") or (
                    field.metadata.get("omit_at_default") and value == field.default):
                continue
            plain[field.name] = to_plain(value)
        return plain
    if isinstance(obj, Decimal):
        return f"{obj.normalize():f}" if obj else "0"
    if isinstance(obj, float):
        raise PolicyError(f"策略中出现浮点数 {obj!r}；请使用 Decimal 或字符串")
    if isinstance(obj, Mapping):
        return {str(key): to_plain(value) for key, value in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_plain(item) for item in obj]
    if obj is None or isinstance(obj, str | int):
        return obj
    raise PolicyError(f"策略中出现无法序列化的对象：{obj!r}")


def canonical_json(obj: Any) -> str:
    return json.dumps(to_plain(obj), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def policy_fingerprint(obj: Any) -> str:
    """SHA-256 (hex) of the canonical JSON: equal policies, equal fingerprints."""
    return hashlib.sha256(canonical_json(obj).encode("utf-8")).hexdigest()


def policy_from_plain(plain: Any) -> Any:
    """Inverse of `to_plain` for registered rule classes (lists come back as tuples)."""
    if isinstance(plain, Mapping) and "type" in plain:
        cls = _REGISTRY.get(plain["type"])
        if cls is None:
            raise PolicyError(f"未知的策略类型：{plain['type']!r}")
        fields = {k: policy_from_plain(v) for k, v in plain.items() if k != "type"}
        return cls(**fields)
    if isinstance(plain, Mapping):
        return {key: policy_from_plain(value) for key, value in plain.items()}
    if isinstance(plain, list):
        return tuple(policy_from_plain(item) for item in plain)
    return plain
