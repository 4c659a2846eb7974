"""``pipeline up --demo``: jobs in every state, left in place for the dashboard and the CLI.

Unlike ``pipeline demo`` nothing is cleaned up: the jobs stay in the (persistent)
store, so a later ``pipeline up`` still shows them.  A second ``--demo`` run adds
nothing when the demo queues already exist.
"""

from __future__ import annotations

from pipeline import demo
from pipeline.queue import Queue
from pipeline.settings import Settings

#: A queue kept paused, so its jobs stay waiting.
PAUSED_QUEUE = "demo-paused"


def seed(settings: Settings) -> str:
    """Add the demo jobs (once per store); returns a line saying what was done."""
    q = Queue(demo.QUEUE, settings=settings)
    paused = Queue(PAUSED_QUEUE, settings=settings)
    if any(q.get_job_counts().values()) or any(paused.get_job_counts().values()):
        return f"Demo jobs of an earlier run are still in queues {demo.QUEUE!r} and {PAUSED_QUEUE!r}."
    paused.pause()
    paused.add_bulk([{"name": "resize", "data": {"image": f"held-{i}.jpg", "width": 320}} for i in range(3)])
    q.add_bulk(
        [{"name": "resize", "data": {"image": f"photo-{i}.jpg", "width": 150 * (i + 1)}} for i in range(3)]
    )
    q.add("flaky-send", {"to": "a@example.com"})
    q.add("broken", {"reason": "template 'welcome' not found"})
    q.add("export", {"rows": 5000, "seconds": 120.0})
    q.add("resize", {"image": "tomorrow.jpg", "width": 500}, delay=24 * 3600 * 1000)
    q.add("resize", {"image": "nightly.jpg", "width": 800}, repeat={"cron": "0 3 * * *"})
    return (
        f"Demo jobs added: queue {demo.QUEUE!r} (completed, failed, one running for two minutes, "
        f"delayed, a nightly repeat) and paused queue {PAUSED_QUEUE!r} (waiting)."
    )
