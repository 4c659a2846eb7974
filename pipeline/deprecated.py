"""Old spellings of renamed parameters, kept working with a ``DeprecationWarning``.

Durations name their unit (``grace_ms``, ``timeout_s``); the unit-less names they
replaced are still accepted as keywords so existing callers keep running.
"""

from __future__ import annotations

import warnings
from typing import TypeVar

T = TypeVar("T")


def renamed(new_value: T | None, old_value: T | None, *, new: str, old: str, owner: str) -> T | None:
    """The value given under ``new`` or, with a warning, under its old name ``old``."""
    if old_value is None:
        return new_value
    if new_value is not None:
        raise TypeError(f"{owner}() got both {new!r} and its deprecated name {old!r}")
    warnings.warn(f"{owner}({old}=...) is deprecated; use {new}=...", DeprecationWarning, stacklevel=3)
    return old_value
