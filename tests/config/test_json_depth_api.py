"""The acceptance tester's 200 KB of nesting, sent as a JSON body: a 400 saying so, never a 500
(Python's decoder recurses once a level and gives up with a RecursionError), nothing written."""

from __future__ import annotations

import pytest

from actions.models import Action
from audit.models import AuditEvent
from systems.models import System
from tests.actions.conftest import task
from tests.systems.conftest import register

pytestmark = pytest.mark.django_db

ARRAYS = "[" * 100_000 + "]" * 100_000  # 200 KB, as uploaded
OBJECTS = '{"note":' * 20_000 + "1" + "}" * 20_000
TOO_DEEP = "JSON parse error - the body nests deeper than 32 levels."


def test_a_deep_body_is_a_400_on_a_json_and_multipart_endpoint(login_as, unit, ciso, bu_member):
    action = task(unit, ciso)
    client = login_as(bu_member)
    url = f"/api/v1/actions/{action.pk}/updates/"
    etag = client.get(f"/api/v1/actions/{action.pk}/", headers={"Accept": "application/json"})[
        "ETag"
    ]
    for body in (ARRAYS, OBJECTS):
        response = client.post(
            url,
            body,
            content_type="application/json",
            headers={"Accept": "application/json", "If-Match": etag},
        )
        assert response.status_code == 400, response.content[:300]
        assert response["Content-Type"] == "application/json"
        assert response.json()["detail"] == TOO_DEEP
    assert not Action.objects.get(pk=action.pk).updates.exists()


def test_a_deep_body_with_an_idempotency_key_is_a_400_and_the_key_stays_free(login_as, unit, ciso):
    """The key's fingerprint reads the body too: the parser's refusal comes first."""
    system = register(unit, "cert-issuance")
    client = login_as(ciso)
    before = AuditEvent.objects.count()
    url = f"/api/v1/systems/{system.pk}/suspend/"
    for body in (ARRAYS, OBJECTS):
        response = client.post(
            url,
            body,
            content_type="application/json",
            headers={"Accept": "application/json", "Idempotency-Key": "deep-1"},
        )
        assert response.status_code == 400, response.content[:300]
        assert response.json()["detail"] == TOO_DEEP
    assert System.objects.get(pk=system.pk).status == system.status
    assert AuditEvent.objects.count() == before
    done = client.post(
        url,
        {"reason": "The certificate key leaked"},
        content_type="application/json",
        headers={"Accept": "application/json", "Idempotency-Key": "deep-1"},
    )
    assert done.status_code in {200, 201}, done.content[:300]
