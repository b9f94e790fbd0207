"""The transition table of ``applications.workflow``, checked against tables written here.

The expected tables below are worked out from the policy (who does which step of
which route), not read back from the module, so a change to the module's table
that nobody meant shows up as a failure here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from django.test import Client

from minzheng.accounts.roles import Role
from minzheng.applications import workflow
from minzheng.applications.models import State
from minzheng.registry.models import Household
from tests.applications.conftest import Clock
from tests.applications.test_workflow_api import VISIT, act, apply

CW = "community_worker"
SR = "street_reviewer"
DA = "district_approver"
DL = "department_liaison"
RESIDENT = "resident"
ROLES = [str(r) for r in Role]
TERMINAL = ["approved", "rejected", "withdrawn"]

# (state the line is in, forward action, the one role that takes it), first to last
FORWARD: dict[str, list[tuple[str, str, str]]] = {
    "full": [
        ("submitted", "accept", CW),
        ("investigation", "record_visit", CW),
        ("verification", "verify", CW),
        ("appraisal", "publish_notice", CW),
        ("public_notice", "close_notice", CW),
        ("street_review", "review", SR),
        ("district_approval", "approve", DA),
    ],
    "department": [
        ("submitted", "accept", CW),
        ("referred", "approve", DL),
    ],
    "review_only": [
        ("submitted", "accept", CW),
        ("street_review", "review", SR),
        ("district_approval", "approve", DA),
    ],
}
# Where the acting role may reject (不予受理 at acceptance, 不予批准 by the decider) …
REJECT_IN = {
    "full": {"submitted", "district_approval"},
    "department": {"submitted", "referred"},
    "review_only": {"submitted", "district_approval"},
}
# … and where it may return the case for correction: every step but the public notice
# (it runs its course) and the department's decision.
NO_RETURN_FROM = {"public_notice", "referred"}


def legal_moves(route: str) -> dict[tuple[str, str, str], str]:
    """Every (state, action, role) allowed on ``route`` → the state it leads to."""
    moves: dict[tuple[str, str, str], str] = {}
    steps = FORWARD[route]
    for i, (state, action, role) in enumerate(steps):
        moves[(state, action, role)] = steps[i + 1][0] if i + 1 < len(steps) else "approved"
        if state in REJECT_IN[route]:
            moves[(state, "reject", role)] = "rejected"
        if state not in NO_RETURN_FROM:
            moves[(state, "return", role)] = "returned"
    for state in [s for s, _, _ in steps] + ["returned"]:
        for role in (RESIDENT, CW):
            moves[(state, "withdraw", role)] = "withdrawn"
    for role in (RESIDENT, CW):
        moves[("returned", "resubmit", role)] = "RETURNED_FROM"
    return moves


def states_of(route: str) -> list[str]:
    return [s for s, _, _ in FORWARD[route]] + ["returned", *TERMINAL]


@pytest.mark.parametrize("route", list(FORWARD))
def test_forward_walk_reaches_approved(route: str) -> None:
    state: str = workflow.first_state(route)
    for expected_state, action, role in FORWARD[route]:
        assert state == expected_state
        assert workflow.waiting_role(state) == role
        assert workflow.role_for(route, state, action) == {role}
        assert action in workflow.actions_for(route, state, role)
        state = workflow.next_state(route, state, action)
    assert state == "approved"
    assert workflow.waiting_role(state) == ""


def test_programmes_follow_their_route() -> None:
    assert workflow.route_of("dibao") == ("full", "")
    assert workflow.route_of("age_allowance") == ("review_only", "")
    assert workflow.route_of("medical_assistance") == ("department", "medical_security")
    assert workflow.route_of("disability_living_subsidy") == ("department", "disabled_persons")
    assert {workflow.route_of(p)[0] for p in workflow._policy()["programmes"]} == set(FORWARD)


@pytest.mark.parametrize("route", list(FORWARD))
def test_nothing_outside_the_table_is_allowed(route: str) -> None:
    legal = legal_moves(route)
    seen = set()
    for state in states_of(route):
        for action in workflow.ACTIONS:
            for role in ROLES:
                target = workflow.next_state(route, state, action, returned_from="investigation")
                allowed = bool(target) and role in workflow.role_for(route, state, action)
                key = (state, action, role)
                if key in legal:
                    seen.add(key)
                    assert allowed, key
                    expected = legal[key]
                    assert target == ("investigation" if expected == "RETURNED_FROM" else expected)
                else:
                    assert not allowed, key
    assert seen == set(legal)


@pytest.mark.parametrize("route", list(FORWARD))
def test_actions_offered_to_each_role_match_the_table(route: str) -> None:
    legal = legal_moves(route)
    for state in states_of(route):
        for role in ROLES:
            expected = sorted(a for (s, a, r) in legal if s == state and r == role)
            assert sorted(workflow.actions_for(route, state, role)) == expected, (state, role)


def test_admins_and_read_only_roles_never_act() -> None:
    for route in FORWARD:
        for state in states_of(route):
            for role in ("admin", "auditor", "service_provider"):
                assert workflow.actions_for(route, state, role) == [], (route, state, role)


@pytest.mark.parametrize("route", list(FORWARD))
def test_withdraw_from_every_open_state_and_no_closed_one(route: str) -> None:
    open_states = [s for s, _, _ in FORWARD[route]] + ["returned"]
    for state in open_states:
        assert workflow.next_state(route, state, "withdraw") == "withdrawn", state
        assert workflow.role_for(route, state, "withdraw") == {RESIDENT, CW}
    for state in TERMINAL:
        assert workflow.next_state(route, state, "withdraw") == "", state
        for action in workflow.ACTIONS:
            assert workflow.next_state(route, state, action, returned_from="submitted") == ""
    assert set(workflow.OPEN) == {s.value for s in State} - set(TERMINAL)


@pytest.mark.parametrize("route", list(FORWARD))
def test_resubmit_goes_back_to_the_step_that_returned_it(route: str) -> None:
    returnable = [(s, r) for s, _, r in FORWARD[route] if s not in NO_RETURN_FROM]
    assert returnable
    for state, role in returnable:
        assert workflow.next_state(route, state, "return") == "returned"
        assert workflow.role_for(route, state, "return") == {role}
        # the applicant corrects it with the community's help
        assert workflow.waiting_role("returned") == CW
        assert workflow.next_state(route, "returned", "resubmit", returned_from=state) == state
        assert workflow.remaining_steps(route, "returned", state)[0].state == state
    # without knowing where it came from, a resubmit goes nowhere
    assert workflow.next_state(route, "returned", "resubmit") == ""
    # and nothing but resubmit or withdraw moves a returned line
    for action in set(workflow.ACTIONS) - {"resubmit", "withdraw"}:
        assert workflow.next_state(route, "returned", action, returned_from="submitted") == ""


def test_public_notice_and_referral_cannot_be_returned() -> None:
    assert workflow.next_state("full", "public_notice", "return") == ""
    assert workflow.next_state("department", "referred", "return") == ""
    assert workflow.next_state("full", "investigation", "reject") == ""
    assert workflow.next_state("full", "street_review", "reject") == ""


# ----------------------------------------------------------------------------- deadlines
#
# The 2026 arrangement (国务院办公厅, as carried by chinesecalendar and checked in
# tests/core/test_workdays.py):
#   中秋节 09-25 (Fri) … 09-27 (Sun) off;
#   国庆节 10-01 (Thu) … 10-07 (Wed) off; make-up working days 09-20 (Sun) and 10-10 (Sat);
#   10-11 (Sun) is an ordinary weekend day.
# A step's deadline counts working days after the day it is entered.


@pytest.mark.parametrize(
    ("state", "entered", "due"),
    [
        # acceptance, 3 working days (project choice)
        # 09-30 Wed → 10-08 Thu (1), 10-09 Fri (2), 10-10 Sat make-up (3)
        ("submitted", date(2026, 9, 30), date(2026, 10, 10)),
        # 09-24 Thu → 09-25..27 Mid-Autumn off; 09-28 (1), 09-29 (2), 09-30 (3)
        ("submitted", date(2026, 9, 24), date(2026, 9, 30)),
        # 11-20 Fri → 11-23 Mon (1), 11-24 (2), 11-25 (3)
        ("submitted", date(2026, 11, 20), date(2026, 11, 25)),
        # investigation, 10 working days (dibao.steps_working_days.investigation)
        # 09-30 → 10-08 (1), 10-09 (2), 10-10 (3), 10-12 (4) … 10-16 (8), 10-19 (9), 10-20 (10)
        ("investigation", date(2026, 9, 30), date(2026, 10, 20)),
        # 09-18 Fri → 09-20 Sun make-up (1), 09-21..24 (2-5), 09-28..30 (6-8), 10-08 (9), 10-09 (10)
        ("investigation", date(2026, 9, 18), date(2026, 10, 9)),
        # appraisal, 4 working days: 09-30 → 10-08, 10-09, 10-10, 10-12
        ("appraisal", date(2026, 9, 30), date(2026, 10, 12)),
        # district approval, 5 working days: 09-29 → 09-30, 10-08, 10-09, 10-10, 10-12
        ("district_approval", date(2026, 9, 29), date(2026, 10, 12)),
        # returned for correction, 10 working days: 11-23 Mon → 12-07 Mon
        ("returned", date(2026, 11, 23), date(2026, 12, 7)),
    ],
)
def test_step_deadlines_count_working_days(state: str, entered: date, due: date) -> None:
    assert workflow.deadline(state, entered) == due


def test_step_days_come_from_the_policy() -> None:
    on = date(2026, 9, 30)
    assert workflow.step_days("acceptance", on) == (3, False)
    assert workflow.step_days("investigation", on) == (10, False)
    assert workflow.step_days("public_notice", on) == (7, True)  # calendar days
    assert workflow.step_days("district_approval", on) == (5, False)


@pytest.mark.parametrize(
    ("posted", "last_day", "close_due"),
    [
        # 7 calendar days 11-23 … 11-29 (Sun); closing due the next working day, Mon 11-30
        (date(2026, 11, 23), date(2026, 11, 29), date(2026, 11, 30)),
        # 09-28 … 10-04 (inside the holiday); next working day after 10-04 is 10-08
        (date(2026, 9, 28), date(2026, 10, 4), date(2026, 10, 8)),
        # 10-03 … 10-09 (Fri); the next working day is the make-up Saturday 10-10
        (date(2026, 10, 3), date(2026, 10, 9), date(2026, 10, 10)),
    ],
)
def test_public_notice_runs_calendar_days_and_closes_the_next_working_day(
    posted: date, last_day: date, close_due: date
) -> None:
    assert workflow.notice_period(posted) == (posted, last_day)
    assert workflow.deadline("public_notice", posted, notice_ends_on=last_day) == close_due


def test_decided_lines_have_no_deadline() -> None:
    for state in TERMINAL:
        assert workflow.deadline(state, date(2026, 9, 30)) is None


def test_the_case_shows_holiday_aware_due_dates(
    api: Callable[[str], Client], poor: Household, today: Clock
) -> None:
    today.day = date(2026, 9, 30)
    app = apply(api, poor, "dibao")
    assert app["lines"][0]["step_due"] == "2026-10-10"  # acceptance, see above
    worker = api("community_worker")
    line = act(worker, app["id"], "accept").json()["lines"][0]
    assert (line["state"], line["step_entered_on"], line["step_due"]) == (
        "investigation",
        "2026-09-30",
        "2026-10-20",
    )
    today.day = date(2026, 10, 21)
    assert worker.get(f"/api/v1/applications/{app['id']}").json()["lines"][0]["overdue"] is True
    today.day = date(2026, 10, 20)
    line = act(worker, app["id"], "record_visit", visit=VISIT).json()["lines"][0]
    assert line["overdue"] is False and line["state"] == "verification"
