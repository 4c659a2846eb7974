"""``pipeline devcluster``: a local Redis Cluster or Sentinel set for development."""

from __future__ import annotations

import click


@click.command()
@click.argument("kind", type=click.Choice(["cluster", "sentinel"]))
def devcluster(kind: str) -> None:
    """Start a local Redis Cluster (3 masters, a replica each) or Sentinel set (a master, a replica,
    3 Sentinels) from the installed redis-server, print the settings to export, and keep it until
    Ctrl-C."""
    from pipeline.devcluster import run  # deferred: only this command pays for loading it

    run(kind)


COMMANDS = [devcluster]
