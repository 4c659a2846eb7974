"""Alerts: rules on queue figures, evaluated by the scheduler processes (one leader), notified
by email (through the email queue) and by a signed webhook, with ``resolved`` notices.

See :mod:`pipeline.alerts.rules` for the rule format and
:mod:`pipeline.alerts.engine` for how evaluation and notification work.
"""

from __future__ import annotations

import logging
import threading

from pipeline.alerts.engine import AlertEngine, AlertState, check_settings
from pipeline.alerts.rules import KINDS, Rule, load_rules, parse_rules
from pipeline.settings import Settings

__all__ = [
    "KINDS",
    "AlertEngine",
    "AlertState",
    "Rule",
    "check_settings",
    "load_rules",
    "parse_rules",
    "start_alerts",
]

logger = logging.getLogger(__name__)


def start_alerts(settings: Settings, stop: threading.Event) -> threading.Thread | None:
    """Run the alert evaluator in a thread until ``stop``, if any rule is configured."""
    rules = load_rules()
    if not rules:
        return None
    engine = AlertEngine(rules, settings=settings)
    thread = threading.Thread(target=engine.run, args=(stop,), name="alerts", daemon=True)
    thread.start()
    logger.info(
        "Alerts: %d rule(s), evaluated every %.1f s by one scheduler process",
        len(rules),
        engine.interval_s,
    )
    return thread
