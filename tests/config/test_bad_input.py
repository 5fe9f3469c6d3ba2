"""Garbage on every write endpoint: a clear 4xx with what was wrong, never a 500, nothing lost."""

from __future__ import annotations

import json

import pytest

from audit.models import AuditEvent
from tests.cases.conftest import report, risk, risk_matrix  # noqa: F401 - fixture
from tests.systems.conftest import register

pytestmark = pytest.mark.django_db

NOT_AN_OBJECT = [[], "text", 42, None]
GARBAGE = [
    {"reason": ["a", "list"]},
    {"reason": {"nested": {"deeper": [1, 2, {"x": None}]}}},
    {"title": "x" * 100_000},
    {"criteria": "internet_facing"},
    {"severity": None, "status": "closed"},
    {"likelihood": 1e309},
    {"detected_at": "2026-13-45T99:99:99"},
    {"unit": {"code": "PUBSEC"}},
    {"affected_systems": [None, 5, {"code": "x"}]},
]


@pytest.fixture
def world(unit, bu_member, bu_head, ciso):
    from systems import services as systems_services

    system = register(unit, "cert-issuance")
    other = register(unit, "portal")
    order = systems_services.suspend_system(actor=ciso, system=other, reason="x")
    incident = report(unit, bu_member)
    a_risk = risk(unit, bu_member)
    return {"system": system, "order": order, "incident": incident, "risk": a_risk}


def endpoints(world):
    s, o, i, r = world["system"].pk, world["order"].pk, world["incident"].pk, world["risk"].pk
    posts = [
        ("bu_member", "/api/v1/systems/"),
        ("bu_member", "/api/v1/systems/match/"),
        ("ciso", f"/api/v1/systems/{s}/suspend/"),
        ("ciso", f"/api/v1/suspensions/{o}/lift/"),
        ("bu_member", "/api/v1/incidents/"),
        ("bu_member", f"/api/v1/incidents/{i}/triage/"),
        ("bu_member", f"/api/v1/incidents/{i}/close/"),
        ("bu_member", f"/api/v1/incidents/{i}/severity/"),
        ("bu_member", f"/api/v1/incidents/{i}/timeline/"),
        ("bu_member", f"/api/v1/incidents/{i}/measures/"),
        ("bu_member", "/api/v1/risks/"),
        ("bu_member", f"/api/v1/risks/{r}/assess/"),
    ]
    patches = [
        ("bu_member", f"/api/v1/systems/{s}/"),
        ("bu_member", f"/api/v1/incidents/{i}/"),
        ("bu_member", f"/api/v1/risks/{r}/"),
    ]
    return posts, patches


BODILESS: set[str] = set()  # endpoints that read no body (risk transitions) ignore it


def test_no_write_endpoint_answers_garbage_with_a_500(request, login_as, world):
    posts, patches = endpoints(world)
    BODILESS.add(f"/api/v1/risks/{world['risk'].pk}/assess/")
    before = AuditEvent.objects.count()
    for who, path in posts + patches:
        client = login_as(request.getfixturevalue(who))
        for body in NOT_AN_OBJECT + GARBAGE:
            if (who, path) in patches:
                etag = client.get(path)["ETag"]
                response = client.patch(
                    path, json.dumps(body), content_type="application/json", HTTP_IF_MATCH=etag
                )
            else:
                response = client.post(path, json.dumps(body), content_type="application/json")
            assert response.status_code < 500, (path, body, response.content[:300])
            assert response["Content-Type"].startswith("application/json"), (path, body)
            if body in NOT_AN_OBJECT and path not in BODILESS:
                assert response.status_code == 400, (path, body, response.status_code)
        if (who, path) in patches:
            etag = client.get(path)["ETag"]
            broken = client.patch(
                path, "{not json", content_type="application/json", HTTP_IF_MATCH=etag
            )
        else:
            broken = client.post(path, "{not json", content_type="application/json")
        assert broken.status_code == 400, path
        client.logout()
    # Garbage changed nothing that matters: only transitions that accept any body moved.
    verbs = set(
        AuditEvent.objects.all()[: AuditEvent.objects.count() - before].values_list(
            "verb", flat=True
        )
    )
    assert verbs <= {"auth.login", "auth.logout", "incident.triaged", "risk.assessed"}


@pytest.mark.django_db
def test_a_url_that_matches_no_api_route_is_a_json_404(login_as, ciso):
    client = login_as(ciso)
    for url in ("/api/v1/systems/1.5/", "/api/v1/systems/a/b/", "/api/v1/no-such-thing/"):
        response = client.get(url, HTTP_ACCEPT="application/json")
        assert response.status_code == 404, url
        assert response["Content-Type"] == "application/json", url
        assert response.json() == {"detail": "Not found."}, url
    page = client.get("/no-such-page/")
    assert page.status_code == 404
    assert page["Content-Type"].startswith("text/html")


DEEP = "[" * 1000 + "]" * 1000
DEEPER_OBJECT = '{"a":' * 5000 + "1" + "}" * 5000


def test_json_nested_past_any_sense_is_a_400_on_every_json_endpoint(request, login_as, world):
    posts, patches = endpoints(world)
    for who, path in posts + patches:
        client = login_as(request.getfixturevalue(who))
        method = "PATCH" if (who, path) in patches else "POST"
        etag = client.get(path)["ETag"] if method == "PATCH" else ""
        for body in (DEEP, DEEPER_OBJECT):
            response = client.generic(
                method, path, body, content_type="application/json", HTTP_IF_MATCH=etag
            )
            assert response.status_code == 400, (path, response.content[:200])
            assert "nests deeper" in response.json()["detail"], path
        client.logout()
    assert world["system"].__class__.objects.get(pk=world["system"].pk).name == world["system"].name


def test_depth_is_measured_without_recursion():
    from config.parsers import MAX_DEPTH, depth_exceeds

    nested: object = 1
    for _ in range(MAX_DEPTH):
        nested = [nested]
    assert not depth_exceeds(nested, MAX_DEPTH)
    assert depth_exceeds([nested], MAX_DEPTH)
    assert depth_exceeds({"a": [{"b": [nested]}]}, MAX_DEPTH)
    very: object = {}
    for _ in range(100_000):
        very = {"x": very}
    assert depth_exceeds(very, MAX_DEPTH)  # no RecursionError


def _api_error(response, status: int) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/json", response["Content-Type"]
    body = response.json()
    assert body["detail"], body
    return body


def test_requests_django_refuses_before_a_view_are_json_under_the_api(login_as, bu_member, unit):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from cases.models import Incident

    client = login_as(bu_member)
    too_big = '{"title": "' + "x" * (3 * 1024 * 1024) + '"}'
    _api_error(client.post("/api/v1/incidents/", too_big, content_type="application/json"), 413)
    files = {f"f{i}": SimpleUploadedFile(f"a{i}.txt", b"x") for i in range(150)}
    body = _api_error(client.post("/api/v1/incidents/", files), 400)
    assert "files" in body["detail"]
    fields = {f"k{i}": "v" for i in range(1500)}
    assert "fields" in _api_error(client.post("/api/v1/incidents/", fields), 400)["detail"]
    bogus = client.generic(
        "POST",
        "/api/v1/incidents/",
        b"title=x",
        content_type="application/x-www-form-urlencoded; charset=bogus",
    )
    assert "bogus" in _api_error(bogus, 400)["detail"]
    broken_multipart = client.generic(
        "POST",
        "/api/v1/incidents/",
        b"--zz\r\nnonsense",
        content_type="multipart/form-data; boundary=zz",
    )
    assert broken_multipart.status_code == 400
    assert broken_multipart["Content-Type"] == "application/json"
    long_name = SimpleUploadedFile(
        "x" * 1000 + ".pdf", b"%PDF-1.4\n", content_type="application/pdf"
    )
    named = client.post("/api/v1/incidents/", {"title": "t", "evidence": long_name})
    assert named.status_code == 400 and named["Content-Type"] == "application/json"
    assert not Incident.objects.exists()


def test_a_page_with_an_unknown_charset_is_a_400_not_a_500(login_as, bu_member, unit) -> None:
    client = login_as(bu_member)
    response = client.generic(
        "POST",
        "/incidents/new/",
        b"title=x",
        content_type="application/x-www-form-urlencoded; charset=bogus",
    )
    assert response.status_code == 400


def test_a_lone_surrogate_is_a_400_not_an_encoding_error(login_as, bu_member, unit):
    from cases.models import Incident

    client = login_as(bu_member)
    for body in ('{"title": "\\ud800"}', '{"\\udfff": 1}', '{"a": [{"b": "x\\ud83d"}]}'):
        response = client.post("/api/v1/incidents/", body, content_type="application/json")
        assert _api_error(response, 400)["detail"].startswith("JSON parse error"), body
    paired = client.post(
        "/api/v1/incidents/", '{"title": "\\ud83d\\ude00"}', content_type="application/json"
    )
    assert paired.status_code == 400 and "title" not in paired.json()  # a real emoji is text
    assert not Incident.objects.exists()


@pytest.mark.parametrize("charset", ["bogus", "rot13", "base64", "zlib"])
def test_a_charset_that_decodes_no_text_is_a_400_through_every_door(
    login_as, bu_member, unit, charset
):
    """Unknown names and codecs that are not text encodings alike: Django's form parsing
    raises LookupError on both (a 500), and on the latter even before any middleware."""
    from wsgiref.util import setup_testing_defaults

    from config.wsgi import application

    client = login_as(bu_member)
    kind = f"application/x-www-form-urlencoded; charset={charset}"
    api = client.generic("POST", "/api/v1/incidents/", b"title=x", content_type=kind)
    assert charset in _api_error(api, 400)["detail"]
    page = client.generic("POST", "/incidents/new/", b"title=x", content_type=kind)
    assert page.status_code == 400
    multipart = client.generic(
        "POST",
        "/api/v1/incidents/",
        b"--zz--\r\n",
        content_type=f"multipart/form-data; boundary=zz; charset={charset}",
    )
    assert multipart.status_code == 400
    # Through the WSGI application a server runs: a query string is decoded while Django
    # builds the request, before the middleware; the wrapper answers first.
    answers: list[str] = []
    for path in ("/api/v1/incidents/", "/incidents/new/"):
        environ: dict = {"REQUEST_METHOD": "POST", "PATH_INFO": path, "QUERY_STRING": "a=1"}
        setup_testing_defaults(environ)
        environ["CONTENT_TYPE"] = kind
        body = b"".join(application(environ, lambda status, headers: answers.append(status)))
        assert answers[-1].startswith("400"), (path, answers[-1])
        assert charset.encode() in body
    from cases.models import Incident

    assert not Incident.objects.exists()


@pytest.mark.parametrize("position", ["0001-01-01T00:00:00", "0001-01-01 00:00:00+14:00"])
def test_a_cursor_at_the_calendars_edge_is_a_404_not_a_500(login_as, bu_member, unit, position):
    from base64 import b64encode
    from urllib.parse import urlencode

    cursor = b64encode(urlencode({"p": position, "r": "1"}).encode()).decode()
    response = login_as(bu_member).get("/api/v1/incidents/", {"cursor": cursor})
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


def test_an_incident_names_at_most_two_hundred_systems(login_as, bu_member, unit):
    from cases.models import Incident

    body = {"affected_systems": [f"s{n}" for n in range(100_000)]}
    response = login_as(bu_member).post("/api/v1/incidents/", body, content_type="application/json")
    assert response.status_code == 400
    assert "affected_systems" in response.json()
    assert not Incident.objects.exists()
