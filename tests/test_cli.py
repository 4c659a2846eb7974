"""The operations CLI, every command against a real Redis."""

from __future__ import annotations

import json
import threading
import time

import click
import pytest
from click.testing import CliRunner, Result

from pipeline import Queue, actor
from pipeline.cli import cli, main
from pipeline.job import JobState
from tests.support import unique, wait_for


@pytest.fixture
def run(configured):
    """``run("queues", "--json")``: the CLI on the test's Redis and namespace, in this process."""
    settings = configured
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> Result:
        base = ["--redis-url", settings.redis_url, "--namespace", settings.namespace]
        return runner.invoke(cli, [*base, *args], input=input)

    return invoke


def _failed_jobs(queue: Queue, n: int) -> list[str]:
    """``n`` failed jobs, made the way an operator makes them: cancelled before they ran."""
    jobs = queue.add_bulk([{"name": "doomed", "data": {"i": i}} for i in range(n)])
    pipe_ids = [job.id for job in jobs]
    for job_id in pipe_ids:
        queue.cancel_job(job_id, "called off")
    return pipe_ids


def test_version_prints_the_package_version():
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and result.output.startswith("pipeline 0.")


def test_every_option_of_every_command_has_help_text():
    def walk(command: click.Command, path: str) -> list[str]:
        missing = [
            f"{path} {param.opts[0]}"
            for param in command.params
            if isinstance(param, click.Option) and not param.help
        ]
        if not command.help:
            missing.append(f"{path} (no description)")
        if isinstance(command, click.Group):
            ctx = click.Context(command)
            for name in command.list_commands(ctx):  # plugins' commands too
                missing += walk(command.get_command(ctx, name), f"{path} {name}")
        return missing

    assert walk(cli, "pipeline") == []
    assert main(["clean", "--help"]) == 0


def test_queues_lists_every_queue_with_counts_as_a_table_or_json(run, make_queue):
    q = make_queue()
    q.add("a", {})
    q.add("b", {}, delay=60_000)
    table = run("queues")
    assert table.exit_code == 0 and q.name in table.output
    rows = json.loads(run("queues", "--json").output)
    assert rows == [
        {
            "name": q.name,
            "paused": False,
            "counts": {**dict.fromkeys(("waiting", "delayed"), 1), "active": 0, "completed": 0, "failed": 0},
        }
    ]


@pytest.mark.parametrize(
    "args",
    [
        ["stats", "{q}"],
        ["jobs", "list", "{q}"],
        ["jobs", "show", "{q}", "some-id"],
        ["pause", "{q}"],
        ["clean", "{q}", "--yes"],
        ["remove-queue", "{q}", "--yes"],
        ["events", "{q}"],
        ["workers", "{q}"],
        ["repeats", "list", "{q}"],
    ],
)
def test_an_unknown_queue_is_one_clear_line_and_a_non_zero_exit(run, args):
    name = unique("nosuch")
    result = run(*[a.format(q=name) for a in args])
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: queue {name!r} not found"


def test_an_unknown_job_is_one_clear_line_and_a_non_zero_exit(run, make_queue):
    q = make_queue()
    q.add("x", {})
    for args in (["jobs", "show", q.name, "nope"], ["retry", q.name, "nope"], ["promote", q.name, "nope"]):
        result = run(*args)
        assert result.exit_code == 1
        assert result.output.strip() == f"Error: job 'nope' not found in queue {q.name!r}"


def test_jobs_show_prints_data_logs_and_stack_traces(broker, worker, run, queue_name, settings):
    @actor(queue_name=queue_name, job_name="bad", broker=broker)
    def bad(order: int) -> None:
        from pipeline import current_job

        current_job().log(f"looking at order {order}")
        raise ValueError(f"order {order} is broken")

    q = Queue(queue_name, settings=settings)
    job = q.add("bad", {"order": 42})
    worker(threads=1)
    wait_for(lambda: q.get_job(job.id).state is JobState.FAILED, 10)

    shown = run("jobs", "show", queue_name, job.id)
    assert shown.exit_code == 0, shown.output
    assert '"order": 42' in shown.output
    assert "looking at order 42" in shown.output
    assert "ValueError: order 42 is broken" in shown.output
    assert "stack trace 1 of 1" in shown.output
    as_json = json.loads(run("jobs", "show", queue_name, job.id, "--json").output)
    assert as_json["state"] == "failed" and as_json["logs"] == ["looking at order 42"]
    listed = json.loads(run("jobs", "list", queue_name, "--state", "failed", "--json").output)
    assert [j["id"] for j in listed] == [job.id]


def test_retry_promote_cancel_and_remove_act_on_single_jobs(run, make_queue):
    q = make_queue()
    failed = _failed_jobs(q, 1)[0]
    later = q.add("later", {}, delay=60_000)
    pending = q.add("pending", {})
    spare = q.add("spare", {})

    assert run("retry", q.name, failed).exit_code == 0
    assert q.get_job(failed).state is JobState.WAITING
    assert run("promote", q.name, later.id).exit_code == 0
    assert q.get_job(later.id).state is JobState.WAITING
    cancelled = run("cancel", q.name, pending.id, "--reason", "not needed")
    assert cancelled.exit_code == 0 and "cancelled" in cancelled.output
    assert q.get_job(pending.id).failed_reason == "not needed"
    refused = run("remove", q.name, spare.id, input="n\n")
    assert refused.exit_code == 1 and q.get_job(spare.id) is not None
    assert run("remove", q.name, spare.id, "--yes").exit_code == 0
    assert q.get_job(spare.id) is None


def test_retry_all_and_promote_all_move_every_job_with_a_progress_line(run, make_queue):
    q = make_queue()
    _failed_jobs(q, 30)
    q.add_bulk([{"name": "later", "data": {}, "opts": {"delay": 60_000}} for _ in range(20)])

    retried = run("retry-all", q.name, "--yes")
    assert retried.exit_code == 0 and "Retried 30 job(s)" in retried.output
    assert "retrying: 30/30 (100%)" in retried.stderr
    promoted = run("promote-all", q.name)
    assert promoted.exit_code == 0 and "Promoted 20 job(s)" in promoted.output
    assert q.get_job_counts("waiting", "delayed", "failed") == {"waiting": 50, "delayed": 0, "failed": 0}


def test_pause_and_resume_flip_the_queue_for_every_worker(run, make_queue):
    q = make_queue()
    q.add("x", {})
    assert run("pause", q.name).exit_code == 0 and q.is_paused()
    assert json.loads(run("stats", q.name, "--json").output)[q.name]["paused"] == 1
    assert run("resume", q.name).exit_code == 0 and not q.is_paused()


def test_clean_asks_first_and_then_deletes_in_batches_with_progress(run, make_queue):
    q = make_queue()
    _failed_jobs(q, 2500)

    refused = run("clean", q.name, "--state", "failed", input="n\n")
    assert refused.exit_code == 1 and q.get_failed_count() == 2500
    cleaned = run("clean", q.name, "--state", "failed", "--yes")

    assert cleaned.exit_code == 0 and "Deleted 2500 failed job(s)" in cleaned.output
    lines = [line for line in cleaned.stderr.splitlines() if line.startswith("cleaning:")]
    assert lines == ["cleaning: 1000/2500 (40%)", "cleaning: 2000/2500 (80%)", "cleaning: 2500/2500 (100%)"]
    assert q.get_failed_count() == 0


def test_clean_keeps_jobs_inside_the_grace_given_in_ms_under_its_new_or_old_name(run, make_queue):
    q = make_queue()
    _failed_jobs(q, 2)

    for flag in ("--grace-ms", "--grace"):
        kept = run("clean", q.name, "--state", "failed", flag, "3600000", input="y\n")
        assert kept.exit_code == 0 and "Deleted 0 failed job(s)" in kept.output
        assert "finished over 3600000 ms ago?" in kept.output
    assert q.get_failed_count() == 2


def test_empty_and_remove_queue_delete_what_they_say(run, make_queue, client, settings):
    q = make_queue()
    q.add_bulk([{"name": "x", "data": {}} for _ in range(5)])
    q.add("later", {}, delay=60_000)
    _failed_jobs(q, 2)

    emptied = run("empty", q.name, "--yes")
    assert emptied.exit_code == 0 and "Deleted 6 waiting and delayed" in emptied.output
    assert q.get_job_counts("waiting", "delayed", "failed") == {"waiting": 0, "delayed": 0, "failed": 2}
    removed = run("remove-queue", q.name, "--yes")
    assert removed.exit_code == 0 and "Deleted queue" in removed.output
    assert list(client.scan_iter(match=f"{settings.namespace}:{{{q.name}}}:*")) == []
    assert q.name not in run("queues").output


def test_repeats_are_listed_and_removed(run, make_queue):
    q = make_queue()
    q.add("nightly", {}, repeat={"cron": "0 3 * * *"})
    listed = json.loads(run("repeats", "list", q.name, "--json").output)
    assert [r["name"] for r in listed] == ["nightly"] and listed[0]["cron"] == "0 3 * * *"
    assert run("repeats", "remove", q.name, listed[0]["key"]).exit_code == 0
    assert q.get_repeatable_jobs() == []
    missing = run("repeats", "remove", q.name, "no-such-key")
    assert missing.exit_code == 1 and "no repeat 'no-such-key'" in missing.output


def test_workers_lists_live_worker_processes(broker, worker, run, queue_name, settings):
    @actor(queue_name=queue_name, job_name="noop", broker=broker)
    def noop() -> None:
        return None

    worker(threads=1)
    q = Queue(queue_name, settings=settings)
    wait_for(lambda: q.get_workers(), 10)
    entries = json.loads(run("workers", queue_name, "--json").output)
    assert len(entries) == 1 and queue_name in entries[0]["queues"]
    assert run("workers").exit_code == 0


def test_events_prints_past_events_and_follows_new_ones(run, make_queue):
    q = make_queue()
    first = q.add("first", {})
    past = run("events", q.name, "--json")
    assert [json.loads(line)["job_id"] for line in past.output.splitlines()] == [first.id]

    added: list[str] = []

    def add_later() -> None:
        time.sleep(0.3)  # lands before or after the reader starts: either way it is shown once
        added.append(q.add("second", {}).id)

    threading.Thread(target=add_later).start()
    followed = run("events", q.name, "--follow", "--for", "3", "--last", "1", "--json")
    assert followed.exit_code == 0
    shown = [json.loads(line)["job_id"] for line in followed.output.splitlines()]
    assert shown.count(added[0]) == 1


def test_hash_password_prints_an_argon2_hash_of_a_piped_password():
    from argon2 import PasswordHasher

    result = CliRunner().invoke(cli, ["hash-password"], input="correct horse\n")
    assert result.exit_code == 0 and result.output.startswith("$argon2")
    assert PasswordHasher().verify(result.output.strip(), "correct horse")
