"""Who hears of a provider's application, approval and suspension, and that the e-mails go out
after commit, through the services whichever screen made the change."""

import pytest
from django.core import mail
from django.urls import reverse

from portal.testing import admin_url, make_user
from providers import notifications, services
from providers.models import Provider

pytestmark = pytest.mark.django_db


def enqueued(callbacks) -> list[tuple]:
    """The (kind, provider id) of each notification the callbacks would enqueue."""
    return [callback.args for callback in callbacks if getattr(callback, "func", None) == notifications.notify.delay]


def test_an_application_mails_the_applicant_and_the_reviewers(
    client, dave, admin_user, django_capture_on_commit_callbacks
):
    make_user("helper", is_staff=True)  # staff without the permission to approve: not a reviewer
    client.force_login(dave)
    with django_capture_on_commit_callbacks() as callbacks:
        client.post(
            reverse("accounts:apply_provider"),
            {
                "name": "Nordic GPU",
                "hq_country": "SE",
                "contact_email": "sales@nordic-gpu.example",
                "legal_entity": "Nordic GPU AB",
                "registration_number": "556000-0000",
                "vat_number": "SE556000000001",
            },
        )
    provider = Provider.objects.get(name="Nordic GPU")
    assert enqueued(callbacks) == [("application_received", provider.pk)]

    notifications.notify("application_received", provider.pk)

    to_applicant, to_reviewers = mail.outbox
    assert sorted(to_applicant.to) == ["dave@example.com", "sales@nordic-gpu.example"]
    assert "Nordic GPU" in to_applicant.subject and "/dashboard/nordic-gpu/" in to_applicant.body
    assert to_reviewers.to == [admin_user.email]
    assert "556000-0000" in to_reviewers.body and "SE556000000001" in to_reviewers.body
    assert "dave <dave@example.com>" in to_reviewers.body
    assert admin_url(Provider, "change", provider.pk) in to_reviewers.body


def test_approval_mails_the_owners(acme, alice, django_capture_on_commit_callbacks):
    Provider.objects.filter(pk=acme.pk).update(status=Provider.Status.PENDING, contact_email="sales@acme.test")
    acme.refresh_from_db()

    with django_capture_on_commit_callbacks() as callbacks:
        services.provider_approve(provider=acme)
    assert enqueued(callbacks) == [("provider_approved", acme.pk)]
    notifications.notify("provider_approved", acme.pk)

    [message] = mail.outbox
    assert sorted(message.to) == ["alice@example.com", "sales@acme.test"]  # bob is staff, not an owner
    assert "approved" in message.subject and "/providers/acme-gpu/" in message.body


def test_suspension_mails_the_owners(acme, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        services.provider_suspend(provider=acme)
    assert enqueued(callbacks) == [("provider_suspended", acme.pk)]
    notifications.notify("provider_suspended", acme.pk)

    [message] = mail.outbox
    assert message.to == ["alice@example.com"] and "suspended" in message.subject


def test_no_change_no_mail(acme, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        assert services.provider_approve(provider=acme) is False  # approved already
    assert enqueued(callbacks) == []


def test_nothing_is_sent_for_a_provider_that_is_gone(db):
    assert notifications.notify("provider_approved", 123456) == 0
    assert mail.outbox == []


def test_the_admin_actions_mail_through_the_services(admin_client, acme, beta, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        admin_client.post(admin_url(Provider, "changelist"), {"action": "suspend", "_selected_action": [acme.pk]})
    assert enqueued(callbacks) == [("provider_suspended", acme.pk)]


def test_a_status_changed_on_the_change_form_goes_through_the_services(
    admin_client, admin_user, acme, django_capture_on_commit_callbacks
):
    Provider.objects.filter(pk=acme.pk).update(status=Provider.Status.PENDING)
    page = admin_client.get(admin_url(Provider, "change", acme.pk))
    data = {**page.context["adminform"].form.initial, "status": "approved", "description": "Checked."}
    data = {key: value for key, value in data.items() if value is not None}
    for prefix in ("memberships", "regions", "certification_records"):
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0})

    with django_capture_on_commit_callbacks() as callbacks:
        response = admin_client.post(admin_url(Provider, "change", acme.pk), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    acme.refresh_from_db()
    assert (acme.status, acme.approved_by, acme.description) == ("approved", admin_user, "Checked.")
    assert enqueued(callbacks) == [("provider_approved", acme.pk)]
