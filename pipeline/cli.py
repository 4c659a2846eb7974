"""The ``pipeline`` command.

Run the system (``up``, ``demo``, ``api``, ``scheduler``) and operate it
(``queues``, ``jobs``, ``retry``, ``clean``, ``pause``, ...).  Every command
reads the Redis address from ``REDIS_URL`` (or ``REDIS_HOST``/``REDIS_PORT``)
and the namespace from ``PIPELINE_NAMESPACE``; ``--redis-url`` and
``--namespace`` override them.  Errors print one line and exit non-zero.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click
import redis

from pipeline import cli_alerts, cli_dev, cli_ops, cli_run, plugins, wiring
from pipeline.connection import UNAVAILABLE_ERRORS, address_of, reason_of, setting_of
from pipeline.errors import PipelineError, RedisUnavailableError
from pipeline.settings import Settings


class CommandError(click.ClickException):
    """A project error, shown as one line (``Error: ...``) with exit code 1."""


class PipelineGroup(click.Group):
    """Turns the project's errors and Redis connection failures into one line, no traceback.

    Besides its own commands it offers those plugins add (``pipeline.commands``
    entry points), each imported only when it is run or listed.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *plugins.command_names()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return super().get_command(ctx, cmd_name) or plugins.load_command(cmd_name)

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except PipelineError as exc:
            raise CommandError(str(exc)) from None
        except UNAVAILABLE_ERRORS as exc:
            client = wiring.get_client()
            raise CommandError(
                str(RedisUnavailableError(address_of(client), reason_of(exc), setting_of(client)))
            ) from None
        except redis.exceptions.InvalidResponse:
            client = wiring.get_client()
            source = setting_of(client)
            raise CommandError(
                f"the server at {address_of(client)}"
                + (f" (from {source})" if source else "")
                + " does not answer in the Redis protocol: is it a Redis server?"
            ) from None
        except redis.RedisError as exc:
            raise CommandError(f"Redis refused the command: {exc}") from None


@click.group(
    cls=PipelineGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(package_name="dramatiq-pipeline", prog_name="pipeline", message="%(prog)s %(version)s")
@click.option(
    "--redis-url",
    metavar="URL",
    default=None,
    help="Redis to use (redis://, rediss:// or unix://) [default: $REDIS_URL, or the parts].",
)
@click.option(
    "--namespace",
    metavar="NAME",
    default=None,
    help="Prefix of every Redis key [default: $PIPELINE_NAMESPACE, or 'pl'].",
)
def cli(redis_url: str | None, namespace: str | None) -> None:
    """Bull-style tracked jobs on Dramatiq: run the system and operate its queues."""
    if redis_url or namespace:
        settings = Settings.from_env()
        if redis_url:
            settings = settings.replace(redis_url=redis_url, redis_explicit=True)
        if namespace:
            settings = settings.replace(namespace=namespace)
        wiring.configure(settings)


def _register() -> None:
    for module in (cli_run, cli_ops, cli_alerts, cli_dev):
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="pipeline")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
