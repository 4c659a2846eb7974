"""The Lua scripts that make every job state transition atomic.

One ``<verb>.lua`` per transition, each opening with a header (purpose, KEYS,
ARGV, returns).  Shared helpers live in ``includes/``, one function per file
named for it.  A ``--- @include "name"`` line pulls one in when the script is
loaded; an include declares the includes it needs the same way, and the loader
brings each one once, before whatever needs it.  Three includes are rendered from
Python, so a name is spelled once for both languages: ``--- @include "codes"``,
the return-code table of :mod:`pipeline.codes`, ``--- @include "keys"``, the
parts of key names of :mod:`pipeline.keys`, and ``--- @include "metrics"``, the
metric sizes of :mod:`pipeline.metrics`.
"""

from __future__ import annotations

import os
import re
import threading
import weakref
from collections.abc import Callable, Sequence
from functools import cache
from importlib import resources
from typing import Any

import hiredis
import redis
from redis.cluster import RedisCluster
from redis.exceptions import NoScriptError
from redis.sentinel import SentinelConnectionPool

from pipeline import codes, keys, metrics

_INCLUDE = re.compile(r'^--- @include "([a-z_]+)"\n', re.MULTILINE)

#: Includes rendered from Python, so a name is spelled once for both languages.
_RENDERED: dict[str, Callable[[], str]] = {
    "codes": codes.lua_definitions,
    "keys": keys.lua_definitions,
    "metrics": metrics.lua_definitions,
}


class IncludeError(Exception):
    """A script's includes cannot be resolved: one is missing, or they include each other."""


def script_names() -> list[str]:
    """Every transition script shipped (each ``<name>.lua`` beside this module)."""
    root = resources.files(__name__)
    return sorted(p.name[:-4] for p in root.iterdir() if p.name.endswith(".lua"))


@cache
def _include(name: str) -> tuple[str, tuple[str, ...]]:
    """Include ``name``'s text without its include lines, and the includes it declares."""
    if name in _RENDERED:
        return _RENDERED[name](), ()
    path = resources.files(__name__) / "includes" / f"{name}.lua"
    if not path.is_file():
        raise IncludeError(f"no include named {name!r} (includes/{name}.lua)")
    text = path.read_text(encoding="utf-8")
    return _INCLUDE.sub("", text), tuple(_INCLUDE.findall(text))


def declared_includes(name: str) -> tuple[str, ...]:
    """The includes that include ``name`` declares (its own ``--- @include`` lines)."""
    return _include(name)[1]


def include_order(
    names: Sequence[str], needs: Callable[[str], Sequence[str]] = declared_includes
) -> list[str]:
    """``names`` and everything they include (``needs``), each once, every include before its users."""
    order: list[str] = []
    path: list[str] = []

    def visit(name: str) -> None:
        if name in order:
            return
        if name in path:
            cycle = " -> ".join([*path[path.index(name) :], name])
            raise IncludeError(f"includes form a cycle: {cycle}")
        path.append(name)
        for needed in needs(name):
            visit(needed)
        path.pop()
        order.append(name)

    for name in names:
        visit(name)
    return order


@cache
def source(name: str) -> str:
    """The full text of script `name`: its includes, resolved, where its first include line was."""
    text = (resources.files(__name__) / f"{name}.lua").read_text(encoding="utf-8")
    first = _INCLUDE.search(text)
    if first is None:
        return text
    body = "".join(_include(needed)[0] for needed in include_order(_INCLUDE.findall(text)))
    rest = _INCLUDE.sub("", text[first.start() :])
    return text[: first.start()] + body + rest


class Scripts:
    """The scripts registered on one Redis client (EVALSHA, reloaded on NOSCRIPT)."""

    def __init__(self, client: redis.Redis) -> None:
        self._client = client
        self._scripts = {name: client.register_script(source(name)) for name in script_names()}
        # A cluster client has no single pool: each script goes to the master of its keys' slot.
        # A Sentinel-managed connection finds the master only when its pool connects it (sending
        # on a bare one reconnects to its last address, or to localhost): both take the client's path.
        self._routed = isinstance(client, RedisCluster) or isinstance(
            client.connection_pool, SentinelConnectionPool
        )
        self._local = threading.local()
        self._direct: weakref.WeakSet[redis.Connection] = weakref.WeakSet()

    def __call__(
        self,
        name: str,
        keys: list[str],
        args: list[Any],
        client: redis.Redis | redis.client.Pipeline | None = None,
    ) -> Any:
        return self._scripts[name](keys=keys, args=args, client=client)

    def direct(self, name: str, keys: list[str], args: list[Any]) -> Any:
        """Run script ``name`` over this thread's own connection, outside the client's pool.

        For the worker's per-job transitions (fetch, complete): redis-py's per-command path
        (encoding each argument in Python, pool checkout with a readiness probe of the
        socket, retry wrapper, release) costs more CPU than the script itself.  Arguments
        must be ``str``, ``bytes``, ``int`` or ``float``.  Any trouble on the connection sends
        the call through the client instead, with its reconnects and retries, so errors
        surface exactly as from :meth:`__call__`.  A cluster or Sentinel client always takes that path.
        """
        if self._routed:
            return self(name, keys, args)
        script = self._scripts[name]
        connection = self._connection()
        try:
            connection.send_packed_command(
                [hiredis.pack_command(("EVALSHA", script.sha, len(keys), *keys, *args))]
            )
            return connection.read_response()
        except NoScriptError:
            pass  # Redis lost its scripts (restart, SCRIPT FLUSH): the client's path loads it
        except (redis.ConnectionError, redis.TimeoutError, OSError):
            connection.disconnect()
        return self(name, keys, args)

    def _connection(self) -> redis.Connection:
        held = getattr(self._local, "connection", None)
        if held is not None and held[0] == os.getpid():
            return held[1]  # type: ignore[no-any-return]
        pool = self._client.connection_pool
        connection: redis.Connection = pool.connection_class(**pool.connection_kwargs)
        self._local.connection = (os.getpid(), connection)
        self._direct.add(connection)
        return connection

    def disconnect(self) -> None:
        """Close every thread's own connection (they reconnect if used again)."""
        for connection in list(self._direct):
            connection.disconnect()
