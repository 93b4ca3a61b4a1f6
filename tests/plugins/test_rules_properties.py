"""Properties every built-in routing rule keeps, for any event of any type and any context.

The rules are found as the core finds them (the ``parcours`` entry points named ``routing.*``), so a
new built-in rule is checked here without being listed. Events are random but valid for their type
(validated and stored as the intake does), people of any age and living situation, care teams,
enabled funders and recent events at random, ``now`` before or after the event.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.events.catalogue import CORE_ACTION_TYPES, CORE_EVENT_TYPES
from core.events.model import (
    CareTeamMember,
    EventType,
    EventView,
    PersonSituation,
    Priority,
    ProposedAction,
    RoutingContext,
    Target,
    TargetKind,
)
from core.events.routing import RoutingError, check_proposal
from core.identity.roles import OrganisationKind, Role
from core.plugins import create_plugin_manager
from tests.plugins.helpers import NOW, make_context, make_event

HANDLED: dict[str, set[str]] = {
    "routing.discharge": {EventType.HOSPITAL_DISCHARGE},
    "routing.fall": {EventType.FALL_AT_HOME},
    "routing.carer_unavailable": {EventType.CARER_UNAVAILABLE},
    "routing.alerts": {EventType.GP_ALERT_TO_SOCIAL, EventType.SOCIAL_ALERT_TO_GP},
    "routing.teleconsultation": {EventType.TELECONSULTATION_REQUEST},
    "routing.death": {EventType.DEATH},
}
"""Every built-in rule and the event types it answers (it must ignore the others)."""

ACTION_TYPES = {spec.code: spec for spec in CORE_ACTION_TYPES}
EVENT_SPECS = {spec.code: spec for spec in CORE_EVENT_TYPES}
SERVICE_TYPES = {spec.service_type for spec in CORE_ACTION_TYPES if spec.service_type}
MIN_LEAD = dt.timedelta(hours=4)
SECRET = "Confidentiel "
"""Free-text details (ward, subject, specialty) start with this: they must never reach a title."""
FRENCH_WORDS = {"le", "la", "les", "du", "de", "des", "à", "au", "par", "un", "une", "et"}
"""A French title has at least one of these words (catches English or code-like titles)."""


def builtin_rules() -> dict[str, Any]:
    pm = create_plugin_manager()
    return {name: plugin for name, plugin in pm.list_name_plugin() if name and name.startswith("routing.")}


RULES = builtin_rules()


def test_every_builtin_rule_is_installed_and_covered():
    """The entry points name exactly the rules this file knows (reinstall after editing pyproject)."""
    assert set(RULES) == set(HANDLED)


# --- What a rule must return -------------------------------------------------------------------


def check_invariants(
    results: list[tuple[str, list[ProposedAction]]], event: EventView, context: RoutingContext
) -> None:
    """Raise AssertionError (or RoutingError) when a proposal breaks a property."""
    secrets = [v for v in event.details.values() if isinstance(v, str) and v.startswith(SECRET)]
    dedup_keys = []
    for plugin, proposals in results:
        assert isinstance(proposals, list), f"{plugin} returned {type(proposals).__name__}"
        if proposals:
            assert event.type in HANDLED[plugin], f"{plugin} answered a {event.type} event"
        for proposal in proposals:
            assert check_proposal(plugin, proposal) is proposal  # what the core accepts
            dedup_keys.append(f"{plugin}:{proposal.key}")
            assert proposal.key.strip() == proposal.key
            # A target the core can resolve.
            assert isinstance(proposal.target, Target)
            assert proposal.target.value.strip()
            if proposal.target.kind is TargetKind.ROLE:
                assert proposal.target.value in set(Role)
            elif proposal.target.kind is TargetKind.CARE_TEAM:
                assert proposal.target.value in set(OrganisationKind)
            elif proposal.target.kind is TargetKind.MARKETPLACE:
                assert proposal.target.value in SERVICE_TYPES
                assert proposal.service_type == proposal.target.value
            # A known action type, delivered by the service the catalogue says.
            assert proposal.action_type in ACTION_TYPES, proposal.action_type
            spec = ACTION_TYPES[proposal.action_type]
            assert proposal.service_type in (None, spec.service_type)
            # A deadline: timezone-aware, never in the past.
            assert proposal.due_at.tzinfo is not None and proposal.due_at.utcoffset() is not None
            assert proposal.due_at >= context.now + MIN_LEAD, (proposal.key, proposal.due_at)
            assert isinstance(proposal.priority, Priority)
            # A short French title, no code, no detail of the event.
            title = proposal.title
            assert title and title == title.strip() and len(title) <= 200
            assert title[0].isupper() and "_" not in title, title
            assert any(word in title.lower().split() for word in FRENCH_WORDS), title
            for secret in secrets:
                assert secret not in title and secret not in proposal.description
            assert all(code and not code.startswith("funders.") for code in proposal.suggested_funding)
    assert len(dedup_keys) == len(set(dedup_keys)), f"duplicate proposals: {dedup_keys}"


def run_rules(event: EventView, context: RoutingContext) -> list[tuple[str, list[ProposedAction]]]:
    """Every built-in rule through its hook, as the core calls it."""
    return [(name, plugin.propose_actions(event=event, context=context)) for name, plugin in RULES.items()]


# --- Random events and contexts ----------------------------------------------------------------

ZONES = st.sampled_from(
    [
        dt.UTC,
        ZoneInfo("Europe/Paris"),
        dt.timezone(dt.timedelta(hours=1)),
        dt.timezone(dt.timedelta(hours=-5)),
    ]
)
moments = st.datetimes(
    min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2028, 12, 31), timezones=ZONES
)
days = st.dates(min_value=dt.date(2024, 12, 1), max_value=dt.date(2029, 3, 1))
secret_text = st.text(min_size=1, max_size=40).map(lambda text: SECRET + text)
maybe_bool = st.sampled_from([True, False])
finess = st.from_regex(r"^\d{9}$", fullmatch=True)

DETAILS: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    EventType.HOSPITAL_ADMISSION: st.fixed_dictionaries(
        {}, optional={"ward": secret_text, "establishment_finess": finess, "planned": maybe_bool}
    ),
    EventType.HOSPITAL_DISCHARGE: st.fixed_dictionaries(
        {},
        optional={
            "ward": secret_text,
            "discharge_summary_available": maybe_bool,
            "establishment_finess": finess,
            "destination": st.sampled_from(["home", "nursing_home", "other"]),
        },
    ),
    EventType.EMERGENCY_VISIT: st.fixed_dictionaries(
        {}, optional={"establishment_finess": finess, "admitted": maybe_bool}
    ),
    EventType.FALL_AT_HOME: st.fixed_dictionaries(
        {}, optional={"injured": maybe_bool, "long_lie": maybe_bool, "remote_alarm": maybe_bool}
    ),
    EventType.CARER_UNAVAILABLE: st.fixed_dictionaries(
        {},
        optional={
            "reason": st.sampled_from(["illness", "hospitalisation", "other"]),
            "expected_until": days,
        },
    ),
    EventType.AUTONOMY_LOSS: st.fixed_dictionaries(
        {},
        optional={
            "domains": st.lists(
                st.sampled_from(["mobility", "hygiene", "meals", "medication", "cognition", "housekeeping"]),
                unique=True,
            )
        },
    ),
    EventType.GP_ALERT_TO_SOCIAL: st.fixed_dictionaries(
        {}, optional={"urgency": st.sampled_from(["routine", "urgent"]), "subject": secret_text}
    ),
    EventType.SOCIAL_ALERT_TO_GP: st.fixed_dictionaries(
        {}, optional={"urgency": st.sampled_from(["routine", "urgent"]), "subject": secret_text}
    ),
    EventType.TELECONSULTATION_REQUEST: st.fixed_dictionaries(
        {}, optional={"preferred_date": days, "specialty": secret_text}
    ),
    EventType.DEATH: st.just({}),
}


def test_details_strategies_cover_every_core_event_type():
    assert set(DETAILS) == set(EventType) == set(EVENT_SPECS)


@st.composite
def events(draw: st.DrawFn) -> EventView:
    type_ = draw(st.sampled_from(list(EventType)))
    details = EVENT_SPECS[type_].validate_details(draw(DETAILS[type_]))  # valid, stored as at intake
    return EventView(id=draw(st.uuids()), type=str(type_), occurred_at=draw(moments), details=details)


care_team_members = st.builds(
    CareTeamMember,
    organisation_id=st.none() | st.uuids(),
    organisation_kind=st.none() | st.sampled_from([str(kind) for kind in OrganisationKind]),
    user_id=st.none() | st.uuids(),
    role=st.sampled_from([str(role) for role in Role]),
    function=st.none() | st.sampled_from(["médecin traitant", "infirmière", "coordination du parcours"]),
)


@st.composite
def contexts(draw: st.DrawFn, event: EventView) -> RoutingContext:
    offset = draw(st.timedeltas(min_value=dt.timedelta(days=-30), max_value=dt.timedelta(days=30)))
    return RoutingContext(
        tenant_slug="landes",
        departements=("40",),
        person=PersonSituation(
            age=draw(st.integers(min_value=0, max_value=110)),
            commune_insee=draw(st.sampled_from(["40192", "40088", "33063"])),
            lives_alone=draw(st.sampled_from([None, True, False])),
            has_carer=draw(st.booleans()),
        ),
        now=(event.occurred_at + offset).astimezone(dt.UTC),  # before or after the event
        care_team=tuple(draw(st.lists(care_team_members, max_size=4))),
        funders=tuple(
            draw(
                st.lists(
                    st.sampled_from(["funders.carsat_ardh", "funders.departement_apa", "funders.caf"]),
                    unique=True,
                )
            )
        ),
        recent_events=tuple(draw(st.lists(st.sampled_from([str(t) for t in EventType]), max_size=5))),
    )


@st.composite
def situations(draw: st.DrawFn) -> tuple[EventView, RoutingContext]:
    event = draw(events())
    return event, draw(contexts(event))


# --- The properties ----------------------------------------------------------------------------


@settings(max_examples=400, deadline=None)
@given(situations())
def test_every_rule_proposes_well_formed_unique_actions(situation):
    """Any event, any person: unique keys, resolvable targets, known action types, due in time,
    short French titles without details, accepted by the core."""
    event, context = situation
    check_invariants(run_rules(event, context), event, context)


@settings(max_examples=200, deadline=None)
@given(situations())
def test_rules_are_deterministic_and_leave_the_event_alone(situation):
    """Routing may run twice for one event (a retry): same input, same proposals; nothing mutated."""
    event, context = situation
    details_before = dict(event.details)
    first = run_rules(event, context)
    copy = dataclasses.replace(event, details=dict(event.details))
    assert run_rules(copy, context) == first
    assert run_rules(event, context) == first
    assert event.details == details_before


# --- Each rule answers its own events, and each check above can fail -----------------------------

EXAMPLES = {
    EventType.HOSPITAL_DISCHARGE: {},
    EventType.FALL_AT_HOME: {"injured": True},
    EventType.CARER_UNAVAILABLE: {"reason": "hospitalisation"},
    EventType.GP_ALERT_TO_SOCIAL: {"urgency": "urgent"},
    EventType.SOCIAL_ALERT_TO_GP: {},
    EventType.TELECONSULTATION_REQUEST: {"preferred_date": "2026-12-10"},
    EventType.DEATH: {},
}


@pytest.mark.parametrize("type_", list(EventType))
def test_each_event_type_is_answered_by_its_rule_only(type_):
    """A fragile person's event: the rule for its type proposes something, the others nothing."""
    event = make_event(type_, NOW + dt.timedelta(days=1), **EXAMPLES.get(type_, {}))
    context = make_context(85, True, funders=["funders.departement_apa"], recent_events=["fall_at_home"])
    results = run_rules(event, context)
    answering = {plugin for plugin, proposals in results if proposals}
    assert answering == {plugin for plugin, types in HANDLED.items() if type_ in types}
    check_invariants(results, event, context)


GOOD_EVENT = make_event(EventType.FALL_AT_HOME, NOW, injured=True)
GOOD_CONTEXT = make_context(85, True)
GOOD = RULES["routing.fall"].propose_actions(event=GOOD_EVENT, context=GOOD_CONTEXT)


def broken(**changes: Any) -> list[ProposedAction]:
    return [dataclasses.replace(GOOD[0], **changes), *GOOD[1:]]


@pytest.mark.parametrize(
    ("plugin", "proposals"),
    [
        ("routing.fall", [*GOOD, GOOD[0]]),  # a duplicate key
        ("routing.fall", broken(key="")),
        ("routing.fall", broken(target=Target.role(""))),
        ("routing.fall", broken(target=Target.role("general_practitioner"))),  # not a role of Parcours
        ("routing.fall", broken(target=Target.care_team("doctor"))),
        ("routing.fall", broken(target=Target.marketplace("taxi"), service_type="taxi")),
        ("routing.fall", broken(action_type="visite_medecin")),
        ("routing.fall", broken(due_at=NOW.replace(tzinfo=None) + dt.timedelta(days=1))),
        ("routing.fall", broken(due_at=NOW - dt.timedelta(hours=1))),
        ("routing.fall", broken(title="")),
        ("routing.fall", broken(title="x" * 201)),
        ("routing.fall", broken(title="gp_visit")),
        ("routing.fall", broken(title="See the GP within three days")),
        ("routing.fall", broken(title="Consultation du médecin " + SECRET + "fracture")),
        ("routing.fall", broken(priority="urgent")),
        ("routing.fall", broken(suggested_funding=("funders.carsat_ardh",))),
        ("routing.discharge", GOOD),  # answering an event type that is not its own
    ],
)
def test_the_invariants_catch_a_bad_proposal(plugin, proposals):
    """Each property checked above rejects a proposal that breaks it."""
    event = dataclasses.replace(GOOD_EVENT, details={**GOOD_EVENT.details, "subject": SECRET + "fracture"})
    with pytest.raises((AssertionError, RoutingError)):
        check_invariants([(plugin, proposals)], event, GOOD_CONTEXT)


def test_the_invariants_accept_the_good_proposals():
    assert len(GOOD) == 4
    check_invariants([("routing.fall", GOOD)], GOOD_EVENT, GOOD_CONTEXT)
