"""The alerts queue's handler: POST an alert as JSON to the configured webhook, signed.

The alert evaluator (``pipeline.alerts``) enqueues one ``webhook`` job per
firing or resolve; the job's attempts and exponential backoff retry a receiver
that is down or answers 5xx, 408 or 429.  Any other 4xx fails the job at once:
sending the same request again would get the same answer.  The signing secret
comes from this worker's environment, never from the job data in Redis.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from pipeline import UnrecoverableError, actor, current_job, wiring
from pipeline.alerts.signing import HEADER, sign

QUEUE = "alerts"
TIMEOUT_S = 10
_RETRYABLE = {408, 429}


class WebhookError(Exception):
    """The receiver did not accept the alert this time (retried with backoff)."""


@actor(queue_name=QUEUE, job_name="webhook", attempts=8, backoff={"type": "exponential", "delay": 1000})
def deliver_webhook(url: str, payload: dict[str, Any]) -> dict[str, Any]:
    """POST ``payload`` to ``url`` with an HMAC-SHA256 signature header."""
    secret = wiring.get_settings().alert_webhook_secret
    if not secret:
        raise UnrecoverableError(
            "PIPELINE_ALERT_WEBHOOK_SECRET is not set on this worker: cannot sign the webhook"
        )
    if not url.startswith(("http://", "https://")):
        raise UnrecoverableError(f"webhook URL must be http:// or https://, got {url!r}")
    body = json.dumps(payload, sort_keys=True).encode()
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "dramatiq-pipeline-alerts",
            HEADER: sign(secret, body),
            "X-Pipeline-Alert-Status": str(payload.get("status", "")),
        },
    )
    job = current_job()
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as reply:
            status = reply.status
    except urllib.error.HTTPError as exc:
        if exc.code >= 500 or exc.code in _RETRYABLE:
            raise WebhookError(f"webhook answered {exc.code}; will retry") from None
        raise UnrecoverableError(f"webhook refused the alert with {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise WebhookError(f"webhook not reached: {reason}; will retry") from None
    job.log(f"alert {payload.get('alert')!r} ({payload.get('status')}) delivered, HTTP {status}")
    return {"status": status}
