"""Flash messages: one box per message, its level in its class, each with a button to dismiss it."""

import pytest
from django.urls import reverse


@pytest.mark.django_db
def test_a_message_is_a_styled_box_that_can_be_dismissed(client):
    # A used activation link says so with an error message on the sign-in page.
    page = client.get(reverse("accounts:activate", args=["bogus", "token"]), follow=True).text

    assert '<p class="message error" role="alert"><span>This link is invalid' in page
    assert 'aria-label="Dismiss" onclick="this.parentElement.remove()"' in page
    assert '<ul class="messages"' not in page
