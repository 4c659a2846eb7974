"""``pipeline alerts``: the alert rules and their state; ``pipeline alerts check`` validates them."""

from __future__ import annotations

from dataclasses import asdict

import click

from pipeline import wiring
from pipeline.alerts import AlertEngine, check_settings, load_rules
from pipeline.cli_common import json_option, print_json, stdout, table, when


@click.group(invoke_without_command=True)
@json_option
@click.pass_context
def alerts(ctx: click.Context, as_json: bool) -> None:
    """Show the alert rules (PIPELINE_ALERT_RULES / _FILE) and each one's last evaluation."""
    if ctx.invoked_subcommand is not None:
        return
    rules = load_rules()
    engine = AlertEngine(rules, settings=wiring.get_settings(), client=wiring.get_client())
    states = engine.states()
    if as_json:
        print_json({"rules": [r.as_dict() for r in rules], "states": [asdict(s) for s in states]})
        return
    table(
        "rules",
        ["name", "queue", "kind", "threshold", "window"],
        [
            [r.name, r.queue, r.kind, r.as_dict().get("threshold", ""), r.as_dict().get("window_s", "")]
            for r in rules
        ],
    )
    table(
        "state",
        ["rule", "queue", "status", "value", "since", "evaluated"],
        [[s.rule, s.queue, s.status, f"{s.value:.3g}", when(s.since), when(s.evaluated)] for s in states],
    )


@alerts.command("check")
def check() -> None:
    """Validate the alert rules and notification settings without connecting to Redis."""
    rules = load_rules()
    check_settings(wiring.get_settings())
    stdout().print(f"{len(rules)} alert rule(s) OK.", highlight=False)


COMMANDS = [alerts]
