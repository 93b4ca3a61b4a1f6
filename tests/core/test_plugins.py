"""Plugins: discovery from entry points, per-tenant enabling, and the documented hooks."""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
import re
import sys
import types
import uuid
from pathlib import Path

import pytest

import plugins.routing.discharge
from core import hookimpl, hookspecs
from core.events.model import EventView, PersonSituation, RoutingContext
from core.plugins import ENTRY_POINT_GROUP, call_each, create_plugin_manager, installed_plugins, tenant_hook

ROOT = Path(__file__).resolve().parents[2]
HOOK_DOCS = ROOT / "docs" / "plugin_hooks.md"
MARK = ["marker from test plugin"]

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
EVENT = EventView(
    id=uuid.uuid4(), type="hospital_discharge", occurred_at=NOW + dt.timedelta(days=3), details={}
)
CONTEXT = RoutingContext(
    tenant_slug="landes",
    departements=("40",),
    person=PersonSituation(age=84, commune_insee="40192", lives_alone=True),
    now=NOW,
)


@pytest.fixture
def pm():
    return create_plugin_manager()


class Recorder:
    """A throw-away plugin that records its calls and returns a marker."""

    def __init__(self) -> None:
        self.calls: list[tuple[EventView, RoutingContext]] = []

    @hookimpl
    def propose_actions(self, event, context):
        self.calls.append((event, context))
        return MARK


def hookspec_functions() -> dict[str, object]:
    """Every function of core.hookspecs marked as a hook specification."""
    return {
        name: function
        for name, function in vars(hookspecs).items()
        if inspect.isfunction(function) and hasattr(function, "parcours_spec")
    }


def test_builtin_discharge_plugin_is_loaded_from_the_entry_point_group(pm):
    """The built-in routing.discharge plugin is discovered like a third-party one."""
    assert ENTRY_POINT_GROUP == "parcours"
    assert pm.get_plugin("routing.discharge") is plugins.routing.discharge
    distributions = {pm.get_name(plugin): dist for plugin, dist in pm.list_plugin_distinfo()}
    assert "routing.discharge" in distributions, "not registered through an entry point"
    assert distributions["routing.discharge"].project_name == "parcours"
    info = {i.name: i for i in installed_plugins(pm)}["routing.discharge"]
    assert info.hooks == ("propose_actions",)
    assert info.version


def test_extra_modules_are_registered_under_their_module_path(monkeypatch):
    """A module named in PARCOURS_PLUGINS is registered under its dotted path; known names are skipped."""
    module = types.ModuleType("parcours_test_extra")

    @hookimpl
    def propose_actions(event, context):
        return MARK

    module.propose_actions = propose_actions
    monkeypatch.setitem(sys.modules, "parcours_test_extra", module)
    pm = create_plugin_manager(["parcours_test_extra", "routing.discharge"])
    assert pm.get_plugin("parcours_test_extra") is module
    assert [name for name, _ in pm.list_name_plugin()].count("routing.discharge") == 1
    assert tenant_hook(pm, ["parcours_test_extra"], "propose_actions")(event=EVENT, context=CONTEXT) == [MARK]


def test_tenant_hook_calls_only_enabled_plugins(pm):
    """A tenant's hook call reaches the plugins it enabled, and no other."""
    recorder = Recorder()
    pm.register(recorder, name="tests.recorder")
    try:
        enabled = tenant_hook(pm, ["tests.recorder"], "propose_actions")(event=EVENT, context=CONTEXT)
        assert enabled == [MARK]
        assert recorder.calls == [(EVENT, CONTEXT)]

        only_discharge = tenant_hook(pm, ["routing.discharge"], "propose_actions")(
            event=EVENT, context=CONTEXT
        )
        assert len(only_discharge) == 1
        assert MARK not in only_discharge
        assert [p.action_type for p in only_discharge[0]] == [
            "home_help_assessment",
            "nurse_visit",
            "pharmacy_delivery",
            "gp_follow_up_call",
            "funding_request",
        ]

        both = tenant_hook(pm, ["routing.discharge", "tests.recorder"], "propose_actions")(
            event=EVENT, context=CONTEXT
        )
        assert MARK in both and len(both) == 2

        assert tenant_hook(pm, [], "propose_actions")(event=EVENT, context=CONTEXT) == []
        assert tenant_hook(pm, ["not.installed"], "propose_actions")(event=EVENT, context=CONTEXT) == []
        assert len(recorder.calls) == 2  # never called when disabled
    finally:
        pm.unregister(name="tests.recorder")
    assert not pm.has_plugin("tests.recorder")
    every = pm.hook.propose_actions(event=EVENT, context=CONTEXT)
    assert MARK not in every


def test_call_each_names_each_plugin_and_awaits_async_hooks(pm):
    """call_each says which plugin returned what, awaiting plugins written as coroutines."""
    awaited = []

    class AsyncPlugin:
        @hookimpl
        async def propose_actions(self, event, context):
            await asyncio.sleep(0)
            awaited.append(event.id)
            return ["async", context.tenant_slug]

    class EventOnly:
        """Implements the hook with a subset of its arguments, as pluggy allows."""

        @hookimpl
        def propose_actions(self, event):
            return ["event only", event.type]

    recorder = Recorder()
    pm.register(AsyncPlugin(), name="tests.async")
    pm.register(EventOnly(), name="tests.event-only")
    pm.register(recorder, name="tests.recorder")
    try:
        enabled = ["tests.async", "tests.event-only", "routing.discharge"]
        results = asyncio.run(call_each(pm, enabled, "propose_actions", event=EVENT, context=CONTEXT))
        names = [name for name, _ in results]
        assert sorted(names) == sorted(enabled)
        by_name = dict(results)
        assert by_name["tests.async"] == ["async", "landes"]
        assert awaited == [EVENT.id]
        assert by_name["tests.event-only"] == ["event only", "hospital_discharge"]
        assert len(by_name["routing.discharge"]) == 5
        assert not any(inspect.isawaitable(result) for _, result in results)
        assert recorder.calls == []  # registered but not enabled
        # Same order as pluggy's own call (last registered first).
        plain = tenant_hook(pm, ["tests.event-only", "routing.discharge"], "propose_actions")(
            event=EVENT, context=CONTEXT
        )
        assert [result for name, result in results if name != "tests.async"] == plain
    finally:
        for name in ("tests.async", "tests.event-only", "tests.recorder"):
            pm.unregister(name=name)


def test_call_each_with_nothing_enabled_returns_nothing(pm):
    """A tenant that enabled no plugin gets no result, and no plugin runs."""
    recorder = Recorder()
    pm.register(recorder, name="tests.recorder")
    try:
        assert asyncio.run(call_each(pm, [], "propose_actions", event=EVENT, context=CONTEXT)) == []
        assert recorder.calls == []
    finally:
        pm.unregister(name="tests.recorder")


def test_hookspecs_are_the_hooks_of_the_plugin_manager(pm):
    """The hooks found in core.hookspecs are exactly the hooks the manager knows."""
    specs = hookspec_functions()
    assert specs, "no function of core.hookspecs carries the parcours_spec marker"
    hooks = {name for name in vars(pm.hook) if not name.startswith("_")}
    assert set(specs) == hooks


def test_every_hook_has_a_docstring_and_a_section_in_plugin_hooks_md():
    """Plugin authors find every hook explained, in its docstring and in docs/plugin_hooks.md."""
    specs = hookspec_functions()
    assert specs
    undocumented = [name for name, function in specs.items() if not (function.__doc__ or "").strip()]
    assert not undocumented, f"hookspecs without a docstring: {undocumented}"
    assert HOOK_DOCS.exists(), f"{HOOK_DOCS.relative_to(ROOT)} is missing (it must document {sorted(specs)})"
    text = HOOK_DOCS.read_text(encoding="utf-8")
    missing = [
        name
        for name in specs
        if not re.search(rf"^#{{2,3}}\s+`?{re.escape(name)}`?(?:\s|\(|$)", text, re.MULTILINE)
    ]
    assert not missing, f"hooks without a '## name' section in {HOOK_DOCS.relative_to(ROOT)}: {missing}"


def test_hook_doc_heading_pattern_is_strict():
    """The doc check accepts '## hook' / '### `hook`' headings and rejects mentions in prose."""
    pattern = rf"^#{{2,3}}\s+`?{re.escape('propose_actions')}`?(?:\s|\(|$)"
    good = ["## propose_actions", "### `propose_actions`", "## propose_actions(event, context)"]
    bad = ["# propose_actions", "Call propose_actions here", "## propose_actions_v2", "#### propose_actions"]
    assert all(re.search(pattern, line, re.MULTILINE) for line in good)
    assert not any(re.search(pattern, line, re.MULTILINE) for line in bad)
