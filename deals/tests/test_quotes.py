"""Quotes: sent by providers the request reached, compared, accepted once; expiry; e-mails."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from deals import notifications, services
from deals.models import Agreement, CapacityRequest, Quote, Recipient
from deals.tests.support import TODAY, file_request, quote_values, send_quote

pytestmark = pytest.mark.django_db


@pytest.fixture
def request_two(developer, acme_h100, beta_h100):
    """dave's request for 64 H100 anywhere: it reached Acme and Beta."""
    return file_request(developer, country_groups=[])


def test_a_quote_makes_the_request_quoted_and_a_new_one_replaces_it(request_two, acme, alice):
    first = send_quote(request_two, acme, author=alice)
    second = send_quote(request_two, acme, author=alice, price_per_gpu_hour="1.95")

    first.refresh_from_db()
    request_two.refresh_from_db()
    assert (first.status, second.status) == (Quote.Status.WITHDRAWN, Quote.Status.OFFERED)
    assert request_two.status == CapacityRequest.Status.QUOTED
    assert Recipient.objects.get(request=request_two, provider=acme).status == Recipient.Status.QUOTED


def test_the_total_covers_every_gpu_over_every_hour(request_two, acme):
    quote = send_quote(request_two, acme, price_per_gpu_hour="2.00")

    assert quote.hours == 90 * 24
    assert quote.total == Decimal("2.00") * 64 * 90 * 24


def test_a_quote_for_a_request_not_routed_to_the_provider_is_impossible(request_two, gamma):
    with pytest.raises(Recipient.DoesNotExist):
        send_quote(request_two, gamma)


def test_accepting_closes_the_request_declines_the_others_and_records_the_contacts(
    request_two, acme, beta, developer, django_capture_on_commit_callbacks
):
    acme.contact_email, acme.website = "sales@acme.test", "https://acme.test"
    acme.save()
    taken = send_quote(request_two, acme)
    other = send_quote(request_two, beta)

    with django_capture_on_commit_callbacks() as callbacks:
        agreement = services.quote_accept(quote=taken, developer=developer)

    other.refresh_from_db()
    request_two.refresh_from_db()
    assert request_two.status == CapacityRequest.Status.ACCEPTED
    assert other.status == Quote.Status.DECLINED and other.decline_reason == "Another quote was accepted."
    assert (agreement.provider_contact_email, agreement.developer_email) == ("sales@acme.test", "dave@example.com")
    assert (agreement.developer_organisation, agreement.price_per_gpu_hour) == ("Dave's Lab", Decimal("2.1"))
    assert sorted(callback.args[0] for callback in callbacks) == ["quote_accepted", "quote_declined"]


def test_a_quote_is_accepted_once_and_only_by_its_developer(request_two, acme, beta, developer, erin):
    taken, other = send_quote(request_two, acme), send_quote(request_two, beta)

    with pytest.raises(PermissionDenied):
        services.quote_accept(quote=taken, developer=erin)
    services.quote_accept(quote=taken, developer=developer)
    with pytest.raises(ValidationError, match="closed"):
        services.quote_accept(quote=other, developer=developer)
    assert Agreement.objects.count() == 1


def test_an_expired_quote_cannot_be_accepted_and_expiry_marks_it(request_two, acme, developer):
    quote = send_quote(request_two, acme, valid_until=TODAY)

    assert services.quotes_expire(today=TODAY + timedelta(days=1)) == 1
    quote.refresh_from_db()
    assert quote.status == Quote.Status.EXPIRED
    with pytest.raises(ValidationError, match="no longer be accepted"):
        services.quote_accept(quote=quote, developer=developer)


def test_requests_expire_at_their_start_unless_extended(request_two, acme, developer):
    quote = send_quote(request_two, acme)

    assert services.requests_expire(today=request_two.start_date - timedelta(days=1)) == 0
    assert services.requests_expire(today=request_two.start_date) == 1
    request_two.refresh_from_db()
    quote.refresh_from_db()
    assert (request_two.status, quote.status) == (CapacityRequest.Status.EXPIRED, Quote.Status.EXPIRED)

    services.request_extend(request=request_two, start_date=TODAY + timedelta(days=60))
    request_two.refresh_from_db()
    assert request_two.status == CapacityRequest.Status.OPEN
    assert (request_two.end_date - request_two.start_date).days == 90


def test_withdrawing_withdraws_the_quotes_on_offer(request_two, acme):
    quote = send_quote(request_two, acme)

    services.request_withdraw(request=request_two)

    quote.refresh_from_db()
    assert quote.status == Quote.Status.WITHDRAWN
    with pytest.raises(ValidationError):
        send_quote(request_two, acme)


def test_a_provider_declines_with_a_reason(request_two, acme):
    recipient = Recipient.objects.get(request=request_two, provider=acme)

    with pytest.raises(ValidationError):
        services.recipient_decline(recipient=recipient, reason="  ")
    services.recipient_decline(recipient=recipient, reason="Sold out until June.")

    recipient.refresh_from_db()
    assert (recipient.status, recipient.declined_reason) == (Recipient.Status.DECLINED, "Sold out until June.")


def test_quote_validation_names_the_field(request_two, acme):
    recipient = Recipient.objects.get(request=request_two, provider=acme)
    with pytest.raises(ValidationError) as error:
        services.quote_submit(recipient=recipient, author=None, **quote_values(request_two, currency="dollars"))
    assert "currency" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.quote_submit(
            recipient=recipient, author=None, **quote_values(request_two, valid_until=TODAY - timedelta(days=1))
        )
    assert "valid_until" in error.value.message_dict


# --- E-mails: who hears what -----------------------------------------------------------------


def test_the_reached_provider_is_mailed_without_the_developers_contact(request_two, acme, alice):
    acme.contact_email = "sales@acme.test"
    acme.save()

    notifications.notify("request_routed", request_two.pk, [acme.pk])

    [message] = mail.outbox
    assert set(message.to) == {"sales@acme.test", "alice@example.com"}
    assert "64 GPUs (H100 SXM 80GB)" in message.subject
    assert f"/dashboard/acme-gpu/requests/{request_two.pk}/" in message.body
    assert "dave@example.com" not in message.body and "Dave's Lab" not in message.body


def test_acceptance_mails_each_side_the_others_contact(request_two, acme, developer):
    acme.contact_email = "sales@acme.test"
    acme.save()
    agreement = services.quote_accept(quote=send_quote(request_two, acme), developer=developer)

    notifications.notify("quote_accepted", agreement.pk)

    to_provider, to_developer = mail.outbox
    assert "dave@example.com" in to_provider.body and "Dave's Lab" in to_provider.body
    assert to_developer.to == ["dave@example.com"] and "sales@acme.test" in to_developer.body


def test_a_quote_mails_the_developer(request_two, acme):
    quote = send_quote(request_two, acme)

    notifications.notify("quote_received", quote.pk)

    [message] = mail.outbox
    assert message.to == ["dave@example.com"] and "Acme GPU" in message.subject
    assert f"/requests/{request_two.pk}/" in message.body
