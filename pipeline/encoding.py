"""How a job is written for Redis: its id and its encoded Dramatiq message.

Both sit on the path of every ``add()``, so they avoid the general-purpose
machinery they match: an id in ``uuid.uuid4()``'s format without building a
``UUID`` object, and Dramatiq's default JSON encoding from one reused encoder
instead of ``json.dumps`` building a new one per call (the output is the
same, byte for byte).  Any other Dramatiq encoder a user installs is used as is,
its bytes stored unchanged (they need not be UTF-8 or JSON: ``PickleEncoder``).
"""

from __future__ import annotations

import json
import os
from typing import Any

import dramatiq
from dramatiq.encoder import JSONEncoder

from pipeline.errors import UnreadableJobError

_JSON = json.JSONEncoder(separators=(",", ":"))


def new_job_id() -> str:
    """A random (version 4) UUID string, as ``str(uuid.uuid4())`` gives."""
    raw = bytearray(os.urandom(16))
    raw[6] = raw[6] & 0x0F | 0x40
    raw[8] = raw[8] & 0x3F | 0x80
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def encode_message(message: dict[str, Any]) -> str | bytes:
    """The message as the installed Dramatiq encoder writes it (TypeError/ValueError if it cannot)."""
    encoder = dramatiq.get_encoder()
    if type(encoder) is JSONEncoder:
        return _JSON.encode(message)
    return encoder.encode(message)


def encode_stored(
    actor_name: str,
    args: Any,
    kwargs: dict[str, Any],
    options: dict[str, Any],
    message_id: str,
    timestamp: int,
    queue_name: str,
) -> str | bytes:
    """The message as a job record keeps it.

    With Dramatiq's JSON encoder the record leaves out what it says already: the queue
    (every key of the record names it) and the message id (the job id, also in the key),
    and ``args``/``options`` when empty, about 100 bytes of every waiting job.  Readers
    put them back (:func:`decode_message`), so records of either form read the same.
    Any other encoder gets the whole message, so its bytes stay what it writes.
    """
    if type(dramatiq.get_encoder()) is JSONEncoder:
        compact: dict[str, Any] = {"actor_name": actor_name}
        if args:
            compact["args"] = list(args)
        compact["kwargs"] = kwargs
        if options:
            compact["options"] = options
        compact["message_timestamp"] = timestamp
        return _JSON.encode(compact)
    return encode_message(
        {
            "queue_name": queue_name,
            "actor_name": actor_name,
            "args": list(args),
            "kwargs": kwargs,
            "options": options,
            "message_id": message_id,
            "message_timestamp": timestamp,
        }
    )


#: Fields every stored message carries, with the type each must have.
_FIELDS: dict[str, type | tuple[type, ...]] = {
    "queue_name": str,
    "actor_name": str,
    "args": (list, tuple),
    "kwargs": dict,
    "options": dict,
    "message_id": str,
    "message_timestamp": (int, float),
}


def decode_message(raw: str | bytes, queue_name: str = "", job_id: str = "") -> dict[str, Any]:
    """A stored message as a dict, whichever encoder wrote it (JSON is read as JSON).

    ``queue_name`` and ``job_id`` are the record's: a compact record (see
    :func:`encode_stored`) takes its ``queue_name`` and ``message_id`` from them, and
    empty ``args`` and ``options`` when it has none.

    Raises :class:`UnreadableJobError` whose ``reason`` names what is wrong: bytes that
    are not UTF-8, text that is not JSON, nesting too deep to decode, or a field that is
    missing or of the wrong type (``actor_name``, ``args``, ...).
    """
    if isinstance(raw, str):
        raw = raw.encode(errors="surrogateescape")  # how job records carry non-UTF-8 messages
    encoder = dramatiq.get_encoder()
    fields: Any = None
    if raw[:1] == b"{" or isinstance(encoder, JSONEncoder):
        try:
            fields = _read_json(raw)
        except UnreadableJobError:
            if isinstance(encoder, JSONEncoder):
                raise
    if fields is None:
        try:
            fields = encoder.decode(raw)
        except Exception as exc:
            raise UnreadableJobError(f"{type(encoder).__name__} cannot decode it: {exc}") from None
    if not isinstance(fields, dict):
        raise UnreadableJobError(f"the message is a {type(fields).__name__}, not an object")
    if queue_name and "queue_name" not in fields:
        fields["queue_name"] = queue_name
    if job_id and "message_id" not in fields:
        fields["message_id"] = job_id
    if "args" not in fields:
        fields["args"] = []
    if "options" not in fields:
        fields["options"] = {}
    for name, kind in _FIELDS.items():
        if name not in fields:
            raise UnreadableJobError(f"the message has no {name!r}")
        value = fields[name]
        if not isinstance(value, kind) or isinstance(value, bool):
            raise UnreadableJobError(f"the message's {name!r} is {type(value).__name__}, not {_kind(kind)}")
    if not fields["actor_name"]:
        raise UnreadableJobError("the message's 'actor_name' (the job name) is empty")
    extra = set(fields) - set(_FIELDS)
    if extra:
        raise UnreadableJobError(f"the message has unknown fields {sorted(extra)}")
    return fields


def _read_json(raw: bytes) -> Any:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableJobError(
            f"the message is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})"
        ) from None
    try:
        return json.loads(text)
    except RecursionError:
        raise UnreadableJobError("the message nests too deeply to decode") from None
    except ValueError as exc:
        raise UnreadableJobError(f"the message is not valid JSON: {exc}") from None


def _kind(kind: type | tuple[type, ...]) -> str:
    names = {"str": "a string", "list": "a list", "dict": "an object", "int": "an integer"}
    first = kind[0] if isinstance(kind, tuple) else kind
    return names.get(first.__name__, first.__name__)
