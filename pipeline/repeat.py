"""Repeatable jobs (Bull's ``repeat`` option): definitions in Redis, and each fire.

How a repeat runs, Bull's way with APScheduler as the clock:

- ``Queue.add(name, data, repeat={...})`` stores the definition and adds its first
  occurrence as a *delayed* job with a deterministic id,
  ``repeat:<definition id>:<fire time in epoch ms>``, and returns that job.  It is
  listed as ``delayed``, can be waited on, and runs on time from the delayed set.
- The scheduler process (``pipeline scheduler``) gives each definition to
  APScheduler, which fires it when its pending occurrence comes due.  A fire
  (:func:`advance`) claims the definition atomically (``repeat_claim.lua``) and adds
  the next occurrence as a delayed job.  Of any number of schedulers only one
  claim wins, and the job id is deterministic besides, so a fire never doubles;
  ``limit`` is counted in the same claim, so it holds exactly.

Policies:

- **Missed fires coalesce.**  The pending occurrence runs on time even with no
  scheduler running (it is already a delayed job).  Fires after it that were
  missed while no scheduler ran (or while it was late) become *one* run, added
  as soon as a scheduler fires again (its id is that of the first missed fire);
  the schedule then resumes at the first fire after now.  Nothing is replayed.
- **``limit``** counts occurrences created, the first one included.  **``end_date``**:
  no occurrence after it.  A finished definition stays listed (``next_run`` is
  ``None``, ``count`` shows how many ran), so adding it again at the next app start
  does not start it over; a higher ``limit`` or later ``end_date`` does.
- **Adding again** with the same key (queue, name, ``job_id``, ``tz``, ``cron`` or
  ``every``) updates that definition: data, options, ``start_date``,
  ``end_date`` and ``limit`` apply from the occurrence after the pending one; the
  count and the pending occurrence are kept.
- **Removing** (``Queue.remove_repeatable(key)``) deletes the definition and the
  pending occurrence if it has not started.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from pipeline.codes import Code
from pipeline.connection import translate_errors
from pipeline.errors import InvalidJobError, JobNotFoundError, JobStateError
from pipeline.job import Job, JobState
from pipeline.keys import RepeatKeys, repeat_queues_set, repeat_version
from pipeline.options import encode_json, validate_options
from pipeline.prepare import prepare_job
from pipeline.triggers import RepeatTrigger

if TYPE_CHECKING:
    from pipeline.queue import Queue


@dataclass(frozen=True, slots=True)
class RepeatableJob:
    """One repeat definition, as :meth:`Queue.get_repeatable_jobs` lists it.

    Attributes:
        key: the definition's key, ``name:job_id:tz:cron-or-every`` (pass it to
            ``remove_repeatable``); adding a repeat with the same key updates this one.
        id: a short hash of the key; occurrence job ids are ``repeat:<id>:<fire ms>``.
        name: the job name each occurrence gets.
        cron: the cron expression (Bull's ``pattern``), or ``None`` for ``every``.
        every: the interval in ms, or ``None`` for ``cron``.
        tz: the IANA zone ``cron`` is read in (``None``: UTC).
        start_date, end_date: the window the fires fall in (epoch ms), if given.
        limit: the most occurrences, if given.
        count: occurrences created so far (the pending one included).
        next_run: when the pending occurrence runs (epoch ms); ``None`` once finished.
        job_id: the ``job_id`` option it was added with, which is part of the key.
        data, opts: the job data and options each occurrence is added with.
        rev: bumped each time the definition is added again.
    """

    key: str
    id: str
    name: str
    cron: str | None
    every: int | None
    tz: str | None
    start_date: int | None
    end_date: int | None
    limit: int | None
    count: int
    next_run: int | None
    job_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict, repr=False)
    opts: dict[str, Any] = field(default_factory=dict, repr=False)
    rev: int = 0

    @property
    def pattern(self) -> str | None:
        """Bull's name for ``cron``."""
        return self.cron

    def trigger(self) -> RepeatTrigger:
        return RepeatTrigger(
            cron=self.cron, every=self.every, tz=self.tz, start_ms=self.start_date, end_ms=self.end_date
        )

    def as_dict(self) -> dict[str, Any]:
        """The listing fields as JSON-ready values (for the API)."""
        keys = ("key", "id", "name", "cron", "every", "tz", "start_date", "end_date", "limit", "count")
        return {**{k: getattr(self, k) for k in keys}, "next_run": self.next_run}

    @classmethod
    def from_hash(cls, raw: Mapping[Any, Any]) -> RepeatableJob:
        text = {_str(k): _str(v) for k, v in raw.items()}
        spec = json.loads(text.get("spec") or "{}")
        return cls(
            key=text["key"],
            id=text["id"],
            name=text["name"],
            cron=text.get("cron") or None,
            every=_int(text.get("every")),
            tz=text.get("tz") or None,
            start_date=_int(text.get("start")),
            end_date=_int(text.get("end")),
            limit=_int(text.get("limit")),
            count=_int(text.get("count")) or 0,
            next_run=_int(text.get("next")),
            job_id=text.get("job_id") or None,
            data=spec.get("data") or {},
            opts=spec.get("opts") or {},
            rev=_int(text.get("rev")) or 0,
        )


def _str(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw


def _int(raw: str | None) -> int | None:
    return None if raw in (None, "") else int(raw)


def repeat_key(name: str, job_id: str | None, repeat: dict[str, Any]) -> str:
    """Bull's repeat key, without the end date (changing it updates the definition)."""
    return f"{name}:{job_id or ''}:{repeat.get('tz') or ''}:{repeat.get('cron') or repeat.get('every')}"


def repeat_id(key: str) -> str:
    return hashlib.sha1(key.encode()).hexdigest()[:16]


def occurrence_id(definition_id: str, fire_ms: int) -> str:
    """The deterministic job id of the occurrence firing at ``fire_ms``."""
    return f"repeat:{definition_id}:{fire_ms}"


class RepeatStore:
    """The repeat definitions of one queue in Redis."""

    def __init__(self, queue: Queue) -> None:
        self.queue = queue
        self.client = queue.client
        self.namespace = queue.settings.namespace
        self.keys = RepeatKeys.for_queue(self.namespace, queue.name)

    def get(self, definition_id: str) -> RepeatableJob | None:
        raw = self.client.hgetall(self.keys.definition(definition_id))
        return RepeatableJob.from_hash(raw) if raw else None

    def all(self) -> list[RepeatableJob]:
        ids = sorted(_str(i) for i in self.client.smembers(self.keys.index))
        pipe = self.client.pipeline(transaction=False)
        for definition_id in ids:
            pipe.hgetall(self.keys.definition(definition_id))
        return [RepeatableJob.from_hash(raw) for raw in pipe.execute() if raw]

    def upsert(self, definition: RepeatableJob, first: int | None) -> tuple[bool, int | None]:
        fields = {
            "key": definition.key,
            "id": definition.id,
            "name": definition.name,
            "job_id": definition.job_id or "",
            "cron": definition.cron or "",
            "every": _text(definition.every),
            "tz": definition.tz or "",
            "start": _text(definition.start_date),
            "end": _text(definition.end_date),
            "limit": _text(definition.limit),
            "spec": encode_json({"data": definition.data, "opts": definition.opts}, "data", self.queue.name),
        }
        args: list[Any] = [definition.id, _text(first)]
        for name, value in fields.items():
            args += (name, value)
        keys = [self.keys.index, self.keys.definition(definition.id)]
        created, pending = self.queue.store.scripts("repeat_add", keys, args)
        self.changed()
        return created == 1, _int(pending.decode())

    def claim(self, definition_id: str, pending: int, following: int | None) -> int:
        keys = [self.keys.definition(definition_id)]
        return cast(int, self.queue.store.scripts("repeat_claim", keys, [pending, _text(following)]))

    def remove(self, definition_id: str) -> tuple[bool, int | None]:
        keys = [self.keys.index, self.keys.definition(definition_id)]
        removed, pending = self.queue.store.scripts("repeat_remove", keys, [definition_id])
        if removed:
            self.changed()
        return removed == 1, _int(pending.decode())

    def exists(self, definition_id: str) -> bool:
        return bool(self.client.exists(self.keys.definition(definition_id)))

    def changed(self) -> None:
        """Tell every scheduler to read the definitions again."""
        pipe = self.client.pipeline(transaction=False)
        pipe.sadd(repeat_queues_set(self.namespace), self.queue.name)
        pipe.incr(repeat_version(self.namespace))
        pipe.execute()


def _text(value: int | None) -> str:
    return "" if value is None else str(value)


@translate_errors
def add_repeatable(queue: Queue, name: str, data: Any, opts: dict[str, Any]) -> Job | None:
    """Store (or update) a repeat definition; return its pending occurrence.

    The pending occurrence is a delayed job, created here for a new definition.
    Returns ``None`` when nothing is pending (the definition has reached its
    ``limit`` or ``end_date``), or when the pending occurrence's record is gone
    (it ran and was removed, and no scheduler has moved the definition on yet).
    """
    options = validate_options(opts, queue.name)
    repeat = options.pop("repeat")
    job_id = options.pop("job_id", None)
    checked, _ = prepare_job(queue, name, data, dict(options))  # name, data and size, as any add
    key = repeat_key(checked.name, job_id, repeat)
    definition = RepeatableJob(
        key=key,
        id=repeat_id(key),
        name=checked.name,
        cron=repeat.get("cron"),
        every=repeat.get("every"),
        tz=repeat.get("tz"),
        start_date=repeat.get("start_date"),
        end_date=repeat.get("end_date"),
        limit=repeat.get("limit"),
        count=0,
        next_run=None,
        job_id=job_id,
        data=checked.data,
        opts=options,
    )
    first = definition.trigger().next_after(queue.store.clock())
    if first is None and definition.end_date is None:
        raise InvalidJobError(
            f"repeat.cron {definition.cron!r} never fires (no date matches it)",
            queue=queue.name,
            field="repeat.cron",
        )
    created, pending = RepeatStore(queue).upsert(definition, first)
    if pending is None:
        return None
    if created:
        return _add_occurrence(queue, definition, pending)
    return queue.get_job(occurrence_id(definition.id, pending))


@translate_errors
def advance(queue: Queue, definition_id: str, *, now: int | None = None) -> list[Job]:
    """Fire one definition: if its pending occurrence is due, add the next one.

    Called by the scheduler when APScheduler fires the definition; safe to call
    from any number of processes at once (one claim wins).  When fires were
    missed, adds one catch-up run due now, then the first occurrence after now.
    Returns the jobs this call added.
    """
    store = RepeatStore(queue)
    definition = store.get(definition_id)
    if definition is None or definition.next_run is None:
        return []
    now = queue.store.clock() if now is None else now
    trigger = definition.trigger()
    pending, caught_up = definition.next_run, False
    added: list[Job] = []
    while pending <= now:
        following = trigger.next_after(pending)
        if caught_up and following is not None and following <= now:
            following = trigger.next_after(now)
        outcome = store.claim(definition.id, pending, following)
        if outcome == Code.REPEAT_FINISHED:
            store.changed()  # so schedulers let go of it
        if outcome != Code.DONE or following is None:  # UNCHANGED: another scheduler moved on
            break
        added.append(_add_occurrence(queue, definition, following))
        pending, caught_up = following, True
    if added and not store.exists(definition.id):  # removed between our claim and add
        for job in added:
            cancel_pending(queue, job.id)
    return added


@translate_errors
def remove_repeatable(queue: Queue, key: str) -> bool:
    """Delete the definition with ``key`` and its pending occurrence; ``False`` if there was none."""
    definition_id = repeat_id(key)
    removed, pending = RepeatStore(queue).remove(definition_id)
    if pending is not None:
        cancel_pending(queue, occurrence_id(definition_id, pending))
    return removed


def cancel_pending(queue: Queue, job_id: str) -> None:
    """Remove an occurrence that has not started; leave it alone once it runs or ran."""
    job = queue.get_job(job_id)
    if job is not None and job.state in (JobState.DELAYED, JobState.WAITING):
        with contextlib.suppress(JobNotFoundError, JobStateError):  # it started or went meanwhile
            queue.remove_job(job_id)


def _add_occurrence(queue: Queue, definition: RepeatableJob, fire_ms: int) -> Job:
    delay = max(fire_ms - queue.store.clock(), 0)
    opts = {**definition.opts, "job_id": occurrence_id(definition.id, fire_ms), "delay": delay}
    return cast(Job, queue.add(definition.name, definition.data, **opts))
