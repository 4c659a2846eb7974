"""When a repeatable job fires: cron and interval triggers built on APScheduler's.

:class:`RepeatTrigger` is an APScheduler trigger, so the scheduler process hands
it straight to APScheduler, and ``Queue.add`` uses the same object to compute a
schedule's first occurrence.  Every time is an epoch-millisecond integer.

Cron expressions follow Vixie cron, not APScheduler's own ``from_crontab``:

- five fields (minute hour day month weekday) or six (a seconds field first);
- weekday 0 or 7 is Sunday, 1 Monday (APScheduler 3 counts 0 as Monday);
- when both day and weekday are restricted, either one matching fires (cron's OR);
- ``@yearly``, ``@monthly``, ``@weekly``, ``@daily``, ``@hourly`` and ``L`` (last
  day of the month) are understood.

Daylight saving time in ``tz`` fires once per intended local time.  The cron
fields are matched on the local wall clock, and each wall time maps to one
instant: a repeated wall time (autumn) fires on its first pass only; a wall time
that does not exist (spring) fires once, shifted forward by the gap (02:30
becomes 03:30), and never twice with a real time it lands on.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_WEEKDAY_TERM = re.compile(r"^(\*|[a-z0-9]+(?:-[a-z0-9]+)?)(?:/(\d+))?$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def parse_zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``; ``ValueError`` naming it when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (use an IANA name such as 'Europe/Paris')") from None


def _weekday(token: str) -> int:
    if token in _DAY_NAMES:
        return _DAY_NAMES.index(token)
    if token.isdigit() and 0 <= int(token) <= 7:
        return int(token) % 7
    raise ValueError(f"weekday {token!r} is not 0-7 or sun-sat")


def _weekdays(field: str) -> str:
    """A Vixie weekday field as APScheduler day names (so Sunday is 0 and 7, Monday 1)."""
    days: set[int] = set()
    for term in field.split(","):
        match = _WEEKDAY_TERM.match(term)
        if not match:
            raise ValueError(f"weekday term {term!r} is not understood")
        span, step = match.group(1), int(match.group(2) or 1)
        if step < 1:
            raise ValueError(f"weekday step must be >= 1 in {term!r}")
        if span == "*":
            first, last = 0, 6
        elif "-" in span:
            first, last = (_weekday(part) for part in span.split("-"))
        else:
            first = _weekday(span)
            last = 6 if match.group(2) else first
        if first > last:  # fri-sun, 5-0: wrap through the week's end
            last += 7
        days.update(day % 7 for day in range(first, last + 1, step))
    return ",".join(_DAY_NAMES[day] for day in sorted(days))


def parse_cron(expression: str) -> list[dict[str, str]]:
    """Fields for one or two APScheduler ``CronTrigger`` (two when day and weekday OR together)."""
    if not isinstance(expression, str) or not expression.strip():
        raise ValueError("expected a cron expression such as '0 9 * * 1'")
    text = _MACROS.get(expression.strip().lower(), expression.strip().lower())
    parts = text.split()
    if len(parts) == 5:
        parts.insert(0, "0")
    if len(parts) != 6:
        raise ValueError(f"expected 5 fields (minute hour day month weekday) or 6, got {len(parts)}")
    second, minute, hour, day, month, weekday = (p.replace("?", "*") for p in parts)
    day = "last" if day == "l" else day
    base = {"second": second, "minute": minute, "hour": hour, "month": month}
    day_set, weekday_set = day != "*", weekday != "*"
    weekdays = _weekdays(weekday) if weekday_set else "*"
    if day_set and weekday_set:  # cron fires when either matches
        return [{**base, "day": day}, {**base, "day_of_week": weekdays}]
    return [{**base, "day": day, "day_of_week": weekdays}]


def to_ms(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def from_ms(ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=ms)


class RepeatTrigger(BaseTrigger):  # type: ignore[misc]
    """Fire times of one repeat: ``cron`` (with ``tz``) or ``every`` ms, between ``start_ms`` and ``end_ms``.

    ``every`` without ``start_ms`` is aligned to the Unix epoch (as Bull does), so
    every process computes the same times: ``every=60_000`` fires on the minute.
    Raises ``ValueError`` with a readable reason when the cron or zone is invalid.
    """

    __slots__ = ("_crons", "_interval", "_zone", "end_ms", "every", "start_ms")

    def __init__(
        self,
        *,
        cron: str | None = None,
        every: int | None = None,
        tz: str | None = None,
        start_ms: int | None = None,
        end_ms: int | None = None,
    ) -> None:
        if (cron is None) == (every is None):
            raise ValueError("give exactly one of 'cron' or 'every'")
        self._zone = parse_zone(tz) if tz else ZoneInfo("UTC")
        self.start_ms, self.end_ms, self.every = start_ms, end_ms, every
        self._crons: list[CronTrigger] = []
        self._interval: IntervalTrigger | None = None
        if cron is not None:
            # The wall clock is matched in UTC (no DST); _instant maps it to the zone.
            self._crons = [CronTrigger(timezone=UTC, **fields) for fields in parse_cron(cron)]
        else:
            assert every is not None
            start = from_ms(start_ms if start_ms is not None else 0)
            self._interval = IntervalTrigger(seconds=every / 1000, start_date=start, timezone=UTC)

    def __str__(self) -> str:
        what = f"every {self.every} ms" if self.every else " | ".join(str(c) for c in self._crons)
        return f"repeat[{what}, tz={self._zone.key}]"

    def next_after(self, after_ms: int) -> int | None:
        """The first fire time strictly after ``after_ms``, or ``None`` when there is none."""
        if self.start_ms is not None:
            after_ms = max(after_ms, self.start_ms - 1)
        fire = self._interval_after(after_ms) if self._interval else self._cron_after(after_ms)
        if fire is None or (self.end_ms is not None and fire > self.end_ms):
            return None
        return fire

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        # APScheduler asks after each run: answer the first time at or after now, so a
        # late scheduler runs once (the policy: missed fires coalesce) instead of catching up.
        after = to_ms(now) - 1
        if previous_fire_time is not None:
            after = max(after, to_ms(previous_fire_time))
        fire = self.next_after(after)
        return None if fire is None else from_ms(fire)

    def _interval_after(self, after_ms: int) -> int | None:
        assert self._interval is not None and self.every is not None
        fire_time: datetime | None = self._interval.get_next_fire_time(None, from_ms(after_ms + 1))
        if fire_time is None:
            return None
        fire = round(fire_time.timestamp() * 1000)  # float seconds inside APScheduler
        while fire <= after_ms:
            fire += self.every
        return fire

    def _cron_after(self, after_ms: int) -> int | None:
        wall = from_ms(after_ms).astimezone(self._zone).replace(tzinfo=UTC)
        while True:
            fires = [f for c in self._crons if (f := c.get_next_fire_time(None, wall)) is not None]
            if not fires:
                return None
            candidate = min(fires)
            instant = _instant(candidate, self._zone)
            if instant > after_ms:
                return instant
            wall = candidate + timedelta(microseconds=1)


def _instant(wall: datetime, zone: ZoneInfo) -> int:
    """The instant of local wall time ``wall`` in ``zone``: its first pass when repeated,
    shifted forward by the gap when skipped (``fold=0`` does both, PEP 495)."""
    return to_ms(wall.replace(tzinfo=zone, fold=0))
