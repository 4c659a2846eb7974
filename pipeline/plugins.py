"""The plugin seam: what installed packages add to the core, found by entry point.

A package (the project's own domain, ``actors/``, is one) declares in its
``pyproject.toml``::

    [project.entry-points."pipeline.actors"]
    mine = "mypackage.worker"          # a module whose import declares actors

    [project.entry-points."pipeline.commands"]
    my-command = "mypackage.cli:my_command"   # a click command; the name is the command's

    [project.entry-points."pipeline.settings"]
    mine = "mypackage.settings:check"  # a callable that reads its settings, raising ConfigurationError

The core names no plugin: ``dramatiq pipeline.actors`` imports every
``pipeline.actors`` module (and those of ``PIPELINE_ACTOR_MODULES``), the
``pipeline`` command offers every ``pipeline.commands`` command, and
``pipeline up`` runs every ``pipeline.settings`` check before it starts anything,
so that a bad value is one line at once rather than a worker that exits.
Entry points are read from the installed metadata: after changing them, install
the project again (``pip install -e .``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from importlib.metadata import EntryPoint, entry_points

import click

from pipeline.errors import ConfigurationError

ACTORS_GROUP = "pipeline.actors"
COMMANDS_GROUP = "pipeline.commands"
SETTINGS_GROUP = "pipeline.settings"


def _entry_points(group: str) -> list[EntryPoint]:
    # Sorted, so the order of loading does not depend on how the metadata was found.
    return sorted(entry_points(group=group), key=lambda ep: ep.name)


def actor_modules() -> list[str]:
    """Modules that declare actors, one per ``pipeline.actors`` entry point."""
    return list(dict.fromkeys(ep.module for ep in _entry_points(ACTORS_GROUP)))


def import_actor_modules(modules: list[str] | tuple[str, ...], *, named_by: str) -> None:
    """Import each module; one that does not exist is a :class:`ConfigurationError` naming ``named_by``."""
    for name in modules:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            # Only the named module missing is a configuration fault; a missing import inside it is a bug.
            if exc.name is None or not (name == exc.name or name.startswith(exc.name + ".")):
                raise
            raise ConfigurationError(f"{named_by}: no module named {name!r}") from None


def command_names() -> list[str]:
    """Names of the commands plugins add to ``pipeline``."""
    return [ep.name for ep in _entry_points(COMMANDS_GROUP)]


def load_command(name: str) -> click.Command | None:
    """The plugin command called ``name``, imported only now (plugins may import heavy clients)."""
    for ep in _entry_points(COMMANDS_GROUP):
        if ep.name == name:
            command = ep.load()
            if not isinstance(command, click.Command):
                raise ConfigurationError(f"entry point {COMMANDS_GROUP}:{name} is not a click command")
            return command
    return None


def check_settings() -> None:
    """Run every plugin's settings check; a bad value raises :class:`ConfigurationError`."""
    for ep in _entry_points(SETTINGS_GROUP):
        check: Callable[[], object] = ep.load()
        check()
