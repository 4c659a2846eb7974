"""Every key name is spelled in ``pipeline/keys.py`` only: Lua and the rest of Python read it there."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest

from pipeline import keys
from pipeline.keys import LUA_PARTS, AlertKeys, ApiKeys, QueueKeys, RepeatKeys
from pipeline.scripts import source

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = resources.files("pipeline.scripts")
LUA_FILES = sorted(
    [f"{p.name}" for p in SCRIPTS.iterdir() if p.name.endswith(".lua")]
    + [f"includes/{p.name}" for p in (SCRIPTS / "includes").iterdir() if p.name.endswith(".lua")]
)
PYTHON_FILES = sorted(
    str(p.relative_to(ROOT))
    for package in ("pipeline", "middleware", "actors")
    for p in (ROOT / package).rglob("*.py")
    if p != ROOT / "pipeline" / "keys.py"
)


def _every_key_name() -> list[str]:
    """Every key name keys.py spells, for a namespace ``NS`` and a queue ``QQ``, minus those two."""
    q = QueueKeys.for_queue("NS", "QQ")
    names = [getattr(q, f) for f in QueueKeys.__slots__] + [q.inbox("M"), q.metric_ring("K", "N")]
    names += [q.metric_durations("N")]
    r = RepeatKeys.for_queue("NS", "QQ")
    names += [
        r.index,
        r.prefix,
        keys.queues_set("NS"),
        keys.repeat_queues_set("NS"),
        keys.repeat_version("NS"),
    ]
    names += [keys.dramatiq_namespace("NS")]
    alert = AlertKeys.for_namespace("NS")
    names += [alert.leader, alert.state, alert.samples]
    api = ApiKeys.for_namespace("NS")
    names += [api.audit, api.revoked_prefix, api.login_failures_from("A"), api.login_failures_of("U")]
    return [n.removeprefix("NS:").replace("{QQ}:", "") for n in names]


def _parts() -> set[str]:
    """The words of key names (``limiter:``, ``stall-guard``, ``:age``), of three characters or more."""
    parts = {p for p in LUA_PARTS.values() if len(p) > 2}
    for name in _every_key_name():
        parts |= {p for p in re.findall(r"[a-z-]+:?", name) if len(p) > 2 and p not in ("K", "N", "M")}
    return parts


PARTS = _parts()
#: Joined literals that read like a key part but name something else: (file, literal).
NOT_KEYS = {("pipeline/repeat.py", "repeat:")}  # a repeat occurrence's job id


def test_the_parts_checked_include_those_scripts_used_to_spell() -> None:
    assert {":age", "logs:", "dedup:", "metrics:", "names", "totals", "durations:"} <= PARTS
    assert {"wait", "prio", "stall-guard", "login-failures:", "dramatiq"} <= PARTS


def _lua_code(text: str) -> str:
    return re.sub(r"--[^\n]*", "", re.sub(r"--\[\[.*?\]\]", "", text, flags=re.DOTALL))


def _joined_lua_literals(code: str) -> Iterator[str]:
    """String literals joined onto something with ``..``."""
    for match in re.finditer(r'\.\.\s*"([^"]*)"|"([^"]*)"\s*\.\.', code):
        yield match.group(1) if match.group(1) is not None else match.group(2)


@pytest.mark.parametrize("path", LUA_FILES)
def test_no_script_spells_a_part_of_a_key_name(path: str) -> None:
    code = _lua_code((SCRIPTS / path).read_text(encoding="utf-8"))

    assert not [text for text in _joined_lua_literals(code) if text in PARTS]
    for part in LUA_PARTS.values():
        if len(part) > 1:
            assert f'"{part}"' not in code
    # The one-character joints (``<idle>:<member>``) are spelled as KEY_* too.
    assert not re.search(r'(KEYS\[\d+\]|_key|prefix|base)\s*\.\.\s*":"', code)


def test_the_keys_include_renders_every_part_as_keys_py_spells_it() -> None:
    rendered = source("complete")
    for name, part in LUA_PARTS.items():
        assert f'local {name} = "{part}"\n' in rendered


def _joined_python_literals(tree: ast.AST) -> Iterator[ast.Constant]:
    """String constants joined with ``+`` or into an f-string."""
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            sides: list[ast.expr] = [node.left, node.right]
        elif isinstance(node, ast.JoinedStr):
            sides = list(node.values)
        else:
            continue
        yield from (s for s in sides if isinstance(s, ast.Constant) and isinstance(s.value, str))


def _spells_a_part(text: str) -> bool:
    """``text`` is a part, begins with a prefix part (``dedup:...``) or joins one on (``:age``)."""
    return (
        text in PARTS
        or any(text.startswith(p) for p in PARTS if p.endswith(":"))
        or any(text.startswith(":" + p.strip(":")) for p in PARTS)
    )


@pytest.mark.parametrize("path", PYTHON_FILES)
def test_no_module_but_keys_py_joins_a_key_name(path: str) -> None:
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))

    spelled = [
        f"line {c.lineno}: {c.value!r}"
        for c in _joined_python_literals(tree)
        if _spells_a_part(c.value) and (path, c.value) not in NOT_KEYS
    ]
    assert not spelled, f"{path} spells key names outside pipeline/keys.py"
