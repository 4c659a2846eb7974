"""The Lua scripts that make every job state transition atomic.

One ``<verb>.lua`` per transition, each opening with a header (purpose, KEYS,
ARGV, returns).  Shared helpers live in ``includes/`` and are pulled in by a
``--- @include "name"`` line when the script is loaded; ``--- @include "codes"``
brings the return-code table of :mod:`pipeline.codes`.
"""

from __future__ import annotations

import os
import re
import threading
import weakref
from functools import cache
from importlib import resources
from typing import Any

import hiredis
import redis
from redis.cluster import RedisCluster
from redis.exceptions import NoScriptError
from redis.sentinel import SentinelConnectionPool

from pipeline.codes import lua_definitions

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
        if match.group(1) == "codes":  # the return-code table, spelled once in Python
            return lua_definitions()
        return (root / "includes" / f"{match.group(1)}.lua").read_text(encoding="utf-8")

    return _INCLUDE.sub(include, text)


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
