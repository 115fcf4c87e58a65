"""What awaits an admin's review, for the admin's home page (templates/admin/index.html).

A tag rather than a context processor, so that only the admin index pays for it: one COUNT per
queue (three queries, however long the queues), each shown only to a user who may view it.
"""

from django import template
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from marketplace.models import GpuNameReview
from providers.models import Provider
from sync.models import RegionReview

register = template.Library()

# (model, what is counted, the changelist filter that lists the same rows, label)
QUEUES = [
    (Provider, {"status": Provider.Status.PENDING}, "status__exact=pending", _("provider applications to review")),
    (GpuNameReview, {"resolved_at__isnull": True}, "resolved=no", _("GPU names awaiting review")),
    (RegionReview, {"resolved_at__isnull": True}, "resolved=no", _("regions awaiting review")),
]


@register.simple_tag(takes_context=True)
def review_queues(context) -> list[dict]:
    """[{"label", "count", "url"}] for each queue the user may view, in QUEUES' order."""
    user = context["request"].user
    queues = []
    for model, lookup, query, label in QUEUES:
        opts = model._meta
        if not user.has_perm(f"{opts.app_label}.view_{opts.model_name}") and not user.has_perm(
            f"{opts.app_label}.change_{opts.model_name}"
        ):
            continue
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist") + "?" + query
        queues.append({"label": label, "count": model.objects.filter(**lookup).count(), "url": url})
    return queues
