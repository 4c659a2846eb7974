"""The file-processing producer, and the seed's progress monitor."""

from __future__ import annotations

from typing import Any

from actors.files.convert import check_conversion
from actors.producer import QueueProducer
from pipeline.errors import JobNotFoundError

QUEUE = "file-processing"


class FileProcessingService(QueueProducer):
    """Queues conversions and reports on them.  Pass ``queue`` to use another queue object."""

    queue_name = QUEUE

    def convert(self, file_id: str, target: str = "jsonl", **data: Any) -> dict[str, str]:
        """Queue the conversion of ``files/<file_id>``; returns ``{"job_id": ...}``."""
        check_conversion(f"files/{file_id}", target)
        job = self.queue.add("convert", {"file_id": file_id, "target": target, **data})
        return {"job_id": job.id}

    def monitor_job(self, job_id: str) -> dict[str, Any]:
        """The seed's ``monitorJob``: id, name, progress, state and data.

        Raises :class:`JobNotFoundError` when the job does not exist (any more).
        """
        job = self.queue.get_job(job_id)
        if job is None:
            raise JobNotFoundError(job_id, self.queue.name)
        return {
            "id": job.id,
            "name": job.name,
            "progress": job.progress,
            "state": str(job.state),
            "data": job.data,
        }
