"""The vulnerabilities API: advisory imports, findings and decisions on them, the morning-of
exposure question and its directive, and the CISO's remediation deadlines."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from actions.models import Action, Directive
from systems import inventory
from systems.models import System
from tests.conftest import sign_in
from tests.systems.conftest import register
from tests.vulnerabilities.samples import sample
from vulnerabilities.models import Advisory, FeedImport, Finding, RemediationDeadline
from vulnerabilities.services.advisories import import_file

pytestmark = pytest.mark.django_db

LOG4J_OSV = "osv/osvscanner_Maven_GHSA-3pxv-7cmr-fjr4.json"
LOG4J_SBOM = "cyclonedx/defectdojo_cdx_nested-component-log4j.json"
LOG4J = "pkg:maven/org.apache.logging.log4j/log4j-core"
JSON = {"Accept": "application/json"}


def post(client: Client, path: str, body: Any = None, **headers: Any) -> Any:
    return client.post(
        path,
        body if body is not None else {},
        content_type="application/json",
        headers={**JSON, **headers},
    )


def get(client: Client, path: str, **params: Any) -> Any:
    return client.get(path, params, headers=JSON)


def import_osv(actor: User, relative: str = LOG4J_OSV) -> FeedImport:
    with sample(relative).open("rb") as stream:
        return import_file(actor=actor, kind="osv", stream=stream, origin=relative)


def runs_log4j(system: System, actor: User, version: str = "2.13.2") -> None:
    inventory.add_components(
        actor=actor,
        system=system,
        entries=[inventory.Entry("purl", f"{LOG4J}@{version}")],
    )


@pytest.fixture
def other_system(other_unit, other_bu_member) -> System:
    return register(other_unit, "cloud-console", internet_facing=True)


@pytest.fixture
def finding(ciso, bu_member, system) -> Finding:
    import_osv(ciso)
    runs_log4j(system, bu_member)
    return Finding.objects.get(system=system)


# --- Advisories ---------------------------------------------------------------------------------


def upload_feed(client: Client, content: bytes, kind: str = "osv", **headers: Any) -> Any:
    return client.post(
        "/api/v1/advisories/import/",
        {"kind": kind, "file": SimpleUploadedFile("feed.json", content)},
        headers={**JSON, **headers},
    )


def test_the_ciso_imports_an_osv_file(login_as, ciso):
    response = upload_feed(login_as(ciso), sample(LOG4J_OSV).read_bytes())
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["outcome"] == "imported" and body["kind"] == "osv"
    assert body["counts"]["advisories"] == 1
    advisory = Advisory.objects.get()
    assert advisory.source_id == "GHSA-3pxv-7cmr-fjr4"


def test_a_unit_member_may_not_import(login_as, bu_member):
    response = upload_feed(login_as(bu_member), sample(LOG4J_OSV).read_bytes())
    assert response.status_code == 403
    assert not Advisory.objects.exists() and not FeedImport.objects.exists()


def test_a_truncated_file_is_a_400_and_nothing_is_imported(login_as, ciso):
    content = sample(LOG4J_OSV).read_bytes()
    response = upload_feed(login_as(ciso), content[: len(content) // 2])
    assert response.status_code == 400
    assert "file" in response.json()
    assert not Advisory.objects.exists()
    assert list(FeedImport.objects.values_list("outcome", flat=True)) == ["refused"]


def test_an_unknown_kind_is_a_400_naming_kind(login_as, ciso):
    response = upload_feed(login_as(ciso), sample(LOG4J_OSV).read_bytes(), kind="rss")
    assert response.status_code == 400 and "kind" in response.json()


def test_an_import_honours_an_idempotency_key(login_as, ciso):
    client = login_as(ciso)
    content = sample(LOG4J_OSV).read_bytes()
    first = upload_feed(client, content, **{"Idempotency-Key": "feed-1"})
    second = upload_feed(client, content, **{"Idempotency-Key": "feed-1"})
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert FeedImport.objects.count() == 1


def test_advisories_are_read_and_filtered_by_package_and_name(login_as, ciso, bu_member):
    import_osv(ciso)
    import_osv(ciso, "osv/osvscanner_PyPI_PYSEC-2021-98.json")
    client = login_as(bu_member)
    everything = get(client, "/api/v1/advisories/").json()["results"]
    assert len(everything) == 2
    by_package = get(client, "/api/v1/advisories/", package=f"{LOG4J}@2.13.2").json()["results"]
    assert [row["source_id"] for row in by_package] == ["GHSA-3pxv-7cmr-fjr4"]
    row = by_package[0]
    assert "CVE-2026-34480" in [row["vulnerability"], *row["aliases"]]
    assert row["ranges"] and row["ranges"][0]["package"] == LOG4J
    assert {"vers", "rule", "review_only", "platforms"} <= set(row["ranges"][0])
    by_name = get(client, "/api/v1/advisories/", vulnerability="cve-2026-34480").json()
    assert [row["source_id"] for row in by_name["results"]] == ["GHSA-3pxv-7cmr-fjr4"]
    bad = get(client, "/api/v1/advisories/", package="pkg:")
    assert bad.status_code == 400 and "package" in bad.json()
    detail = get(client, f"/api/v1/advisories/{Advisory.objects.earliest('pk').pk}/")
    assert detail.status_code == 200


# --- Findings -----------------------------------------------------------------------------------


def test_an_sbom_upload_makes_findings_the_unit_sees(login_as, ciso, bu_member, system):
    import_osv(ciso)
    client = login_as(bu_member)
    response = client.post(
        f"/api/v1/systems/{system.pk}/sbom/",
        {"file": SimpleUploadedFile("bom.json", sample(LOG4J_SBOM).read_bytes())},
        headers=JSON,
    )
    assert response.status_code == 201, response.content
    rows = get(client, "/api/v1/findings/").json()["results"]
    assert [(row["system"], row["package"], row["version"]) for row in rows] == [
        (system.pk, LOG4J, "2.13.2")
    ]
    assert rows[0]["state"] == "open" and rows[0]["unit"] == "PUBSEC"


def test_another_units_member_does_not_see_the_findings(login_as, finding, other_bu_member, system):
    client = login_as(other_bu_member)
    assert get(client, "/api/v1/findings/").json()["results"] == []
    assert get(client, f"/api/v1/findings/{finding.pk}/").status_code == 404
    assert get(client, f"/api/v1/systems/{system.pk}/components/").status_code == 404
    refused = post(
        client,
        f"/api/v1/findings/{finding.pk}/false-positive/",
        {"reason": "x"},
        **{"If-Match": '"whatever"'},
    )
    assert refused.status_code == 404


def test_the_findings_list_costs_the_same_for_1_or_20(
    login_as, ciso, bu_member, unit, django_assert_num_queries
):
    import_osv(ciso)
    runs_log4j(register(unit, "sys-0"), bu_member)
    client = login_as(ciso)
    get(client, "/api/v1/findings/")  # the session warms up
    with CaptureQueriesContext(connection) as one:
        assert len(get(client, "/api/v1/findings/").json()["results"]) == 1
    for n in range(1, 20):
        runs_log4j(register(unit, f"sys-{n}"), bu_member)
    with django_assert_num_queries(len(one)):
        assert len(get(client, "/api/v1/findings/").json()["results"]) == 20


def test_findings_are_filtered_and_ordered(login_as, ciso, bu_member, unit, finding, system):
    client = login_as(ciso)
    runs_log4j(register(unit, "fixed-one"), bu_member, version="2.25.4")  # not affected
    assert Finding.objects.count() == 1
    for params, expected in [
        ({"unit": "PUBSEC"}, 1),
        ({"unit": "CLOUD"}, 0),
        ({"state": "open"}, 1),
        ({"state": "fixed"}, 0),
        ({"system": system.pk}, 1),
        ({"package": f"{LOG4J}@9"}, 1),
        ({"package": "pkg:pypi/django"}, 0),
        ({"kev": "false"}, 1),
        ({"kev": "true"}, 0),
        ({"overdue": "false"}, 1),
        ({"severity": finding.severity}, 1),
        ({"priority": finding.priority}, 1),
    ]:
        response = get(client, "/api/v1/findings/", **params)
        assert response.status_code == 200, (params, response.content)
        assert len(response.json()["results"]) == expected, params
    Finding.objects.filter(pk=finding.pk).update(due_on=timezone.localdate() - dt.timedelta(days=1))
    assert len(get(client, "/api/v1/findings/", overdue="true").json()["results"]) == 1
    for ordering in ("due_on", "-due_on", "priority", "-severity", "severity"):
        response = get(client, "/api/v1/findings/", ordering=ordering, page_size=1)
        assert response.status_code == 200, ordering
    assert get(client, "/api/v1/findings/", system="1.5").status_code == 400
    assert get(client, "/api/v1/findings/", severity="dire").status_code == 400


def test_a_page_cursor_walks_past_findings_without_a_due_date(login_as, ciso, bu_member, unit):
    import_osv(ciso)
    for n in range(3):
        runs_log4j(register(unit, f"sys-{n}"), bu_member)
    Finding.objects.filter(pk=Finding.objects.earliest("pk").pk).update(
        state=Finding.State.REVIEW, due_on=None
    )
    client = login_as(ciso)
    seen: list[int] = []
    page = get(client, "/api/v1/findings/", ordering="due_on", page_size=1).json()
    while True:
        seen += [row["id"] for row in page["results"]]
        if not page["next"]:
            break
        page = client.get(page["next"], headers=JSON).json()
    assert sorted(seen) == sorted(Finding.objects.values_list("pk", flat=True))


def test_the_units_security_officer_marks_a_false_positive(login_as, finding, security_officer):
    client = login_as(security_officer)
    read = get(client, f"/api/v1/findings/{finding.pk}/")
    etag = read["ETag"]
    path = f"/api/v1/findings/{finding.pk}/false-positive/"
    assert post(client, path, {"reason": "Not loaded."}).status_code == 428
    done = post(client, path, {"reason": "The XmlLayout is never used."}, **{"If-Match": etag})
    assert done.status_code == 200, done.content
    assert done.json()["state"] == "false_positive"
    assert done["ETag"] != etag
    stale = post(client, path, {"reason": "again"}, **{"If-Match": etag})
    assert stale.status_code == 412
    again = post(client, path, {"reason": "again"}, **{"If-Match": done["ETag"]})
    assert again.status_code == 409


def test_a_plain_member_may_not_mark_a_false_positive(login_as, finding, bu_member):
    client = login_as(bu_member)
    etag = get(client, f"/api/v1/findings/{finding.pk}/")["ETag"]
    response = post(
        client,
        f"/api/v1/findings/{finding.pk}/false-positive/",
        {"reason": "Looks fine to me."},
        **{"If-Match": etag},
    )
    assert response.status_code == 403
    finding.refresh_from_db()
    assert finding.state == Finding.State.OPEN


def test_confirm_is_for_findings_to_review(login_as, finding, ciso):
    client = login_as(ciso)
    etag = get(client, f"/api/v1/findings/{finding.pk}/")["ETag"]
    response = post(client, f"/api/v1/findings/{finding.pk}/confirm/", **{"If-Match": etag})
    assert response.status_code == 409


def test_the_ciso_accepts_a_risk_until_a_later_day(login_as, finding, ciso):
    client = login_as(ciso)
    path = f"/api/v1/findings/{finding.pk}/accept/"
    etag = get(client, f"/api/v1/findings/{finding.pk}/")["ETag"]
    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    past = post(
        client, path, {"until": yesterday, "reason": "Vendor fix next month."}, **{"If-Match": etag}
    )
    assert past.status_code == 400 and "until" in past.json()
    until = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    body = {"until": until, "reason": "Vendor fix next month."}
    headers = {"If-Match": etag, "Idempotency-Key": "accept-1"}
    done = post(client, path, body, **headers)
    assert done.status_code == 200, done.content
    assert done.json()["state"] == "accepted" and done.json()["accepted_until"] == until
    replay = post(client, path, body, **headers)
    assert replay.status_code == 200 and replay["Idempotent-Replayed"] == "true"


def test_a_unit_member_may_not_accept_a_risk(login_as, finding, bu_member):
    client = login_as(bu_member)
    etag = get(client, f"/api/v1/findings/{finding.pk}/")["ETag"]
    until = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    response = post(
        client,
        f"/api/v1/findings/{finding.pk}/accept/",
        {"until": until, "reason": "We like it."},
        **{"If-Match": etag},
    )
    assert response.status_code == 403


# --- Exposure -----------------------------------------------------------------------------------


def upload_log4j_sbom(client: Client, system: System) -> None:
    response = client.post(
        f"/api/v1/systems/{system.pk}/sbom/",
        {"file": SimpleUploadedFile("bom.json", sample(LOG4J_SBOM).read_bytes())},
        headers=JSON,
    )
    assert response.status_code == 201, response.content


def test_exposure_answers_which_systems_run_log4j(
    login_as, bu_member, other_bu_member, ciso, system, other_system
):
    upload_log4j_sbom(sign_in(Client(), bu_member), system)
    upload_log4j_sbom(sign_in(Client(), other_bu_member), other_system)
    client = login_as(ciso)
    response = get(client, "/api/v1/exposure/", package=LOG4J, range=">=2.0|<2.17.1")
    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["package"] == LOG4J
    assert answer["range"] == "vers:maven/>=2.0|<2.17.1"
    assert answer["per_unit"] == {"CLOUD": 1, "PUBSEC": 1}
    assert answer["total"] == 2
    row = next(row for row in answer["systems"] if row["id"] == system.pk)
    assert row == {
        "id": system.pk,
        "code": system.code,
        "name": system.name,
        "unit": "PUBSEC",
        "version": "2.13.2",
        "internet_facing": True,
        "handles_personal_data": True,
        "criticality": system.criticality,
        "status": system.status,
    }
    fixed = get(client, "/api/v1/exposure/", package=LOG4J, range=">=2.17.1").json()
    assert fixed["total"] == 0 and fixed["systems"] == []
    # A unit member asks the same question of their own unit's systems.
    own = get(sign_in(Client(), bu_member), "/api/v1/exposure/", package=LOG4J).json()
    assert own["per_unit"] == {"PUBSEC": 1}


def test_exposure_names_a_bad_package_or_range(login_as, ciso):
    client = login_as(ciso)
    bad_package = get(client, "/api/v1/exposure/", package="log4j", range=">=2.0")
    assert bad_package.status_code == 400 and "package" in bad_package.json()
    bad_range = get(client, "/api/v1/exposure/", package=LOG4J, range=">=2.0||<3")
    assert bad_range.status_code == 400 and "range" in bad_range.json()
    missing = get(client, "/api/v1/exposure/")
    assert missing.status_code == 400 and "package" in missing.json()


def test_a_directive_from_the_exposure_answer_makes_one_action_a_system(
    login_as, bu_member, other_bu_member, ciso, system, other_system, unit
):
    upload_log4j_sbom(sign_in(Client(), bu_member), system)
    upload_log4j_sbom(sign_in(Client(), other_bu_member), other_system)
    register(unit, "bystander")  # runs no log4j: no action
    client = login_as(ciso)
    body = {
        "package": LOG4J,
        "range": ">=2.0|<2.17.1",
        "title": "Upgrade log4j-core",
        "body": "Upgrade to 2.17.1 or later.",
        "deadline": (timezone.localdate() + dt.timedelta(days=7)).isoformat(),
    }
    response = post(client, "/api/v1/exposure/directive/", body, **{"Idempotency-Key": "dir-1"})
    assert response.status_code == 201, response.content
    answer = response.json()
    assert answer["actions"] == 2
    assert sorted(answer["systems"]) == sorted([system.pk, other_system.pk])
    directive = Directive.objects.get(reference=answer["reference"])
    assert directive.status == Directive.Status.ISSUED
    assert sorted(
        Action.objects.filter(directive=directive).values_list("system_id", flat=True)
    ) == sorted([system.pk, other_system.pk])
    replay = post(client, "/api/v1/exposure/directive/", body, **{"Idempotency-Key": "dir-1"})
    assert replay.json() == answer and Directive.objects.count() == 1
    nothing = post(client, "/api/v1/exposure/directive/", {**body, "range": ">=9"})
    assert nothing.status_code == 400 and "package" in nothing.json()
    assert Directive.objects.count() == 1


def test_a_unit_member_may_not_direct_from_exposure(login_as, bu_member, system):
    upload_log4j_sbom(login_as(bu_member), system)
    body = {
        "package": LOG4J,
        "title": "Upgrade log4j-core",
        "body": "Upgrade.",
        "deadline": (timezone.localdate() + dt.timedelta(days=7)).isoformat(),
    }
    response = post(login_as(bu_member), "/api/v1/exposure/directive/", body)
    assert response.status_code == 403
    assert not Directive.objects.exists()


# --- Remediation deadlines ----------------------------------------------------------------------


def test_the_ciso_sets_a_deadline_with_if_match(login_as, ciso, bu_member):
    member = sign_in(Client(), bu_member)
    listed = get(member, "/api/v1/remediation-deadlines/")
    assert listed.status_code == 200
    assert [row["priority"] for row in listed.json()] == ["p1", "p2", "p3", "p4"]
    read = get(member, "/api/v1/remediation-deadlines/p1/")
    etag = read["ETag"]
    path = "/api/v1/remediation-deadlines/p1/"

    def patch(client: Client, body: Any, **headers: Any) -> Any:
        return client.patch(
            path, body, content_type="application/json", headers={**JSON, **headers}
        )

    assert patch(member, {"days": 3}, **{"If-Match": etag}).status_code == 403
    client = login_as(ciso)
    assert patch(client, {"days": 3}).status_code == 428
    assert patch(client, {"days": 0}, **{"If-Match": etag}).status_code == 400
    done = patch(client, {"days": 3}, **{"If-Match": etag})
    assert done.status_code == 200, done.content
    assert done.json()["days"] == 3 and done.json()["updated_by"] == "ciso"
    assert patch(client, {"days": 4}, **{"If-Match": etag}).status_code == 412
    assert RemediationDeadline.objects.get(priority="p1").days == 3
