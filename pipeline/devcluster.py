"""A local Redis Cluster or Sentinel set for development and tests, from the installed ``redis-server``.

``pipeline devcluster cluster`` starts 3 masters with a replica each;
``pipeline devcluster sentinel`` a master, a replica and 3 Sentinels.  Both bind
to loopback on free ports, keep nothing on disk, print the settings that point
the project at them, and stop with their owner: each server is started with
``PR_SET_PDEATHSIG`` (Linux), so it stops even when its owner is killed.  (The
signal comes when the *thread* that started a server exits: start them from one
that lives as long as they should, such as the main thread.)

The timeouts are short (a failed master is replaced within a few seconds) so
failover can be tried by hand; production sets them for its own network.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import redis

from pipeline.deprecated import renamed
from pipeline.embedded import die_with_parent
from pipeline.errors import ConfigurationError, PipelineError
from pipeline.settings import Settings, format_addresses

CLUSTER_SLOTS = 16384


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(predicate: Callable[..., Any], timeout_s: float, what: str, *args: Any) -> None:
    """Call ``predicate(*args)`` until it is true; fail naming ``what`` after ``timeout_s`` seconds."""
    deadline = time.monotonic() + timeout_s
    while True:
        with contextlib.suppress(redis.RedisError, OSError):
            if predicate(*args):
                return
        if time.monotonic() > deadline:
            raise PipelineError(f"local Redis: {what} did not happen within {timeout_s:.0f} s")
        time.sleep(0.05)


class Server:
    """One ``redis-server`` child process on a free loopback port."""

    def __init__(
        self, directory: Path, args: list[str], *, sentinel: bool = False, password: str = ""
    ) -> None:
        self.port = free_port()
        self.dir = directory / str(self.port)
        self.dir.mkdir()
        self.sentinel = sentinel
        base = [f"port {self.port}", "bind 127.0.0.1", f'dir "{self.dir}"']
        if not sentinel:
            base += ['save ""', "appendonly no", "repl-diskless-sync yes", "repl-diskless-sync-delay 0"]
        self.bus_port = 0
        if "cluster-enabled yes" in args:  # the bus port would be port + 10000: name a free one
            self.bus_port = free_port()
            base.append(f"cluster-port {self.bus_port}")
        self.config = self.dir / "redis.conf"
        self.config.write_text("\n".join(base + args) + "\n")
        self.client = redis.Redis(
            port=self.port, password=password or None, socket_connect_timeout=0.5, socket_timeout=5
        )
        self.start()

    def start(self) -> None:
        """Start the server; after :meth:`kill`, again on the same port with the same config (and,
        keeping nothing on disk, no data: a cluster node keeps only its identity)."""
        binary = shutil.which("redis-server")
        if binary is None:
            raise ConfigurationError("redis-server is not on PATH (install Redis to start a local set)")
        cmd = [binary, str(self.config)] + (["--sentinel"] if self.sentinel else [])
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=die_with_parent
        )
        wait_until(self.client.ping, 10, f"redis-server on port {self.port} answering")

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Kill the server (SIGKILL by default: a crash, nothing flushed)."""
        if self.alive:
            self.proc.send_signal(sig)
            self.proc.wait(10)
        self.client.close()

    def stop(self) -> None:
        if self.alive:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.client.close()


class _ServerSet:
    def __init__(self, prefix: str) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix=prefix))
        self.servers: list[Server] = []

    def _start(self, args: list[str], *, sentinel: bool = False, password: str = "") -> Server:
        server = Server(self.dir, args, sentinel=sentinel, password=password)
        self.servers.append(server)
        return server

    def stop(self) -> None:
        for server in self.servers:
            server.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> _ServerSet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class LocalCluster(_ServerSet):
    """A Redis Cluster of ``masters`` masters with ``replicas`` replicas each.

    ``cluster-require-full-coverage no``: while a failed master's replica is being
    promoted, the other masters keep serving their slots.
    """

    def __init__(
        self, masters: int = 3, replicas: int = 1, node_timeout_ms: int = 1000, password: str = ""
    ) -> None:
        super().__init__("pipeline-cluster-")
        self.password = password
        try:
            args = [
                "cluster-enabled yes",
                "cluster-config-file nodes.conf",
                f"cluster-node-timeout {node_timeout_ms}",
                "cluster-require-full-coverage no",
                "cluster-replica-validity-factor 0",
            ]
            if password:
                args += [f"requirepass {password}", f"masterauth {password}"]
            nodes = [self._start(args, password=password) for _ in range(masters * (1 + replicas))]
            self._form(nodes[:masters], nodes[masters:], replicas)
        except BaseException:
            self.stop()
            raise

    def _form(self, masters: list[Server], replicas: list[Server], per_master: int) -> None:
        step = CLUSTER_SLOTS // len(masters)
        for i, master in enumerate(masters):
            last = CLUSTER_SLOTS - 1 if i == len(masters) - 1 else (i + 1) * step - 1
            master.client.execute_command("CLUSTER ADDSLOTSRANGE", i * step, last)
        first = self.servers[0]
        for server in self.servers[1:]:
            server.client.execute_command("CLUSTER MEET", "127.0.0.1", first.port, first.bus_port)
        everyone = len(self.servers)
        for server in self.servers:
            wait_until(_knows, 20, "the nodes meeting", server, everyone)
        for i, replica in enumerate(replicas):
            master_id = masters[i // per_master].client.execute_command("CLUSTER MYID")
            replica.client.execute_command("CLUSTER REPLICATE", master_id)
        for server in self.servers:
            wait_until(_cluster_ok, 30, "the cluster forming", server)
        for replica in replicas:
            wait_until(_in_sync, 30, "the replicas syncing", replica)

    @property
    def nodes(self) -> list[Server]:
        return [s for s in self.servers if s.alive]

    def masters(self) -> list[Server]:
        """The live servers that are masters now (failovers change which)."""
        return [s for s in self.nodes if s.client.info("replication").get("role") == "master"]

    def master_of(self, key: str) -> Server:
        """The live master serving ``key``'s slot now (as that master itself says)."""
        for server in self.masters():
            slot = int(server.client.execute_command("CLUSTER KEYSLOT", key))
            for start, end, owner, *_ in server.client.execute_command("CLUSTER SLOTS"):
                if int(start) <= slot <= int(end) and int(owner[1]) == server.port:
                    return server
        raise PipelineError(f"no live master serves {key!r}")

    def move_slot(self, slot: int, target: Server, batch: int = 100) -> None:
        """Reshard ``slot`` to ``target`` as ``redis-cli --cluster reshard`` does: mark it importing
        and migrating, ``MIGRATE`` its keys over in batches (clients meanwhile get ``ASK`` for
        moved keys, ``TRYAGAIN`` for commands spanning both sides), then give it to ``target``
        everywhere (``MOVED`` from then on)."""
        source = next(
            server
            for server in self.masters()
            for start, end, owner, *_ in server.client.execute_command("CLUSTER SLOTS")
            if int(start) <= slot <= int(end) and int(owner[1]) == server.port
        )
        source_id = _text(source.client.execute_command("CLUSTER MYID"))
        target_id = _text(target.client.execute_command("CLUSTER MYID"))
        target.client.execute_command("CLUSTER SETSLOT", slot, "IMPORTING", source_id)
        source.client.execute_command("CLUSTER SETSLOT", slot, "MIGRATING", target_id)
        while keys := source.client.execute_command("CLUSTER GETKEYSINSLOT", slot, batch):
            auth = ("AUTH", self.password) if self.password else ()
            source.client.execute_command(
                "MIGRATE", "127.0.0.1", target.port, "", 0, 5000, *auth, "KEYS", *keys
            )
        for server in (target, source, *self.masters()):
            server.client.execute_command("CLUSTER SETSLOT", slot, "NODE", target_id)

    def settings(self, base: Settings | None = None) -> Settings:
        startup = tuple(s.address for s in self.nodes)
        return (base or Settings()).replace(
            redis_cluster_nodes=startup, redis_password=self.password, redis_url="", redis_explicit=True
        )

    def env(self) -> dict[str, str]:
        env = {"REDIS_CLUSTER_NODES": format_addresses(tuple(s.address for s in self.nodes))}
        return {**env, "REDIS_PASSWORD": self.password} if self.password else env

    def wait_healthy(self, timeout_s: float | None = None, *, timeout: float | None = None) -> None:
        """Wait until every live node sees the cluster as whole again (after a failover), for up to
        ``timeout_s`` seconds (default 30; ``timeout`` is its deprecated old name)."""
        timeout_s = renamed(timeout_s, timeout, new="timeout_s", old="timeout", owner="wait_healthy")
        for server in self.nodes:
            wait_until(_cluster_ok, 30 if timeout_s is None else timeout_s, "the cluster healing", server)


def _knows(server: Server, count: int) -> bool:
    nodes = server.client.execute_command("CLUSTER NODES")  # redis-py parses it into a dict
    return (len(nodes) if isinstance(nodes, dict) else len(_text(nodes).splitlines())) == count


def _in_sync(replica: Server) -> bool:
    return bool(replica.client.info("replication").get("master_link_status") == "up")


def _cluster_ok(server: Server) -> bool:
    info = server.client.execute_command("CLUSTER INFO")
    if not isinstance(info, dict):
        info = dict(line.split(":", 1) for line in _text(info).split() if ":" in line)
    info = {_text(k): _text(v) for k, v in info.items()}
    return info.get("cluster_state") == "ok" and info.get("cluster_slots_ok") == str(CLUSTER_SLOTS)


class LocalSentinelSet(_ServerSet):
    """A master, ``replicas`` replicas and ``sentinels`` Sentinels watching it as ``name``.

    Sentinels are started once the replicas are in sync, so each learns of them at
    its first look and a failover can start as soon as ``down_after_ms`` passes.
    """

    def __init__(
        self,
        name: str = "pipeline",
        replicas: int = 1,
        sentinels: int = 3,
        down_after_ms: int = 1000,
        failover_timeout_ms: int = 3000,
        password: str = "",
        sentinel_password: str = "",
    ) -> None:
        """``password`` is the master's and replicas' (``requirepass``), ``sentinel_password``
        the Sentinels' own."""
        super().__init__("pipeline-sentinel-")
        self.name = name
        self.password = password
        self.sentinel_password = sentinel_password
        try:
            auth = [f"requirepass {password}", f"masterauth {password}"] if password else []
            self.master = self._start(auth, password=password)
            follow = [*auth, f"replicaof 127.0.0.1 {self.master.port}"]
            self.replicas = [self._start(follow, password=password) for _ in range(replicas)]
            for replica in self.replicas:
                wait_until(_in_sync, 30, "the replica syncing", replica)
            quorum = sentinels // 2 + 1
            config = [
                f"sentinel monitor {name} 127.0.0.1 {self.master.port} {quorum}",
                f"sentinel down-after-milliseconds {name} {down_after_ms}",
                f"sentinel failover-timeout {name} {failover_timeout_ms}",
                f"sentinel parallel-syncs {name} 1",
            ]
            if password:
                config.append(f"sentinel auth-pass {name} {password}")
            if sentinel_password:  # the Sentinels ask it of clients and of each other
                config += [f"requirepass {sentinel_password}", f"sentinel sentinel-pass {sentinel_password}"]
            self.sentinels = [
                self._start(config, sentinel=True, password=sentinel_password) for _ in range(sentinels)
            ]
            for s in self.sentinels:
                wait_until(self._sees_everyone, 30, "the Sentinels meeting", s, replicas, sentinels - 1)
        except BaseException:
            self.stop()
            raise

    def _sees_everyone(self, sentinel: Server, replicas: int, others: int) -> bool:
        state = sentinel.client.execute_command("SENTINEL MASTER", self.name)
        fields = dict(zip(state[::2], state[1::2], strict=True)) if isinstance(state, list) else state
        fields = {_text(k): _text(v) for k, v in fields.items()}
        return int(fields["num-slaves"]) >= replicas and int(fields["num-other-sentinels"]) >= others

    def current_master(self) -> Server:
        """The server the Sentinels name as master now."""
        for sentinel in self.sentinels:
            if sentinel.alive:
                with contextlib.suppress(redis.RedisError):
                    reply = sentinel.client.execute_command("SENTINEL GET-MASTER-ADDR-BY-NAME", self.name)
                    return next(s for s in self.servers if s.port == int(reply[1]))
        raise PipelineError("no Sentinel answers")

    def settings(self, base: Settings | None = None) -> Settings:
        return (base or Settings()).replace(
            redis_sentinels=tuple(s.address for s in self.sentinels),
            redis_sentinel_master=self.name,
            redis_password=self.password,
            redis_sentinel_password=self.sentinel_password,
            redis_url="",
            redis_explicit=True,
        )

    def env(self) -> dict[str, str]:
        return {
            "REDIS_SENTINELS": format_addresses(tuple(s.address for s in self.sentinels)),
            "REDIS_SENTINEL_MASTER": self.name,
            **({"REDIS_PASSWORD": self.password} if self.password else {}),
            **({"REDIS_SENTINEL_PASSWORD": self.sentinel_password} if self.sentinel_password else {}),
        }


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@contextlib.contextmanager
def started(kind: str) -> Iterator[LocalCluster | LocalSentinelSet]:
    servers: LocalCluster | LocalSentinelSet = LocalCluster() if kind == "cluster" else LocalSentinelSet()
    try:
        yield servers
    finally:
        servers.stop()


def run(kind: str) -> int:
    """Start a local set, print how to use it, and keep it until interrupted (``pipeline devcluster``)."""
    with started(kind) as servers:
        print(f"Local Redis {kind} running (stops with this command, Ctrl-C):")
        for name, value in servers.env().items():
            print(f"  export {name}={value}")
        sys.stdout.flush()
        signal.signal(signal.SIGTERM, lambda *_: os.kill(os.getpid(), signal.SIGINT))
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(1)
    return 0
