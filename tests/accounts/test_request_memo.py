"""Permission answers are remembered within one reading request and asked afresh everywhere else."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import Group
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from accounts import policy
from accounts.models import OfficeCode, Role, User
from accounts.request_memo import RequestMemoMiddleware, remembering
from tests.factories import DelegationFactory, OfficeFactory, UserFactory


def _through_middleware(method: str, view: Callable[[HttpRequest], Any]) -> int:
    """Run `view` inside a request with the memo's middleware; the queries it ran."""
    request = RequestFactory().generic(method, "/")

    def respond(request: HttpRequest) -> HttpResponse:
        view(request)
        return HttpResponse()

    with CaptureQueriesContext(connection) as queries:
        RequestMemoMiddleware(respond)(request)
    return len(queries.captured_queries)


def _ask_everything(user: User, answers: list[Any]) -> Callable[[HttpRequest], None]:
    def view(request: HttpRequest) -> None:
        for _ in range(3):
            policy.has_role(user, Role.CHAIR)  # another role: the same one read of them all
            answers.append(
                (
                    policy.reads_everything(user),
                    policy.acting_office(user, OfficeCode.CISO),
                    policy.office_capacity(user, OfficeCode.CISO),
                    policy.has_role(user, Role.AUDITOR),
                )
            )

    return view


def test_within_one_reading_request_each_answer_is_asked_once(db) -> None:
    user = UserFactory.create()
    answers: list[Any] = []
    # reads_everything, the offices (held and acting, one statement), the roles: once each, not
    # three times.
    assert _through_middleware("GET", _ask_everything(user, answers)) == 3
    assert answers == [(False, None, None, False)] * 3
    assert not remembering()  # and forgotten when the request ends


def test_the_next_request_asks_afresh(db) -> None:
    user = UserFactory.create()
    before: list[Any] = []
    _through_middleware("GET", _ask_everything(user, before))
    user.groups.add(Group.objects.get_or_create(name=str(Role.AUDITOR))[0])
    DelegationFactory(office=OfficeFactory(code=OfficeCode.CISO), delegate=user)
    after: list[Any] = []
    _through_middleware("GET", _ask_everything(user, after))
    assert before[-1] == (False, None, None, False)
    assert after[-1] == (True, OfficeCode.CISO, "acting", True)


def test_a_request_that_writes_asks_every_time(db) -> None:
    user = UserFactory.create()
    answers: list[Any] = []

    def view(request: HttpRequest) -> None:
        answers.append(policy.reads_everything(user))
        user.groups.add(Group.objects.get_or_create(name=str(Role.AUDITOR))[0])
        answers.append(policy.reads_everything(user))

    _through_middleware("POST", view)
    assert answers == [False, True]


def test_outside_a_request_every_answer_is_fresh(db) -> None:
    user = UserFactory.create()
    assert not policy.reads_everything(user) and not policy.has_role(user, Role.AUDITOR)
    user.groups.add(Group.objects.get_or_create(name=str(Role.AUDITOR))[0])
    assert policy.reads_everything(user) and policy.has_role(user, Role.AUDITOR)
    DelegationFactory(office=OfficeFactory(code=OfficeCode.CISO), delegate=user)
    assert policy.acting_office(user, OfficeCode.CISO) == OfficeCode.CISO


def test_people_are_told_apart_within_a_request(db, auditor) -> None:
    other = UserFactory.create()
    answers: list[bool] = []

    def view(request: HttpRequest) -> None:
        answers.extend([policy.reads_everything(auditor), policy.reads_everything(other)])

    _through_middleware("GET", view)
    assert answers == [True, False]
