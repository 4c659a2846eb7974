"""The Lua scripts that make every job state transition atomic.

One ``<verb>.lua`` per transition, each opening with a header (purpose, KEYS,
ARGV, returns).  Shared helpers live in ``includes/`` and are pulled in by a
``--- @include "name"`` line when the script is loaded.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import Any

import redis

_INCLUDE = re.compile(r'^--- @include "([a-z_]+)"$', re.MULTILINE)


def script_names() -> list[str]:
    """Every transition script shipped (each ``<name>.lua`` beside this module)."""
    root = resources.files(__name__)
    return sorted(p.name[:-4] for p in root.iterdir() if p.name.endswith(".lua"))


@cache
def source(name: str) -> str:
    """The full text of script `name`, includes expanded."""
    root = resources.files(__name__)
    text = (root / f"{name}.lua").read_text(encoding="utf-8")

    def include(match: re.Match[str]) -> str:
        return (root / "includes" / f"{match.group(1)}.lua").read_text(encoding="utf-8")

    return _INCLUDE.sub(include, text)


class Scripts:
    """The scripts registered on one Redis client (EVALSHA, reloaded on NOSCRIPT)."""

    def __init__(self, client: redis.Redis) -> None:
        self._scripts = {name: client.register_script(source(name)) for name in script_names()}

    def __call__(
        self,
        name: str,
        keys: list[str],
        args: list[Any],
        client: redis.Redis | redis.client.Pipeline | None = None,
    ) -> Any:
        return self._scripts[name](keys=keys, args=args, client=client)
