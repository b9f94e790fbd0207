"""The guarded state machine of one programme line, as an explicit transition table.

A programme's *route* (``policy/workflow.yaml``) is the ordered list of steps its line
goes through. Each step is a state in which one role acts: the step's forward action
moves the line to the next step of its route (the last step's is ``approve``). Besides
the forward moves: ``reject`` at acceptance (不予受理) and by the final decider,
``return`` (退回补正) by the role of most steps, ``resubmit`` after a return (back to the
step that returned it), and ``withdraw`` by the resident or the community worker from
any open state. Nothing else is legal; admins do not act in the workflow.

>>> next_state("full", State.SUBMITTED, "accept")
'investigation'
>>> next_state("department", State.SUBMITTED, "accept")
'referred'
>>> sorted(actions_for("full", State.DISTRICT_APPROVAL, "district_approver"))
['approve', 'reject', 'return']
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from importlib import resources
from typing import Any

import yaml

from minzheng.accounts.roles import Role
from minzheng.applications.models import State
from minzheng.core.workdays import add_working_days


@dataclass(frozen=True)
class Step:
    name: str
    state: State
    label: str
    role: Role
    forward: str
    can_return: bool


STEPS: dict[str, Step] = {
    s.name: s
    for s in (
        Step("acceptance", State.SUBMITTED, "受理", Role.COMMUNITY_WORKER, "accept", True),
        Step("investigation", State.INVESTIGATION, "入户调查", Role.COMMUNITY_WORKER, "record_visit", True),
        Step("verification", State.VERIFICATION, "经济状况核对", Role.COMMUNITY_WORKER, "verify", True),
        Step("appraisal", State.APPRAISAL, "民主评议", Role.COMMUNITY_WORKER, "publish_notice", True),
        Step("public_notice", State.PUBLIC_NOTICE, "公示", Role.COMMUNITY_WORKER, "close_notice", False),
        Step("street_review", State.STREET_REVIEW, "街道审核", Role.STREET_REVIEWER, "review", True),
        Step("district_approval", State.DISTRICT_APPROVAL, "区级审批", Role.DISTRICT_APPROVER, "approve", True),
        Step("referral", State.REFERRED, "部门办理", Role.DEPARTMENT_LIAISON, "approve", False),
    )
}  # fmt: skip
STEP_OF_STATE: dict[str, Step] = {s.state.value: s for s in STEPS.values()}

ACTIONS: dict[str, str] = {
    "accept": "受理",
    "record_visit": "录入入户调查",
    "verify": "核对完成",
    "publish_notice": "民主评议并公示",
    "close_notice": "公示期满",
    "review": "街道审核通过",
    "approve": "批准",
    "reject": "不予批准",
    "return": "退回补正",
    "resubmit": "补正后重新提交",
    "withdraw": "撤回申请",
}
ACTIONS_EN: dict[str, str] = {
    "accept": "Accept",
    "record_visit": "Record home visit",
    "verify": "Verification done",
    "publish_notice": "Appraise and post notice",
    "close_notice": "Close notice",
    "review": "Street review passed",
    "approve": "Approve",
    "reject": "Reject",
    "return": "Return for correction",
    "resubmit": "Resubmit",
    "withdraw": "Withdraw",
}
WITHDRAWERS = frozenset({Role.RESIDENT, Role.COMMUNITY_WORKER})
RESUBMITTERS = frozenset({Role.RESIDENT, Role.COMMUNITY_WORKER})
OPEN = frozenset(
    s.value for s in State if s not in (State.APPROVED, State.REJECTED, State.WITHDRAWN)
)


@cache
def _policy() -> dict[str, Any]:
    text = resources.files("minzheng.policy").joinpath("workflow.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def routes() -> dict[str, list[str]]:
    return {k: list(v) for k, v in _policy()["routes"].items()}


def route_of(programme: str) -> tuple[str, str]:
    """(route, owning department or "") of a programme."""
    entry = _policy()["programmes"][programme]
    return str(entry["route"]), str(entry.get("department", ""))


def steps_of(route: str) -> list[Step]:
    return [STEPS[name] for name in routes()[route]]


def first_state(route: str) -> State:
    return steps_of(route)[0].state


def _next(route: str, state: str) -> State:
    names = routes()[route]
    current = STEP_OF_STATE[state].name
    position = names.index(current)
    return STEPS[names[position + 1]].state if position + 1 < len(names) else State.APPROVED


def _decider(route: str) -> Step:
    return steps_of(route)[-1]


def next_state(route: str, state: str, action: str, *, returned_from: str = "") -> str:
    """The state ``action`` leads to from ``state``, or "" when it is not legal there."""
    if state not in OPEN:
        return ""
    if action == "withdraw":
        return State.WITHDRAWN.value
    if state == State.RETURNED:
        return returned_from if action == "resubmit" and returned_from else ""
    step = STEP_OF_STATE.get(state)
    if step is None:
        return ""
    if action == step.forward:
        return _next(route, state).value
    if action == "reject" and (step.name == "acceptance" or step is _decider(route)):
        return State.REJECTED.value
    if action == "return" and step.can_return:
        return State.RETURNED.value
    return ""


def role_for(route: str, state: str, action: str) -> frozenset[str]:
    """The roles that may take ``action`` in ``state``."""
    if action == "withdraw":
        return frozenset(WITHDRAWERS)
    if state == State.RETURNED:
        return frozenset(RESUBMITTERS)
    step = STEP_OF_STATE.get(state)
    return frozenset({step.role.value}) if step else frozenset()


def may_act(actor: Any, line: Any, action: str) -> bool:
    """Whether ``actor`` (a user) may take ``action`` on ``line`` in its current state: the
    step's role, and for a referral the liaison of the owning department."""
    if actor.role not in role_for(line.route, line.state, action):
        return False
    return not (actor.role == Role.DEPARTMENT_LIAISON and actor.department != line.department)


def actions_for(route: str, state: str, role: str, *, returned_from: str = "") -> list[str]:
    """The actions ``role`` may take on a line of ``route`` in ``state``."""
    return [
        a
        for a in ACTIONS
        if next_state(route, state, a, returned_from=returned_from or "submitted")
        and role in role_for(route, state, a)
    ]


def waiting_role(state: str) -> str:
    if state == State.RETURNED:
        return Role.COMMUNITY_WORKER.value
    step = STEP_OF_STATE.get(state)
    return step.role.value if step else ""


def step_days(step: str, as_of: date) -> tuple[int, bool]:
    """(days, calendar_days) allowed for ``step`` entered on ``as_of``."""
    from minzheng.programmes.eligibility import parameter_value

    rule = _policy()["deadlines"][step]
    if "parameter" in rule:
        days = int(parameter_value("dibao.steps_working_days", as_of)[rule["parameter"]])
        return days, bool(rule.get("calendar_days", False))
    return int(rule["days"]), False


def deadline(state: str, entered_on: date, *, notice_ends_on: date | None = None) -> date | None:
    """The date by which the step of ``state`` should be done."""
    if state == State.PUBLIC_NOTICE and notice_ends_on is not None:
        # the notice runs its calendar days; closing it is due the next working day
        return add_working_days(notice_ends_on, 1)
    name = "returned" if state == State.RETURNED else getattr(STEP_OF_STATE.get(state), "name", "")
    if not name:
        return None
    days, calendar = step_days(name, entered_on)
    return entered_on + timedelta(days=days) if calendar else add_working_days(entered_on, days)


def notice_period(starts_on: date) -> tuple[date, date]:
    """(first, last) day of a public notice posted on ``starts_on``."""
    days, _ = step_days("public_notice", starts_on)
    return starts_on, starts_on + timedelta(days=days - 1)


def appeal() -> dict[str, Any]:
    return dict(_policy()["appeal"])


def remaining_steps(route: str, state: str, returned_from: str = "") -> list[Step]:
    """The steps still to come (the current one included) for a line in ``state``."""
    anchor = returned_from if state == State.RETURNED else state
    names = routes()[route]
    step = STEP_OF_STATE.get(anchor)
    if step is None or step.name not in names:
        return []
    return [STEPS[n] for n in names[names.index(step.name) :]]
