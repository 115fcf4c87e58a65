"""The admin's home page says what awaits review, each count linking to the filtered list."""

import pytest
from django.urls import reverse
from django.utils import timezone

from marketplace.models import GpuNameReview
from portal.testing import admin_url, make_user
from providers.models import Provider
from sync.models import RegionReview

pytestmark = pytest.mark.django_db


def queues(response) -> dict[str, tuple[int, str]]:
    return {queue["label"]: (queue["count"], queue["url"]) for queue in response.context["queues"]}


def test_the_index_counts_what_awaits_review(admin_client, acme, beta):
    Provider.objects.filter(pk=beta.pk).update(status=Provider.Status.PENDING)
    GpuNameReview.objects.create(raw_name="H100 mystery", normalized="h100 mystery")
    GpuNameReview.objects.create(raw_name="Old", normalized="old", resolved_at=timezone.now())
    RegionReview.objects.create(kind="lambda", code="xx-1")
    RegionReview.objects.create(kind="lambda", code="xx-2")

    response = admin_client.get(reverse("admin:index"))

    assert queues(response) == {
        "provider applications to review": (1, admin_url(Provider, "changelist") + "?status__exact=pending"),
        "GPU names awaiting review": (1, admin_url(GpuNameReview, "changelist") + "?resolved=no"),
        "regions awaiting review": (2, admin_url(RegionReview, "changelist") + "?resolved=no"),
    }
    assert 'id="review-queues"' in response.text
    # Each link lists exactly what was counted.
    for count, url in queues(response).values():
        listed = admin_client.get(url)
        assert listed.status_code == 200 and listed.context["cl"].result_count == count


def test_the_counts_cost_the_same_queries_however_long_the_queues(admin_client, django_assert_max_num_queries):
    admin_client.get(reverse("admin:index"))  # warm the session and content types
    with django_assert_max_num_queries(20) as few:
        admin_client.get(reverse("admin:index"))
    for n in range(10):
        GpuNameReview.objects.create(raw_name=f"gpu {n}", normalized=f"gpu {n}")
        RegionReview.objects.create(kind="lambda", code=f"r-{n}")

    with django_assert_max_num_queries(len(few.captured_queries)):
        admin_client.get(reverse("admin:index"))


def test_staff_see_only_the_queues_they_may_view(client, db):
    from django.contrib.auth.models import Permission

    helper = make_user("helper", is_staff=True)
    helper.user_permissions.add(Permission.objects.get(codename="view_regionreview"))
    client.force_login(helper)

    assert list(queues(client.get(reverse("admin:index")))) == ["regions awaiting review"]
