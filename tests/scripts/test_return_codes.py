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


def _returns(header: str) -> str:
    """The header's ``Returns:`` section (up to the next section, such as ``Events:``)."""
    found = re.search(r"\n\s*Returns.*?(?=\n\s*\n|\n\s*Events:|\Z)", header, re.DOTALL)
    assert found, "the header has no Returns section"
    return found.group(0)


def _returned_codes(body: str) -> set[str]:
    """Codes the script's code names (outside comments): codes exist only to be returned."""
    return set(re.findall(rf"\b({NAMES})\b", re.sub(r"--[^\n]*", "", body)))


def test_every_code_has_one_value_and_every_value_one_code():
    assert len({code.value for code in Code}) == len(Code)


@pytest.mark.parametrize("name", script_names())
def test_each_script_header_names_exactly_the_codes_its_body_returns(name):
    header, body = _header_and_body(name)
    returns = _returns(header)
    named = set(re.findall(rf"\b({NAMES})\b", returns))
    used = _returned_codes(body)
    assert used <= named, f"{name}.lua returns {sorted(used - named)} without naming them in its header"
    assert named <= used, f"{name}.lua's header names {sorted(named - used)}, which it never returns"
    # Anything else in capitals in the Returns section would be a code the table lacks.
    invented = set(re.findall(r"\b[A-Z][A-Z_]{2,}\b", returns)) - set(NAMES.split("|")) - {"ARGV", "KEYS"}
    assert not invented, f"{name}.lua's header names codes pipeline/codes.py does not define: {invented}"
    if used:
        assert "pipeline/codes.py" in returns
        assert '--- @include "codes"' in body
    # A negative literal return would be a code spelled outside the table.
    assert not re.search(r"return\s*\{?\s*-\d", body)


def test_a_header_that_omits_or_invents_a_code_is_caught():
    body = "\nif x then return NOT_HELD end\nreturn DONE\n"
    assert _returned_codes(body) == {"NOT_HELD", "DONE"}
    omits = set(re.findall(rf"\b({NAMES})\b", _returns("--[[\n  Returns: DONE.\n")))
    assert _returned_codes(body) - omits == {"NOT_HELD"}
    invents = _returns("--[[\n  Returns: DONE; NOT_HELD; GONE_AWAY the job left.\n\n  Events: none.\n")
    assert "GONE_AWAY" in invents and "Events" not in invents


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
