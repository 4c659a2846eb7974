"""The add path's id and message encoding match what they replace, byte for byte."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import dramatiq
import pytest
from dramatiq.encoder import JSONEncoder

from pipeline.encoding import encode_message, new_job_id


def test_job_ids_are_version_4_uuids_in_their_usual_spelling() -> None:
    ids = [new_job_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for job_id in ids[:200]:
        parsed = uuid.UUID(job_id)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122 and str(parsed) == job_id


def test_messages_encode_exactly_as_dramatiqs_json_encoder_does() -> None:
    message = {
        "queue_name": "email",
        "actor_name": "welcome",
        "args": [],
        "kwargs": {"to": "zoë@example.com", "n": [1, 2.5, None, True], "nested": {"k": "✓"}},
        "options": {"attempts": 3},
        "message_id": new_job_id(),
        "message_timestamp": 1_700_000_000_000,
    }
    assert encode_message(message) == JSONEncoder().encode(message).decode()
    with pytest.raises(TypeError):
        encode_message({"kwargs": {"when": object()}})


class _Tagged(JSONEncoder):
    def encode(self, data: Any) -> bytes:
        return b'{"tagged":' + super().encode(data) + b"}"


@pytest.fixture
def tagged_encoder() -> Iterator[None]:
    previous = dramatiq.get_encoder()
    dramatiq.set_encoder(_Tagged())
    yield
    dramatiq.set_encoder(previous)


def test_an_installed_dramatiq_encoder_is_used_as_is(tagged_encoder: None) -> None:
    assert encode_message({"a": 1}) == b'{"tagged":{"a":1}}'  # its bytes, unchanged
