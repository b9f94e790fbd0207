"""Two people acting on the same case at the same moment: exactly one of them wins.

Run through the HTTP API from two threads, each with its own database connection.
A ``threading.Barrier`` inside the request holds both threads just after they have
read the case inside their transaction, so both requests are in flight together
when they try to move the line; the row lock (and the version check behind it)
must turn the second into a 409 that changes nothing.

PostgreSQL only: SQLite takes one writer at a time for the whole database, so there
is no race to lose there. CI runs the suite a second time on PostgreSQL.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from minzheng.accounts import access
from minzheng.accounts.models import User
from minzheng.accounts.roles import Role
from minzheng.accounts.services import token_create, user_create
from minzheng.applications import services
from minzheng.applications.models import Application, ApplicationLine, Transition
from minzheng.registry.models import Household
from tests.applications.conftest import Clock, post
from tests.applications.test_workflow_api import VISIT
from tests.fixtures import COMMUNITY_A, Cast, pensioner

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="concurrency needs PostgreSQL row locks; run with "
        "DATABASE_URL=postgres://postgres@127.0.0.1:5432/minzheng_test_conc",
    ),
    # committed data, so that the threads' own connections see it; the divisions of the
    # data migration are restored afterwards for the tests that follow
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
ROUNDS = 5
START = date(2026, 11, 23)  # a Monday
LOSING_CODES = {"workflow.illegal_transition", "workflow.stale"}


def bearer(user: User) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {token_create(username=user.username)}")


@contextmanager
def meeting(name: str, parties: int = 2) -> Iterator[threading.Barrier]:
    """While inside, the threads meet right after their first call of ``access.<name>``:
    each has read the case in its request's transaction and none has moved it yet."""
    barrier = threading.Barrier(parties, timeout=30)
    met = threading.local()
    real = getattr(access, name)

    def gated(*args: Any, **kwargs: Any) -> Any:
        found = real(*args, **kwargs)
        if not getattr(met, "done", False):
            met.done = True
            barrier.wait()
        return found

    setattr(access, name, gated)
    try:
        yield barrier
    finally:
        setattr(access, name, real)
        barrier.abort()


def race(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls in threads at once; return their responses in order."""
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            results[i] = calls[i]()
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a request never finished (deadlock?)"
    assert not errors, errors
    return results


def transition(client: Client, app_id: int, action: str, **extra: Any) -> Callable[[], Any]:
    body = {"action": action, "reason": extra.pop("reason", "经办"), **extra}
    return lambda: post(client, f"/api/v1/applications/{app_id}/transitions", body)


def one_winner(responses: list[Any], ok: int = 200) -> tuple[Any, Any]:
    statuses = sorted(r.status_code for r in responses)
    assert statuses == sorted([ok, 409]), [r.content for r in responses]
    winner = next(r for r in responses if r.status_code == ok)
    loser = next(r for r in responses if r.status_code == 409)
    assert loser.json()["code"] in LOSING_CODES, loser.json()
    return winner, loser


def submit(client: Client, body: dict[str, Any]) -> Callable[[], Any]:
    return lambda: post(client, "/api/v1/applications", body)


def new_household(round_: int) -> Household:
    return pensioner("800.00", f"11010219500115{700 + round_:03d}")


def to_district_approval(cast: Cast, household: Household, today: Clock) -> Application:
    worker = cast.users[Role.COMMUNITY_WORKER]
    today.day = START
    application = services.application_create(
        actor=worker, programmes=["dibao"], household_id=household.pk, include_suggested=False
    )

    def move(actor: User, action: str) -> None:
        services.application_transition(actor=actor, application_id=application.pk,
                                        action=action, reason="经办", visit=VISIT)  # fmt: skip

    for action in ("accept", "record_visit", "verify", "publish_notice"):
        move(worker, action)
    today.advance(7)
    move(worker, "close_notice")
    move(cast.users[Role.STREET_REVIEWER], "review")
    assert application.lines.get().state == "district_approval"
    return application


def test_two_district_approvers_approve_at_once(cast: Cast, today: Clock) -> None:
    second = user_create(username="u_district_2", role=Role.DISTRICT_APPROVER,
                         division_code="110102", password="pw-123456")  # fmt: skip
    approvers = [bearer(cast.users[Role.DISTRICT_APPROVER]), bearer(second)]
    for round_ in range(ROUNDS):
        application = to_district_approval(cast, new_household(round_), today)
        line = application.lines.get()
        before = line.version
        with meeting("access_application_by_id") as barrier:
            responses = race(
                *(transition(c, application.pk, "approve", reason=f"符合条件（{i}）")
                  for i, c in enumerate(approvers))
            )  # fmt: skip
            assert not barrier.broken, "the two requests never met inside the transaction"
        winner, _ = one_winner(responses)
        assert winner.json()["lines"][0]["state"] == "approved"

        line.refresh_from_db()
        assert line.state == "approved"
        assert line.version == before + 1
        approvals = Transition.objects.filter(line=line, action="approve")
        assert approvals.count() == 1
        # the decision on record is the winner's, with the winner's reason
        (moved,) = winner.json()["moved"]
        assert moved == {"programme": "dibao", "from_state": "district_approval",
                         "to_state": "approved"}  # fmt: skip
        assert approvals.get().reason == line.decision_reason
        assert line.decision_reason in {"符合条件（0）", "符合条件（1）"}


def test_two_community_workers_accept_at_once(cast: Cast, today: Clock) -> None:
    second = user_create(username="u_worker_2", role=Role.COMMUNITY_WORKER,
                         division_code=COMMUNITY_A, password="pw-123456")  # fmt: skip
    workers = [bearer(cast.users[Role.COMMUNITY_WORKER]), bearer(second)]
    for round_ in range(ROUNDS):
        today.day = START
        application = services.application_create(
            actor=cast.users[Role.COMMUNITY_WORKER], programmes=["dibao"],
            household_id=new_household(round_).pk, include_suggested=False,
        )  # fmt: skip
        line = application.lines.get()
        assert (line.state, line.version) == ("submitted", 0)
        with meeting("access_application_by_id") as barrier:
            responses = race(*(transition(c, application.pk, "accept") for c in workers))
            assert not barrier.broken
        winner, _ = one_winner(responses)
        assert winner.json()["lines"][0]["state"] == "investigation"

        line.refresh_from_db()
        assert (line.state, line.version) == ("investigation", 1)
        assert Transition.objects.filter(line=line, action="accept").count() == 1
        assert Transition.objects.filter(line=line).count() == 2  # submit, accept


def test_approve_and_return_at_once_leave_one_outcome(cast: Cast, today: Clock) -> None:
    second = user_create(username="u_district_3", role=Role.DISTRICT_APPROVER,
                         division_code="110102", password="pw-123456")  # fmt: skip
    approver, returner = bearer(cast.users[Role.DISTRICT_APPROVER]), bearer(second)
    for round_ in range(ROUNDS):
        application = to_district_approval(cast, new_household(round_), today)
        with meeting("access_application_by_id") as barrier:
            responses = race(
                transition(approver, application.pk, "approve", reason="符合条件"),
                transition(returner, application.pk, "return", reason="缺少收入证明"),
            )
            assert not barrier.broken
        winner, _ = one_winner(responses)
        line = application.lines.get()
        assert line.state == winner.json()["lines"][0]["state"]
        assert line.state in {"approved", "returned"}
        decided = Transition.objects.filter(line=line, action__in=["approve", "return"])
        assert [t.to_state for t in decided] == [line.state]
        if line.state == "returned":
            assert line.amount is None and line.returned_from == "district_approval"


def test_two_workers_take_in_the_same_household_at_once(cast: Cast, today: Clock) -> None:
    second = user_create(username="u_worker_3", role=Role.COMMUNITY_WORKER,
                         division_code=COMMUNITY_A, password="pw-123456")  # fmt: skip
    workers = [bearer(cast.users[Role.COMMUNITY_WORKER]), bearer(second)]
    for round_ in range(ROUNDS):
        household = new_household(round_)
        body = {"household": household.pk, "programmes": ["dibao"], "include_suggested": False}
        with meeting("access_household_by_id") as barrier:
            responses = race(*(submit(c, body) for c in workers))
            assert not barrier.broken
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [201, 409], [r.content for r in responses]
        loser = next(r for r in responses if r.status_code == 409)
        assert loser.json()["code"] == "application.duplicate"
        assert Application.objects.filter(household=household).count() == 1
        assert ApplicationLine.objects.filter(household=household, programme="dibao").count() == 1
