"""Dramatiq's Redis broker, taught to keep every message as a tracked job.

``PipelineBroker`` keeps Dramatiq's API (actors, ``send``, middleware, the
``dramatiq`` CLI) and replaces its storage: a message *is* a job record,
enqueue/fetch/ack/nack are the project's Lua transitions, delays are durable
in Redis instead of in worker memory, and idle workers block instead of poll.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import dramatiq
import redis
from dramatiq.broker import MessageProxy
from dramatiq.brokers.redis import RedisBroker
from dramatiq.errors import ActorNotFound, QueueJoinTimeout
from dramatiq.message import Message
from dramatiq.middleware import Middleware, MiddlewareError, TimeLimit

from pipeline import keys, wiring
from pipeline.connection import address_of, make_client, redis_address
from pipeline.consumer import JobConsumer
from pipeline.errors import ConfigurationError, PipelineError
from pipeline.local_pause import LOCALLY_PAUSED
from pipeline.prepare import prepare_message
from pipeline.queue import Queue
from pipeline.reconnect import ConnectionWatch
from pipeline.settings import Settings
from pipeline.states import JobState
from pipeline.store import QueueStore

#: Actor options the broker itself implements (job naming, keeping finished records).
BROKER_ACTOR_OPTIONS = {"job_name", "catch_all", "remove_on_complete", "remove_on_fail", "stacktrace_limit"}


#: Builds the stack of a broker given no ``middleware=``: the composition root's
#: (``pipeline.composition``), which this module never imports, so no middleware can
#: import the broker back.
_default_middleware: Callable[[], list[Middleware]] | None = None


def install_default_middleware(factory: Callable[[], list[Middleware]]) -> None:
    """Give every ``PipelineBroker`` built from now on without ``middleware=`` the stack
    ``factory`` builds (the composition root calls this once, as it is imported)."""
    global _default_middleware
    _default_middleware = factory


class PipelineBroker(RedisBroker):
    """A Dramatiq Redis broker whose messages are tracked jobs."""

    def __init__(
        self,
        *,
        url: str | None = None,
        middleware: list[Middleware] | None = None,
        namespace: str | None = None,
        settings: Settings | None = None,
        client: redis.Redis | None = None,
        **parameters: Any,
    ) -> None:
        """Take what ``RedisBroker`` takes, plus ``settings``.

        ``url`` or connection ``parameters`` (``host``, ``port``, ``db``, ``password``, any
        ``redis.Redis`` keyword) build the client as ``RedisBroker`` does; ``namespace``
        prefixes every key, as there.  ``maintenance_chance``, ``heartbeat_timeout`` and
        ``dead_message_ttl`` are accepted and have nothing to tune: jobs are never kept in
        per-worker ack sets, and failed jobs stay until ``clean``/``remove_on_fail``.
        """
        for ignored in ("maintenance_chance", "heartbeat_timeout", "dead_message_ttl"):
            parameters.pop(ignored, None)
        base = settings or wiring.get_settings()
        if namespace is not None:
            base = base.replace(namespace=namespace)
        if url:
            base = base.replace(redis_url=url, redis_explicit=True)
        self.settings = base
        #: Per hook name: (middleware count when built, the middleware implementing it); see _hooks.
        self._hook_cache: dict[str, tuple[int, tuple[tuple[Middleware, Any], ...]]] = {}
        if client is None and (url or parameters):
            client = _client(url, parameters)
        elif client is None and settings is None:
            client = wiring.get_client()
        if client is None:
            client = make_client(self.settings)
        if middleware is None:
            if _default_middleware is None:
                raise ConfigurationError("no middleware given and no default stack installed")
            middleware = _default_middleware()
        super().__init__(  # type: ignore[no-untyped-call]
            client=client,
            namespace=keys.dramatiq_namespace(self.settings.namespace),
            middleware=middleware,
        )
        self.actor_options |= BROKER_ACTOR_OPTIONS
        self._lock = threading.Lock()
        self._queues: dict[str, Queue] = {}
        self.handlers: dict[tuple[str, str], str] = {}
        self.catch_all: dict[str, str] = {}
        #: Every job this process holds, per consumer thread (owner): (queue, {(job id, token)}).
        #: Lock renewal reads this, not the consumers: a consumer Dramatiq closes and rebuilds
        #: leaves jobs running in worker threads, and their locks must go on being renewed.
        self.holdings: dict[str, tuple[str, dict[tuple[str, str], None]]] = {}
        #: Whether Redis answers, for every thread of this process; one log line per backoff step.
        self.connection_watch = ConnectionWatch(address_of(client))
        #: Set while a worker shuts down: reports stop waiting for an unreachable Redis.
        self.stopping = threading.Event()
        #: Queues this process's workers must not start jobs of (Bull's local pause): the
        #: process's one set (see pipeline.local_pause), whichever broker reads it.
        self.locally_paused: set[str] = LOCALLY_PAUSED
        #: Exceptions of the jobs this process's workers failed, per queue (``join(fail_fast=True)``).
        self.dead_letters_by_queue: dict[str, collections.deque[DeadLetter]] = {}
        #: What ``join`` does when ``fail_fast`` is not given (Dramatiq's stub broker: True).
        self.fail_fast_default = False

    # -- jobs and handlers -------------------------------------------------------------------

    def queue(self, queue_name: str) -> Queue:
        """The ``Queue`` of this broker's Redis for ``queue_name`` (cached)."""
        with self._lock:
            queue = self._queues.get(queue_name)
            if queue is None:
                queue = self._queues[queue_name] = Queue(
                    queue_name, client=self.client, settings=self.settings
                )
            return queue

    def store(self, queue_name: str) -> QueueStore:
        return self.queue(queue_name).store

    def declare_actor(self, actor: dramatiq.Actor[Any, Any]) -> None:
        job_name = actor.options.get("job_name") or actor.actor_name
        key = (actor.queue_name, job_name)
        existing = self.handlers.get(key)
        if existing is not None and existing != actor.actor_name:
            raise ConfigurationError(
                f"job name {job_name!r} on queue {actor.queue_name!r} already has handler {existing!r}"
            )
        if actor.options.get("catch_all"):
            current = self.catch_all.get(actor.queue_name)
            if current is not None and current != actor.actor_name:
                raise ConfigurationError(f"queue {actor.queue_name!r} already has catch-all {current!r}")
            self.catch_all[actor.queue_name] = actor.actor_name
        super().declare_actor(actor)
        self.handlers[key] = actor.actor_name

    def resolve_actor(self, queue_name: str, job_name: str) -> str | None:
        """The actor that handles ``job_name`` on ``queue_name``: its own, else the catch-all."""
        return self.handlers.get((queue_name, job_name)) or self.catch_all.get(queue_name)

    def job_name_of(self, actor_name: str) -> str:
        actor = self.actors.get(actor_name)
        if actor is None:
            return actor_name
        return str(actor.options.get("job_name") or actor_name)

    def default_time_limit(self) -> int:
        for middleware in self.middleware:
            if isinstance(middleware, TimeLimit):
                return int(middleware.time_limit)
        return 0

    # -- Dramatiq's broker interface ---------------------------------------------------------

    def consume(self, queue_name: str, prefetch: int = 1, timeout: int = 5000) -> JobConsumer:
        return JobConsumer(self, queue_name, prefetch, timeout)

    def holding(self, owner: str, queue_name: str) -> dict[tuple[str, str], None]:
        """The jobs consumer thread ``owner`` holds, shared by every consumer it builds."""
        with self._lock:
            entry = self.holdings.get(owner)
            if entry is None:
                entry = self.holdings[owner] = (queue_name, {})
            return entry[1]

    def drop_holding(self, owner: str) -> None:
        """Forget consumer ``owner``'s holding once it holds nothing (a closed consumer)."""
        with self._lock:
            entry = self.holdings.get(owner)
            if entry is not None and not entry[1]:
                del self.holdings[owner]

    def held_jobs(self) -> dict[str, list[tuple[str, str]]]:
        """(job id, lock token) of every job this process holds, per queue, whichever consumer
        object took it."""
        held: dict[str, list[tuple[str, str]]] = {}
        with self._lock:
            entries = list(self.holdings.values())
        for queue_name, jobs in entries:
            pairs = list(jobs.copy())  # one C-level copy: consumers change it meanwhile
            if pairs:
                held.setdefault(queue_name, []).extend(pairs)
        return held

    def declare_queue(self, queue_name: str) -> None:
        # No ".DQ" delay queue: delayed jobs wait in Redis, not in worker memory.
        if queue_name not in self.queues:
            self.emit_before("declare_queue", queue_name)
            self.queues.add(queue_name)
            self.emit_after("declare_queue", queue_name)

    def enqueue(self, message: Message[Any], *, delay: float | None = None) -> Message[Any]:
        """Store ``message`` as a job (``actor.send`` lands here); its message id is the job id.

        ``delay`` is in milliseconds, an int or a float as Dramatiq takes it (a fraction of a
        millisecond is dropped).  The message is stored exactly as the installed Dramatiq
        encoder writes it, JSON or not.
        """
        prepared = prepare_message(message, self.job_name_of(message.actor_name), delay)
        self.emit_before("enqueue", message, prepared.delay or None)
        self.queue(message.queue_name).add_entries([prepared.entry()])
        self.emit_after("enqueue", message, prepared.delay or None)
        return message

    def add_middleware(self, middleware: Middleware, **kwargs: Any) -> None:
        super().add_middleware(middleware, **kwargs)
        self._hook_cache.clear()

    def _hooks(self, name: str) -> tuple[tuple[Middleware, Any], ...] | None:
        """The middleware that implement hook ``name``, in calling order, with their bound hook.

        Dramatiq calls every middleware for every signal; most inherit the no-op hook, and at
        some eight signals per job across a dozen middleware those calls add up.  Skipping
        the no-ops changes nothing else: same order, same error handling.  None for a hook the
        base class lacks (Dramatiq's loop then logs the AttributeError, as it always did).
        """
        cached = self._hook_cache.get(name)
        if cached is not None and cached[0] == len(self.middleware):
            return cached[1]
        base = getattr(Middleware, name, None)
        if base is None:
            return None
        ordered = reversed(self.middleware) if name.startswith("after_") else iter(self.middleware)
        hooks = tuple(
            (m, getattr(m, name))
            for m in ordered
            if getattr(type(m), name, None) is not base or name in getattr(m, "__dict__", ())
        )
        self._hook_cache[name] = (len(self.middleware), hooks)
        return hooks

    def emit_after(self, signal: str, *args: Any, **kwargs: Any) -> None:
        if signal == "worker_boot":
            self.stopping.clear()
        name = "after_" + signal
        hooks = self._hooks(name)
        if hooks is None:
            super().emit_after(signal, *args, **kwargs)
            return
        for middleware, hook in hooks:
            try:
                hook(self, *args, **kwargs)
            except Exception:
                self.logger.critical("Unexpected failure in %s of %r.", name, middleware, exc_info=True)

    def emit_before(self, signal: str, *args: Any, **kwargs: Any) -> None:
        if signal == "worker_shutdown":
            self.stopping.set()
        name = "before_" + signal
        hooks = self._hooks(name)
        if hooks is None:
            super().emit_before(signal, *args, **kwargs)
        else:
            for middleware, hook in hooks:
                try:
                    hook(self, *args, **kwargs)
                except MiddlewareError:
                    raise
                except Exception:
                    self.logger.critical("Unexpected failure in %s of %r.", name, middleware, exc_info=True)
        if signal == "process_message":
            started = getattr(args[0], "started", None)
            if started is not None:  # a job handed over directly: its consumer may go on
                started.set()

    def get_declared_delay_queues(self) -> set[str]:
        """Always empty: delayed jobs wait in their own queue's delayed set, not in a ``.DQ`` queue."""
        return set()

    def flush(self, queue_name: str) -> None:
        """Drop the jobs of ``queue_name`` that are not running: waiting, delayed, finished.

        Only this broker's namespace is touched.  Running jobs finish (a job is never
        taken from under its worker).
        """
        queue = self.queue(queue_name)
        queue.empty()
        queue.clean(0, "completed")
        queue.clean(0, "failed")
        self.dead_letters_by_queue.pop(queue_name, None)

    def flush_all(self) -> None:
        """Flush every queue this broker declared (never anything outside its namespace)."""
        for queue_name in list(self.queues):
            self.flush(queue_name)

    def record_dead_letter(self, message: Message[Any] | MessageProxy) -> None:
        """Remember a job this process's workers failed, for ``dead_letters`` and ``join(fail_fast=True)``.

        The exception is kept as its type and arguments, never the object: holding it would
        keep its traceback, frames and locals alive after the worker let go of them.
        """
        exception = getattr(message, "_exception", None)
        if exception is None and message.actor_name not in self.actors:
            exception = ActorNotFound(message.actor_name)
        if exception is None:
            exception = PipelineError(getattr(message, "failure_reason", None) or "job failed")
        plain: Message[Any] = message._message if isinstance(message, MessageProxy) else message
        letters = self.dead_letters_by_queue.setdefault(message.queue_name, collections.deque(maxlen=1000))
        letters.append(DeadLetter(plain, type(exception), exception.args, str(exception)))

    @property
    def dead_letters(self) -> list[Message[Any]]:
        """The messages of the jobs this process's workers failed (newest 1,000 per queue)."""
        return [letter.message for letters in self.dead_letters_by_queue.values() for letter in letters]

    def join(
        self,
        queue_name: str,
        *,
        interval: int = 100,
        timeout: int | None = None,
        fail_fast: bool | None = None,
    ) -> None:
        """Wait until ``queue_name`` has no waiting, delayed or active job (for tests).

        Raises ``QueueJoinTimeout`` once ``timeout`` ms pass.  With ``fail_fast`` (as on
        Dramatiq's stub broker; ``None`` takes ``fail_fast_default``, off unless set) it
        raises the exception of a job of this queue that a worker of this process failed
        since the queue was last flushed (an exception of the same type and arguments).
        """
        deadline = None if timeout is None else time.monotonic() + timeout / 1000
        queue = self.queue(queue_name)
        while sum(queue.get_job_counts(JobState.WAITING, JobState.DELAYED, JobState.ACTIVE).values()):
            if deadline is not None and time.monotonic() >= deadline:
                raise QueueJoinTimeout(queue_name)
            time.sleep(interval / 1000)
        if fail_fast if fail_fast is not None else self.fail_fast_default:
            for letter in self.dead_letters_by_queue.get(queue_name, ()):
                raise letter.exception()


class DeadLetter(NamedTuple):
    """A job this process failed: its message, and how to raise its exception again."""

    message: Message[Any]
    kind: type[BaseException]
    args: tuple[Any, ...]
    text: str

    def exception(self) -> BaseException:
        try:
            return self.kind(*self.args)
        except Exception:
            return PipelineError(f"{self.kind.__name__}: {self.text}")


def _client(url: str | None, parameters: dict[str, Any]) -> redis.Redis:
    """A client built as ``RedisBroker`` builds one: from the URL, else from the parameters."""
    if url:
        client = redis.Redis(connection_pool=redis.ConnectionPool.from_url(url), **parameters)
        client.pipeline_address = redis_address(url)  # type: ignore[attr-defined]
    else:
        client = redis.Redis(**parameters)
    return client
