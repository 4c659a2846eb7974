"""WorkerRegistry: live worker processes announce themselves for ``Queue.get_workers()``."""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from typing import Any

import dramatiq
from dramatiq.middleware import Middleware

from pipeline.connection import REDIS_ERRORS, UNAVAILABLE_ERRORS, ping
from pipeline.keys import queues_set
from pipeline.ports import JobBroker


class WorkerRegistry(Middleware):
    """Checks Redis at boot (one readable error), then heartbeats into each served queue."""

    def __init__(self) -> None:
        self.logger = logging.getLogger(__name__)
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.started = int(time.time() * 1000)
        self._stop = threading.Event()

    def before_worker_boot(self, broker: dramatiq.Broker, worker: Any) -> None:
        if isinstance(broker, JobBroker):
            ping(broker.client)

    def after_worker_boot(self, broker: dramatiq.Broker, worker: Any) -> None:
        if not isinstance(broker, JobBroker):
            return
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.started = int(time.time() * 1000)
        self._stop.clear()
        threading.Thread(target=self._run, args=(broker, worker), name="worker-registry", daemon=True).start()

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: Any) -> None:
        self._stop.set()
        if isinstance(broker, JobBroker):
            try:
                for queue_name in self._queues(broker, worker):
                    broker.client.hdel(broker.store(queue_name).keys.workers, self.worker_id)
            except REDIS_ERRORS:
                pass

    @staticmethod
    def _queues(broker: JobBroker, worker: Any) -> list[str]:
        wanted = getattr(worker, "consumer_whitelist", None)
        return sorted(q for q in broker.get_declared_queues() if not wanted or q in wanted)

    def _run(self, broker: JobBroker, worker: Any) -> None:
        period_s = broker.settings.worker_heartbeat_ms / 1000
        while True:
            try:
                queues = self._queues(broker, worker)
                entry = json.dumps(
                    {
                        "id": self.worker_id,
                        "host": socket.gethostname(),
                        "pid": os.getpid(),
                        "queues": queues,
                        "threads": getattr(worker, "worker_threads", None),
                        "started": self.started,
                        "last_heartbeat": int(time.time() * 1000),
                    }
                )
                pipe = broker.client.pipeline(transaction=False)
                if queues:  # served queues are known queues (the API lists them)
                    pipe.sadd(queues_set(broker.settings.namespace), *queues)
                for queue_name in queues:
                    pipe.hset(broker.store(queue_name).keys.workers, self.worker_id, entry)
                pipe.execute()
                broker.connection_watch.ok()
            except UNAVAILABLE_ERRORS as exc:
                broker.connection_watch.failed(exc, "worker heartbeat")
            except REDIS_ERRORS:
                self.logger.warning("Worker heartbeat failed; retrying.", exc_info=True)
            if self._stop.wait(period_s):
                return
