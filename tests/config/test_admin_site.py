"""The admin site: a save or an action a service refuses says why on the admin's own page (the
form again, as typed, or a message on the list), never a bare 403 or a 500."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.urls import reverse

from audit.models import AuditEvent
from committee import services as committee_services
from committee.models import CalendarFeed
from config.admin_site import ShowsRefusals
from quality.models import Threshold
from systems import services as systems_services
from systems.models import SuspensionOrder
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def staff(user, *, superuser: bool = True):
    user.is_staff = True
    user.is_superuser = superuser
    user.save()
    return user


def errors_on_the_form(response) -> dict[str | None, list[str]]:
    """The refused form's errors: per field, and None for those at the top."""
    form = response.context["adminform"].form
    errors = {name: list(messages) for name, messages in form.errors.items()}
    errors[None] = errors.pop("__all__", [])
    return errors


def test_every_registered_admin_shows_refusals():
    """One place for every admin, the libraries' too: none can forget it."""
    assert admin.site._registry
    for model, model_admin in admin.site._registry.items():
        assert isinstance(model_admin, ShowsRefusals), model


def test_a_refused_save_shows_the_reason_on_the_form_as_typed(login_as, admin_user):
    spi = Threshold.objects.get(indicator="spi")
    before = (spi.green, spi.red)
    url = reverse("admin:quality_threshold_change", args=[spi.pk])
    response = login_as(admin_user).post(url, {"indicator": "spi", "green": "0.77", "red": "0.66"})
    assert response.status_code == 403  # the refusal's own status, on the admin's own page
    assert "admin/change_form.html" in [template.name for template in response.templates]
    assert errors_on_the_form(response)[None] == [
        "Only the CQO (or the chair) sets quality thresholds."
    ]
    page = response.content.decode()
    assert 'class="errornote"' in page and "Only the CQO (or the chair)" in page
    assert 'value="0.77"' in page and 'value="0.66"' in page  # what was typed, kept
    spi.refresh_from_db()
    assert (spi.green, spi.red) == before
    refusal = AuditEvent.objects.get(verb="authz.refused")  # as on the pages: a trace
    assert refusal.actor == admin_user and refusal.details["path"] == url


def test_refused_input_is_shown_beside_its_field(login_as, cqo):
    spi = Threshold.objects.get(indicator="spi")
    url = reverse("admin:quality_threshold_change", args=[spi.pk])
    response = login_as(staff(cqo)).post(url, {"indicator": "spi", "green": "0.5", "red": "0.9"})
    assert response.status_code == 400
    errors = errors_on_the_form(response)
    assert errors["green"] == ["For this indicator higher is better: green must not be below red."]
    assert errors[None] == []
    assert not AuditEvent.objects.filter(verb__in=["quality.threshold_set", "authz.refused"])


def test_a_conflicting_save_says_so_and_changes_nothing(login_as, ciso, unit):
    registrar = UserFactory.create(is_superuser=True, is_staff=True)
    system = systems_services.register_system(
        actor=registrar, unit=unit, code="project-share", name="Project sharing tool"
    )
    systems_services.suspend_system(actor=ciso, system=system, reason="Unknown logins.")
    response = login_as(staff(ciso)).post(
        reverse("admin:systems_suspensionorder_add"),
        {"system": system.pk, "case": "", "reason": "Again, from the admin."},
    )
    assert response.status_code == 409
    assert errors_on_the_form(response)[None] == ["project-share is already suspended."]
    assert "Again, from the admin." in response.content.decode()
    assert SuspensionOrder.objects.filter(system=system).count() == 1


def test_a_refused_action_says_why_on_the_list(login_as, bu_member, secretary):
    feed, _token = committee_services.create_calendar_feed(actor=bu_member)
    clerk = staff(secretary, superuser=False)
    clerk.user_permissions.add(Permission.objects.get(codename="view_calendarfeed"))
    client = login_as(clerk)
    url = reverse("admin:committee_calendarfeed_changelist")
    response = client.post(url, {"action": "revoke", "_selected_action": [feed.pk]})
    assert response.status_code == 302 and response["Location"] == url
    page = client.get(url)
    assert page.status_code == 200
    shown = [str(message) for message in page.context["messages"]]
    assert shown == ["Not done: Only its owner (or an administrator) revokes a calendar feed."]
    assert CalendarFeed.objects.get(pk=feed.pk).revoked_at is None
    assert AuditEvent.objects.filter(verb="authz.refused", actor=clerk).count() == 1


def test_djangos_own_refusal_stays_a_403(login_as, admin_user):
    """No change permission is the admin's rule, not a service's: the product's 403 page."""
    from audit import services as audit

    event = audit.record(actor=admin_user, verb="test.event")
    url = reverse("admin:audit_auditevent_change", args=[event.pk])
    response = login_as(admin_user).post(url, {"verb": "rewritten"})
    assert response.status_code == 403
    assert response.templates[0].name == "403.html"
