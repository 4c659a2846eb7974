"""``GET /alerts``: the configured rules and each one's last evaluation."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter

from pipeline import wiring
from pipeline.alerts import AlertEngine, load_rules

router = APIRouter(tags=["alerts"])


@router.get("/alerts", summary="Alert rules and their state (firing first)")
def alerts() -> dict[str, Any]:
    settings = wiring.get_settings()
    rules = load_rules()
    engine = AlertEngine(rules, settings=settings, client=wiring.get_client())
    states = [asdict(state) for state in engine.states()]
    return {
        "rules": [rule.as_dict() for rule in rules],
        "states": states,
        "firing": [s for s in states if s["status"] == "firing"],
        "interval_s": engine.interval_s,
        "notify": {
            "emails": list(settings.alert_emails),
            "webhook": bool(settings.alert_webhook_url),
        },
    }
