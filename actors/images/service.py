"""The image producer: the seed's ``ImageService``."""

from __future__ import annotations

import io
import uuid
from typing import Any, BinaryIO

from actors import settings
from actors.images.variants import BOXES, QUEUE, original_key
from actors.producer import QueueProducer
from actors.storage import Storage, storage_from_settings
from pipeline.queue import Queue


class ImageService(QueueProducer):
    """Stores originals and queues their variants.  Pass ``queue``/``storage`` to use others."""

    queue_name = QUEUE

    def __init__(self, queue: Queue | None = None, storage: Storage | None = None) -> None:
        super().__init__(queue)
        self._storage = storage

    @property
    def storage(self) -> Storage:
        if self._storage is None:
            self._storage = storage_from_settings(settings.get_settings())
        return self._storage

    def upload_image(
        self, file: bytes | BinaryIO, user_id: int, *, content_type: str = "application/octet-stream"
    ) -> dict[str, Any]:
        """Save the original, then queue its four variants in one ``add_bulk``.

        The variants are ``thumbnail``, ``medium``, ``large`` and ``optimize``.

        The file is not inspected here: the workers decide whether it is an image,
        so a slow or hostile decode never runs in the caller's request.
        Returns ``{"image_id", "job_ids"}``.
        """
        image_id = uuid.uuid4().hex
        fileobj = io.BytesIO(file) if isinstance(file, bytes) else file
        self.storage.put_file(original_key(image_id), fileobj, content_type)
        jobs = [
            {"name": name, "data": {"image_id": image_id, "width": w, "height": h, "user_id": user_id}}
            for name, (w, h) in BOXES.items()
        ]
        jobs.append({"name": "optimize", "data": {"image_id": image_id, "user_id": user_id}})
        added = self.queue.add_bulk(jobs)
        return {"image_id": image_id, "job_ids": [job.id for job in added]}
