"""The file-processing queue's handlers: ``convert`` (chunked, with progress) and ``resize-image``."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from actors import deps
from actors.files.convert import check_conversion, csv_chunks, rows_to_jsonl, run_in_chunks
from actors.images.processing import fit_within
from pipeline import actor, current_job
from pipeline.errors import JobStateError
from pipeline.job import Job, JobState

QUEUE = "file-processing"
AVATAR_BOX = (256, 256)


def _still_wanted(job: Job) -> bool:
    """The seed's check: stop once the job was cancelled, removed or finished elsewhere."""
    return not job.is_cancelled() and job.get_state() is JobState.ACTIVE


def _reporter(job: Job) -> Callable[[int], None]:
    def report(value: int) -> None:
        # The job may have left this worker (removed, or taken back as stalled); the next check stops us.
        with contextlib.suppress(JobStateError):
            job.update_progress(value)

    return report


@actor(queue_name=QUEUE, job_name="convert", attempts=2, backoff=5000, timeout=600_000)
def convert_file(
    file_id: str, target: str = "jsonl", rows_per_chunk: int = 500, throttle_ms: int = 0
) -> dict[str, Any]:
    """Convert ``files/<file_id>`` to ``files/<file_id>.<target>`` chunk by chunk.

    ``throttle_ms`` pauses between chunks, so a big conversion leaves the
    shared store some room.  Nothing is written when the job stops early.
    """
    job = current_job()
    source_key = f"files/{file_id}"
    check_conversion(source_key, target)
    store = deps.storage()
    chunks = csv_chunks(source_key, store.get(source_key), rows_per_chunk)
    run = run_in_chunks(
        chunks,
        rows_to_jsonl,
        report=_reporter(job),
        still_wanted=lambda: _still_wanted(job),
        pause_s=throttle_ms / 1000,
    )
    if run.stopped_early:
        job.log(f"stopped after {run.chunks_done} of {run.total_chunks} chunks: the job is no longer wanted")
        return {"file_id": file_id, "status": "stopped", "chunks_done": run.chunks_done}
    output_key = f"{source_key}.{target}"
    store.put(output_key, b"".join(run.outputs), "application/x-ndjson")
    return {"file_id": file_id, "status": "completed", "key": output_key, "chunks": run.total_chunks}


@actor(queue_name=QUEUE, job_name="resize-image", attempts=3, backoff={"type": "exponential", "delay": 2000})
def resize_profile_picture(user_id: int, image_key: str) -> dict[str, Any]:
    """A new user's profile picture, fitted to 256x256, stored as ``avatars/<user_id>.jpg``."""
    store = deps.storage()
    avatar = fit_within(store.get(image_key), *AVATAR_BOX)
    key = f"avatars/{int(user_id)}.{avatar.extension}"
    store.put(key, avatar.data, avatar.content_type)
    return {"key": key, "width": avatar.width, "height": avatar.height}
