"""Lua includes: one function each, named for it, declaring what it needs; the loader resolves them."""

from __future__ import annotations

import re
from importlib import resources

import pytest
import redis

from pipeline.codes import Code
from pipeline.keys import LUA_PARTS
from pipeline.scripts import IncludeError, include_order, script_names, source

ROOT = resources.files("pipeline.scripts")
INCLUDES = sorted(p.name[:-4] for p in (ROOT / "includes").iterdir() if p.name.endswith(".lua"))
DECLARED = re.compile(r'^--- @include "([a-z_]+)"$', re.MULTILINE)
#: Includes rendered from Python (constants, not functions), with the names they define.
RENDERED = {
    "codes": [code.name for code in Code],
    "keys": list(LUA_PARTS),
    "metrics": ["METRIC_RING_MINUTES", "METRIC_DURATIONS_KEPT", "DURATION_BUCKETS_MS"],
}


def _code(text: str) -> str:
    """Lua text without its comments (headers name functions they do not call)."""
    return re.sub(r"--[^\n]*", "", re.sub(r"--\[\[.*?\]\]", "", text, flags=re.DOTALL))


def _calls(text: str, name: str) -> bool:
    return re.search(rf"(?<!function )\b{name}\(", _code(text)) is not None


def _text(path: str) -> str:
    return (ROOT / path).read_text(encoding="utf-8")


@pytest.mark.parametrize("name", INCLUDES)
def test_each_include_holds_one_function_named_for_its_file(name: str) -> None:
    functions = re.findall(r"^local function (\w+)\(", _text(f"includes/{name}.lua"), re.MULTILINE)
    assert functions == [name]


@pytest.mark.parametrize(
    "path", [f"includes/{n}.lua" for n in INCLUDES] + [f"{n}.lua" for n in script_names()]
)
def test_each_file_declares_exactly_the_includes_it_calls(path: str) -> None:
    text = _text(path)
    own = re.findall(r"^local function (\w+)\(", text, re.MULTILINE)
    called = {name for name in INCLUDES if name not in own and _calls(text, name)}
    called |= {
        name for name, defined in RENDERED.items() if re.search(rf"\b({'|'.join(defined)})\b", _code(text))
    }
    assert set(DECLARED.findall(text)) == called


def test_the_loader_brings_each_include_once_after_what_it_needs() -> None:
    needs = {"a": ["b", "c"], "b": ["c"], "c": [], "d": ["c", "a"]}

    assert include_order(["d", "a", "c"], needs.__getitem__) == ["c", "b", "a", "d"]


def test_includes_that_include_each_other_are_refused_with_the_cycle_named() -> None:
    needs = {"a": ["b"], "b": ["c"], "c": ["a"], "x": ["a"]}

    with pytest.raises(IncludeError, match="a -> b -> c -> a"):
        include_order(["x"], needs.__getitem__)


def test_an_include_that_does_not_exist_is_refused_by_name() -> None:
    with pytest.raises(IncludeError, match="no_such_helper"):
        include_order(["no_such_helper"])


@pytest.mark.parametrize("name", script_names())
def test_each_loaded_script_defines_every_function_once_before_its_first_call(name: str) -> None:
    text = _code(source(name))
    assert "@include" not in source(name)
    defined = [(m.group(1), m.start()) for m in re.finditer(r"^local function (\w+)\(", text, re.MULTILINE)]
    assert len({n for n, _ in defined}) == len(defined)
    for function, at in defined:
        first_call = re.search(rf"(?<!function )\b{function}\(", text)
        assert first_call is None or first_call.start() > at, f"{function} is called before it is defined"


@pytest.mark.parametrize("name", script_names())
def test_each_loaded_script_compiles_in_redis(name: str, client: redis.Redis) -> None:
    sha = client.script_load(source(name))

    assert client.script_exists(sha) == [True]
