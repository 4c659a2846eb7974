"""The scripts' return codes: one table, one meaning per code, each script's header naming its codes."""

from __future__ import annotations

import re
from importlib import resources

import pytest

from pipeline.codes import Code, check_job_code
from pipeline.errors import JobNotFoundError, JobStateError
from pipeline.scripts import script_names, source

NAMES = "|".join(code.name for code in Code)


def _header_and_body(name: str) -> tuple[str, str]:
    text = (resources.files("pipeline.scripts") / f"{name}.lua").read_text(encoding="utf-8")
    header, _, body = text.partition("]]")
    return header, body


def test_every_code_has_one_value_and_every_value_one_code():
    assert len({code.value for code in Code}) == len(Code)


@pytest.mark.parametrize("name", script_names())
def test_each_script_header_names_every_code_its_body_returns(name):
    header, body = _header_and_body(name)
    used = set(re.findall(rf"\b({NAMES})\b", body))
    named = set(re.findall(rf"\b({NAMES})\b", header))
    assert used <= named, f"{name}.lua returns {sorted(used - named)} without naming them in its header"
    if used:
        assert '--- @include "codes"' in body
    # A negative literal return would be a code spelled outside the table.
    assert not re.search(r"return\s*\{?\s*-\d", body)


def test_the_codes_include_defines_every_code_as_a_lua_local():
    rendered = source("cancel")
    for code in Code:
        assert f"local {code.name} = {code.value}\n" in rendered


def test_a_job_code_maps_to_the_error_it_means():
    def state() -> str:
        return "completed"

    common = {"job_id": "j1", "queue": "q", "operation": "cancel", "state_of": state}
    assert check_job_code(1, **common) is Code.DONE
    assert check_job_code(4, **common) is Code.CANCEL_REQUESTED
    with pytest.raises(JobNotFoundError):
        check_job_code(Code.NO_SUCH_JOB, **common)
    with pytest.raises(JobStateError, match="it is active"):
        check_job_code(Code.ACTIVE, **common)
    with pytest.raises(JobStateError, match="it is completed"):
        check_job_code(Code.WRONG_STATE, **common)
