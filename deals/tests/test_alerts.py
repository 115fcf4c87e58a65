"""Saved searches and their alerts: incremental, each match once, one digest an hour at most."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone

from deals import emails, services, tasks
from deals.models import AlertCursor, AlertMatch, SavedSearch
from marketplace import services as offer_services
from marketplace.models import GpuModel, OfferSnapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def search(developer):
    """dave watches H100 SXM in Germany, and prices under 2.00 USD."""
    return services.saved_search_create(
        user=developer,
        name="H100 in Germany",
        params=QueryDict("gpu=h100-sxm&country=DE&page=3&sort=-price&country=DE"),
        price_below=Decimal("2.00"),
    )


def new_offer(provider, region, gpu="h100-sxm", **changes):
    values = {
        "region": region,
        "gpu_model": GpuModel.objects.get(slug=gpu),
        "gpus_per_node": 8,
        "pricing_type": "on_demand",
        "price_per_gpu_hour": Decimal("2.50"),
        "currency": "USD",
        "nodes_available": 2,
        "nodes_total": 4,
        "external_id": "",
    }
    values.update(changes)
    return offer_services.offer_create(provider=provider, **values)


def test_a_saved_search_keeps_what_filters_and_what_it_names(search):
    assert search.query == "country=DE&gpu=h100-sxm"
    assert search.country_codes == ["DE"] and len(search.gpu_ids) == 1


def test_a_new_matching_offer_makes_one_match_and_others_none(search, acme, acme_fra, beta, beta_nyc):
    matching = new_offer(acme, acme_fra)
    new_offer(beta, beta_nyc)  # in the US
    new_offer(acme, acme_fra, gpu="l4")  # another GPU

    assert services.alerts_evaluate() == (3, 1)
    assert services.alerts_evaluate() == (0, 0)  # the cursor moved: nothing is matched twice
    [match] = AlertMatch.objects.all()
    assert (match.offer, match.kind, match.search) == (matching, AlertMatch.Kind.NEW, search)


def test_a_price_falling_below_the_threshold_is_a_match_once(search, acme, acme_fra):
    offer = new_offer(acme, acme_fra)
    services.alerts_evaluate()
    fields = {"region": acme_fra, "gpu_model": offer.gpu_model}

    offer_services.offer_update(offer=offer, price_per_gpu_hour=Decimal("2.20"), **fields)  # still above
    offer_services.offer_update(offer=offer, price_per_gpu_hour=Decimal("1.90"), **fields)  # crosses
    offer_services.offer_update(offer=offer, price_per_gpu_hour=Decimal("1.80"), **fields)  # already below
    services.alerts_evaluate()

    drops = AlertMatch.objects.filter(kind=AlertMatch.Kind.PRICE_DROP)
    assert list(drops.values_list("price_per_gpu_hour", flat=True)) == [Decimal("1.9")]


def test_changes_before_the_search_was_saved_do_not_alert(developer, acme, acme_fra):
    new_offer(acme, acme_fra)
    services.saved_search_create(user=developer, name="late", params=QueryDict("gpu=h100-sxm"))

    assert services.alerts_evaluate()[1] == 0


def test_only_candidate_searches_are_run(search, developer, acme, acme_fra, django_assert_max_num_queries):
    for number in range(20):  # searches for another GPU: skipped without being run
        services.saved_search_create(user=developer, name=f"L4 {number}", params=QueryDict("gpu=l4"))
    new_offer(acme, acme_fra)

    with django_assert_max_num_queries(17):  # catalog choices are not cached in tests: 4 of them
        assert services.alerts_evaluate()[1] == 1


def test_the_digest_is_sent_once_even_if_the_task_runs_again(search, acme, acme_fra):
    new_offer(acme, acme_fra)
    services.alerts_evaluate()

    assert tasks.alerts_send_task() == 1
    assert tasks.alerts_send_task() == 0  # redelivered: nothing left to send
    [message] = mail.outbox
    assert message.to == ["dave@example.com"] and "H100 in Germany" in message.subject
    assert "/searches/unsubscribe/" in message.body
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert not AlertMatch.objects.filter(sent_at__isnull=True).exists()


def test_at_most_one_e_mail_per_search_and_hour(search, acme, acme_fra):
    new_offer(acme, acme_fra)
    services.alerts_evaluate()
    tasks.alerts_send_task()
    new_offer(acme, acme_fra, external_id="second")
    services.alerts_evaluate()

    assert tasks.alerts_send_task() == 0
    with time_machine.travel(timezone.now() + timedelta(minutes=61), tick=False):
        assert tasks.alerts_send_task() == 1
    assert len(mail.outbox) == 2


def test_offers_changing_queue_an_evaluation_after_commit(search, acme, acme_fra, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        new_offer(acme, acme_fra)

    assert len(callbacks) == 1  # deals.receivers.alerts_soon: enqueues alerts_evaluate_task once committed


def test_the_unsubscribe_link_works_without_signing_in(client, search):
    url = reverse("deals:search_unsubscribe", args=[emails.unsubscribe_token(search)])

    assert "Stop these e-mails" in client.get(url).text
    assert SavedSearch.objects.get(pk=search.pk).alerts_enabled  # a GET (a link scanner) changes nothing
    response = client.post(url)

    assert response.status_code == 200 and "Unsubscribed" in response.text
    assert not SavedSearch.objects.get(pk=search.pk).alerts_enabled


def test_a_forged_unsubscribe_link_is_404(client, search):
    url = reverse("deals:search_unsubscribe", args=[str(search.pk)])
    assert client.post(url).status_code == 404


def test_the_first_evaluation_starts_from_now_not_from_the_whole_history(acme, acme_fra, developer):
    new_offer(acme, acme_fra)  # history, before any search
    services.saved_search_create(user=developer, name="all", params=QueryDict(""))

    assert services.alerts_evaluate() == (0, 0)
    assert AlertCursor.objects.get().last_snapshot_id == OfferSnapshot.objects.latest("pk").pk
