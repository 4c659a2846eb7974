"""Rendering emails from Jinja2 templates: an HTML part and a plain-text part.

Templates live in ``actors/templates`` as ``<name>.html`` and ``<name>.txt``.
The HTML environment escapes every value, so a user's name can never become
markup; the text environment does not (plain text has no markup to escape).
Campaign bodies come from the database, written by staff rather than shipped
with the code, so they render in Jinja2's sandbox.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from actors.email.addresses import validate_header

_TEMPLATE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*\Z")


@dataclass(frozen=True)
class RenderedEmail:
    """A message's content, ready to be put in MIME parts.

    Attributes:
        subject: the Subject header (already checked for line breaks).
        text: the plain-text part.
        html: the HTML part.
    """

    subject: str
    text: str
    html: str


@functools.cache
def _environment(autoescape: bool) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("actors", "templates"),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


@functools.cache
def _sandbox(autoescape: bool) -> SandboxedEnvironment:
    return SandboxedEnvironment(autoescape=autoescape, undefined=jinja2.StrictUndefined)


def render_email(template: str, subject: str, context: Mapping[str, Any] | None = None) -> RenderedEmail:
    """Render ``<template>.html`` and ``<template>.txt`` with ``context``.

    A missing variable raises instead of rendering an empty gap, so a template
    and its callers cannot silently drift apart.
    """
    if not _TEMPLATE_NAME.match(template):
        raise ValueError(f"invalid template name {template!r}")
    values = dict(context or {})
    html = _environment(True).get_template(f"{template}.html").render(values)
    text = _environment(False).get_template(f"{template}.txt").render(values)
    return RenderedEmail(subject=validate_header(subject, "subject"), text=text, html=html)


def render_campaign(
    subject: str, html: str, text: str, context: Mapping[str, Any] | None = None
) -> RenderedEmail:
    """Render a campaign stored in the database (sandboxed; HTML values escaped)."""
    values = dict(context or {})
    rendered_subject = _sandbox(False).from_string(subject).render(values)
    return RenderedEmail(
        subject=validate_header(rendered_subject, "subject"),
        html=_sandbox(True).from_string(html).render(values),
        text=_sandbox(False).from_string(text).render(values),
    )
