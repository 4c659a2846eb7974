"""``pipeline.actor``: a drop-in for ``dramatiq.actor`` that speaks Bull's job options."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast, overload

import dramatiq

from pipeline.composition import get_broker
from pipeline.options import ACTOR_JOB_OPTIONS, validate_name, validate_options, validate_queue_name

F = TypeVar("F", bound=Callable[..., Any])


@overload
def actor(fn: F) -> dramatiq.Actor[Any, Any]: ...


@overload
def actor(fn: None = None, **kwargs: Any) -> Callable[[Callable[..., Any]], dramatiq.Actor[Any, Any]]: ...


def actor(fn: Callable[..., Any] | None = None, **kwargs: Any) -> Any:
    """Declare a job handler.

    Takes every ``dramatiq.actor`` argument, plus:

    - ``job_name``: the job name it handles on its queue (default: the actor name);
    - ``catch_all=True``: also handle jobs whose name has no handler (Bull's ``@Process()``);
    - default job options: ``attempts`` (default 1, as in Bull), ``backoff``,
      ``timeout`` (ms), ``remove_on_complete``, ``remove_on_fail``, ``stacktrace_limit``.

    Options given to ``Queue.add`` or ``send_with_options`` win over these.
    """

    def decorator(func: Callable[..., Any]) -> dramatiq.Actor[Any, Any]:
        options = dict(kwargs)
        queue_name = validate_queue_name(options.pop("queue_name", "default"))
        actor_name = options.pop("actor_name", None) or func.__name__
        job_name = validate_name(options.pop("job_name", None) or actor_name, queue_name)
        job_options = {k: options.pop(k) for k in list(options) if k in ACTOR_JOB_OPTIONS}
        job_options = validate_options(job_options, queue_name, allowed=ACTOR_JOB_OPTIONS)
        if "timeout" in job_options:
            job_options["time_limit"] = job_options.pop("timeout")
        if "max_retries" not in options and "retry_when" not in options:
            job_options.setdefault("attempts", 1)
        broker = options.pop("broker", None) or get_broker()
        declare = cast(Any, dramatiq.actor)
        return cast(
            "dramatiq.Actor[Any, Any]",
            declare(
                func,
                actor_name=actor_name,
                queue_name=queue_name,
                broker=broker,
                job_name=job_name,
                **job_options,
                **options,
            ),
        )

    if fn is not None:
        return decorator(fn)
    return decorator
