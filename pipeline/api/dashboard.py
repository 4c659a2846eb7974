"""The dashboard: one page over the API (queues, counts, jobs by state, actions)."""

from __future__ import annotations

from functools import cache
from importlib import resources

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(tags=["dashboard"])


@cache
def _page() -> str:
    return (resources.files(__package__) / "dashboard.html").read_text(encoding="utf-8")


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def dashboard() -> str:
    return _page()
