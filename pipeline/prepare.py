"""The one job-preparation step: every way a job comes in is checked and encoded here.

``Queue.add`` and ``add_bulk`` bring a job name, data and Bull's options
(:func:`prepare_job`, :func:`prepare_bulk`); ``actor.send`` brings a Dramatiq message
(:func:`prepare_message`, called by ``PipelineBroker.enqueue``).  Each returns the
:class:`~pipeline.store.Entry` that ``add.lua`` takes, or raises
:class:`~pipeline.errors.InvalidJobError` naming what is wrong before anything is written.

The message path keeps Dramatiq's rules: ``delay`` may be a float (its fraction of a
millisecond is dropped), and a non-JSON encoder's bytes are stored as they are, unchecked.
It runs on every enqueue, so it does only what the stored record needs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

import dramatiq
from dramatiq.encoder import JSONEncoder
from dramatiq.message import Message

from pipeline.encoding import encode_stored, new_job_id
from pipeline.errors import InvalidJobError
from pipeline.job import Job
from pipeline.options import (
    MAX_DURATION_MS,
    MAX_PRIORITY,
    check_data,
    check_json,
    validate_name,
    validate_options,
)
from pipeline.states import JobState
from pipeline.store import Entry

if TYPE_CHECKING:
    from pipeline.queue import Queue


def prepare_job(queue: Queue, name: Any, data: Any, opts: dict[str, Any]) -> tuple[Job, Entry]:
    """A job of ``queue`` from a name, data and options: the job as ``add`` returns it, and
    its entry for ``add.lua``."""
    name = validate_name(name, queue.name)
    data = check_data(dict(data) if isinstance(data, Mapping) else data, queue.name)
    options = validate_options(opts, queue.name) if opts else {}
    if "repeat" in options:  # add() takes repeats; each occurrence is a plain add
        raise InvalidJobError("option 'repeat' is taken by add() only", queue=queue.name, field="repeat")
    job_id = options.pop("job_id", None) or new_job_id()
    if "timeout" in options:
        options["time_limit"] = options.pop("timeout")
    timestamp = queue.store.clock()
    try:
        encoded = encode_stored(name, (), data, options, job_id, timestamp, queue.name)
    except (TypeError, ValueError) as exc:
        raise InvalidJobError(
            f"job data is not JSON-serialisable: {exc}", queue=queue.name, field="data"
        ) from None
    limit = queue.settings.max_data_bytes
    if len(encoded) > limit:
        raise InvalidJobError(
            f"job {name!r} is {len(encoded)} bytes encoded, over the limit of "
            f"{limit} (PIPELINE_MAX_DATA_BYTES); store large payloads "
            "elsewhere and pass a key",
            queue=queue.name,
            field="data",
        )
    delay = int(options.get("delay", 0))
    priority = int(options.get("priority", 0))
    job = Job(
        id=job_id,
        name=name,
        queue_name=queue.name,
        data=data,
        opts={("timeout" if k == "time_limit" else k): v for k, v in options.items()},
        state=JobState.DELAYED if delay > 0 else JobState.WAITING,
        timestamp=timestamp,
        delay=delay,
        priority=priority,
        _queue=queue,
    )
    dedup = options.get("deduplication")
    entry = Entry(job_id, encoded, delay, priority, bool(options.get("lifo", False)), name)
    if dedup is not None:
        entry = entry._replace(dedup_id=dedup["id"], dedup_ttl=dedup.get("ttl", 0), dedup_mode=dedup["mode"])
    return job, entry


def prepare_bulk(queue: Queue, jobs: Iterable[Mapping[str, Any]]) -> list[tuple[Job, Entry]]:
    """Every ``{"name", "data", "opts"}`` of an ``add_bulk``, each as :func:`prepare_job`;
    the first bad one is refused naming its index."""
    prepared: list[tuple[Job, Entry]] = []
    for index, spec in enumerate(jobs):
        if not isinstance(spec, Mapping):
            raise InvalidJobError(f"add_bulk item {index} must be a mapping", queue=queue.name)
        unknown = set(spec) - {"name", "data", "opts"}
        if unknown:
            raise InvalidJobError(
                f"add_bulk item {index} has unknown keys {sorted(unknown)}", queue=queue.name
            )
        opts = spec.get("opts") or {}
        if not isinstance(opts, Mapping):
            raise InvalidJobError(f"add_bulk item {index}: 'opts' must be a mapping", queue=queue.name)
        try:
            prepared.append(prepare_job(queue, spec.get("name"), spec.get("data"), dict(opts)))
        except InvalidJobError as exc:
            raise InvalidJobError(
                f"add_bulk item {index}: {exc}", queue=queue.name, field=exc.field
            ) from None
    return prepared


class PreparedMessage(NamedTuple):
    """A checked Dramatiq message: its entry is encoded by :meth:`entry` once the broker's
    ``before_enqueue`` hooks have run (they may still add options)."""

    message: Message[Any]
    #: As the record keeps it: the job name as its actor name, the delay in its options.
    stored: Message[Any]
    job_name: str
    delay: int
    priority: int

    def entry(self) -> Entry:
        """The entry for ``add.lua``: the message as the installed encoder writes it (JSON
        compacted as :func:`~pipeline.encoding.encode_stored` does, any other encoder's bytes
        unchanged)."""
        stored = self.stored
        if type(dramatiq.get_encoder()) is JSONEncoder:
            encoded: str | bytes = encode_stored(
                self.job_name,
                stored.args,
                stored.kwargs,
                stored.options,
                stored.message_id,
                stored.message_timestamp,
                stored.queue_name,
            )
        else:
            encoded = stored.encode()  # exactly the encoder's bytes
        lifo = bool(self.message.options.get("lifo"))
        return Entry(self.message.message_id, encoded, self.delay, self.priority, lifo, self.job_name)


def prepare_message(message: Message[Any], job_name: str, delay: float | None = None) -> PreparedMessage:
    """Check a message ``actor.send`` enqueues as a job named ``job_name``.

    ``delay`` is in milliseconds (default: the message's ``delay`` option), an int or a
    float as Dramatiq takes it.
    """
    options = message.options
    if delay is None:
        delay = options.get("delay") or 0
    if (
        isinstance(delay, bool)
        or not isinstance(delay, int | float)
        or not math.isfinite(delay)
        or not 0 <= delay <= MAX_DURATION_MS
    ):
        raise InvalidJobError(
            f"delay must be a number from 0 to {MAX_DURATION_MS} (ms), got {delay!r}",
            queue=message.queue_name,
            field="delay",
        )
    whole_delay = int(delay)
    priority = options.get("priority") or 0
    if isinstance(priority, bool) or not isinstance(priority, int) or not 0 <= priority <= MAX_PRIORITY:
        raise InvalidJobError(
            f"priority must be an int from 0 to {MAX_PRIORITY}, got {priority!r}",
            queue=message.queue_name,
        )
    if isinstance(dramatiq.get_encoder(), JSONEncoder):
        # Only JSON has these limits; another encoder's bytes are stored as they are.
        check_json(list(message.args), "args", message.queue_name)
        check_json(dict(message.kwargs), "kwargs", message.queue_name)
    stored = message if job_name == message.actor_name else message.copy(actor_name=job_name)
    if whole_delay:
        stored = stored.copy(options={"delay": whole_delay})
    return PreparedMessage(message, stored, job_name, whole_delay, priority)
