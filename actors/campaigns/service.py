"""The campaigns producer: the seed's ``CampaignService``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from actors import settings
from actors.campaigns.db import Database
from actors.campaigns.delivery import CampaignStats, campaign_stats, target_recipients
from actors.producer import QueueProducer
from pipeline.queue import Queue

QUEUE = "campaigns"

#: The seed's options for each recipient's job.
SEND_EMAIL_OPTIONS: dict[str, Any] = {
    "attempts": 3,
    "backoff": {"type": "exponential", "delay": 60_000},
    "remove_on_complete": True,
}


class CampaignService(QueueProducer):
    """Fans a campaign out to its recipients and reports its progress.

    ``job_options`` replaces :data:`SEND_EMAIL_OPTIONS` (e.g. a shorter backoff
    for a mail relay that recovers quickly).
    """

    queue_name = QUEUE

    def __init__(
        self,
        queue: Queue | None = None,
        database: Database | None = None,
        job_options: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(queue)
        self._database = database
        self.job_options = dict(SEND_EMAIL_OPTIONS if job_options is None else job_options)

    @property
    def database(self) -> Database:
        if self._database is None:
            self._database = Database.from_settings(settings.get_settings())
        return self._database

    def send_campaign(self, campaign_id: int, recipient_ids: Sequence[int]) -> dict[str, int]:
        """Record a pending delivery per recipient, then queue one ``send-email`` job each with ``add_bulk``.

        A recipient listed twice gets one job.  Job ids are derived from the
        pair, so calling this again while jobs are still queued adds no copies;
        once they are done, the deliveries' statuses keep a new job from
        sending again.  Returns ``{"total_recipients": n}``.
        """
        unique_ids = target_recipients(self.database, campaign_id, recipient_ids)
        jobs = [
            {
                "name": "send-email",
                "data": {"campaign_id": campaign_id, "recipient_id": recipient_id},
                "opts": {**self.job_options, "job_id": f"campaign-{campaign_id}-recipient-{recipient_id}"},
            }
            for recipient_id in unique_ids
        ]
        self.queue.add_bulk(jobs)
        return {"total_recipients": len(unique_ids)}

    def get_stats(self, campaign_id: int) -> CampaignStats:
        """Total, sent, failed, pending and progress of a campaign."""
        return campaign_stats(self.database, campaign_id)
