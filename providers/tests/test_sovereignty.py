"""Sovereignty facts: who operates a provider, and certifications as records an admin verifies.

A record counts (valid) only once verified and until its validity ends; a provider's edit asks for a
new verification; providers are e-mailed 30 days before a verified record expires, once per date.
"""

from datetime import date, timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from portal.testing import admin_url, certify
from providers import services
from providers.models import Certification, ProviderCertification
from providers.tasks import certification_expiry_notify_task

pytestmark = pytest.mark.django_db

TODAY = date(2027, 3, 1)


class TestOperatorFacts:
    def test_the_operator_and_its_parent_must_both_be_in_the_countries(self, acme):
        assert acme.jurisdictions == [] and not acme.operated_from({"DE"})  # nothing stated: never "in the EU"

        services.provider_facts_update(provider=acme, legal_entity="Acme GPU GmbH", incorporation_country="DE")
        assert not acme.operated_from({"DE"})  # the parent is not stated

        services.provider_facts_update(provider=acme, parent_name="Acme Holdings Inc.", parent_country="US")
        assert acme.jurisdictions == ["DE", "US"]
        assert not acme.operated_from({"DE", "FR"})
        assert acme.operated_from({"DE", "US"})

    def test_facts_are_validated(self, acme):
        with pytest.raises(ValidationError) as error:
            services.provider_facts_update(provider=acme, incorporation_country="XX")
        assert "incorporation_country" in error.value.message_dict
        with pytest.raises(ValidationError):
            services.provider_facts_update(provider=acme, dpa_offered=False, dpa_url="https://acme.example/dpa")
        with pytest.raises(TypeError):
            services.provider_facts_update(provider=acme, status="approved")

    def test_the_gdpr_dpa_is_a_document_not_a_certification(self, acme):
        assert not Certification.objects.filter(slug="gdpr").exists()
        assert not Certification.objects.filter(name__icontains="GDPR").exists()
        services.provider_facts_update(provider=acme, dpa_offered=True, dpa_url="https://acme.example/dpa")
        acme.refresh_from_db()
        assert (acme.dpa_offered, acme.dpa_url) == (True, "https://acme.example/dpa")


class TestRecordState:
    @pytest.mark.parametrize(
        ("verified", "valid_until", "state"),
        [
            (True, TODAY, "valid"),  # valid through its last day
            (True, TODAY + timedelta(days=400), "valid"),
            (True, TODAY - timedelta(days=1), "expired"),
            (False, TODAY - timedelta(days=1), "expired"),
            (False, TODAY + timedelta(days=10), "unverified"),
        ],
    )
    def test_only_verified_unexpired_records_are_valid(self, acme, verified, valid_until, state):
        record = certify(acme, "soc2", verified=verified, valid_until=valid_until)

        assert record.state(TODAY) == state
        assert list(ProviderCertification.objects.valid(TODAY)) == ([record] if state == "valid" else [])

    def test_a_record_without_an_end_date_is_never_valid(self, acme):
        record = certify(acme, "soc2")
        ProviderCertification.objects.filter(pk=record.pk).update(valid_until=None)
        record.refresh_from_db()

        assert record.state(TODAY) == "unverified"
        assert not ProviderCertification.objects.valid(TODAY).exists()


class TestRecordSave:
    def test_a_providers_edit_asks_for_a_new_verification(self, acme):
        record = certify(acme, "iso27001", valid_until=TODAY + timedelta(days=100))
        record.expiry_notified_at = timezone.now()
        record.valid_until = TODAY + timedelta(days=465)

        services.certification_record_save(record=record)

        record.refresh_from_db()
        assert (record.verified_at, record.verified_by, record.expiry_notified_at) == (None, None, None)

    def test_an_admins_edit_keeps_the_verification(self, acme, admin_user):
        record = certify(acme, "iso27001")
        record.issuer = "TÜV"

        services.certification_record_save(record=record, by_admin=True)

        record.refresh_from_db()
        assert record.verified_at is not None

    def test_regions_are_the_providers_own_and_only_for_a_regions_scope(self, acme, acme_fra, beta_nyc):
        soc2 = Certification.objects.get(slug="soc2")
        record = ProviderCertification(provider=acme, certification=soc2, scope="regions", valid_until=TODAY)
        with pytest.raises(ValidationError):
            services.certification_record_save(record=record, regions=[beta_nyc])
        with pytest.raises(ValidationError):
            services.certification_record_save(record=record, regions=[])

        services.certification_record_save(record=record, regions=[acme_fra])
        assert list(record.regions.all()) == [acme_fra]

        record.scope = "provider"
        services.certification_record_save(record=record, regions=[acme_fra])
        assert not record.regions.exists()

    def test_verifying_needs_a_validity_date(self, acme, admin_user):
        dated = certify(acme, "soc2", verified=False)
        undated = certify(acme, "iso27001", verified=False)
        ProviderCertification.objects.filter(pk=undated.pk).update(valid_until=None)

        count = services.certification_records_verify(records=ProviderCertification.objects.all(), user=admin_user)

        assert count == 1
        dated.refresh_from_db()
        assert (dated.verified_by, dated.state()) == (admin_user, "valid")


class TestExpiryNotice:
    @pytest.fixture
    def records(self, acme, beta, acme_fra):
        acme.contact_email = "ops@acme.example"
        acme.save()
        return {
            "soon": certify(acme, "soc2", valid_until=TODAY + timedelta(days=30)),
            "later": certify(acme, "iso27001", valid_until=TODAY + timedelta(days=31)),
            "unverified": certify(acme, "hipaa", verified=False, valid_until=TODAY + timedelta(days=5)),
            "expired": certify(acme, "c5", valid_until=TODAY - timedelta(days=1)),
            "beta": certify(beta, "soc2", valid_until=TODAY + timedelta(days=2)),
        }

    def test_providers_are_mailed_30_days_before_a_verified_record_expires_once(self, records):
        assert services.certification_expiry_notify(today=TODAY) == 2
        assert services.certification_expiry_notify(today=TODAY) == 0  # once per validity date

        by_subject = {message.subject: message for message in mail.outbox}
        acme_mail = by_subject["SOC 2 Type II of Acme GPU expires on 2027-03-31"]
        assert sorted(acme_mail.to) == ["alice@example.com", "ops@acme.example"]
        assert "in 30 days" in acme_mail.body
        assert "/dashboard/acme-gpu/sovereignty/" in acme_mail.body
        assert "SOC 2 Type II of Beta Compute expires on 2027-03-03" in by_subject
        notified = set(ProviderCertification.objects.exclude(expiry_notified_at=None).values_list("pk", flat=True))
        assert notified == {records["soon"].pk, records["beta"].pk}

    def test_a_renewed_record_is_mailed_again_before_its_new_date(self, records):
        services.certification_expiry_notify(today=TODAY)
        record = records["soon"]
        record.refresh_from_db()
        record.valid_until = TODAY + timedelta(days=365)
        services.certification_record_save(record=record, by_admin=True)

        later = TODAY + timedelta(days=340)
        ProviderCertification.objects.exclude(pk=record.pk).delete()
        assert services.certification_expiry_notify(today=later) == 1

    def test_a_failed_mail_is_tried_again_next_time(self, records, monkeypatch):
        def broken(*args, **kwargs):
            raise OSError("smtp down")

        monkeypatch.setattr("providers.services.send_mail", broken)
        assert services.certification_expiry_notify(today=TODAY) == 0
        assert not ProviderCertification.objects.exclude(expiry_notified_at=None).exists()

    def test_the_task_runs_daily_in_every_environment(self, records, time_machine):
        time_machine.move_to("2027-03-01 08:00:00+00:00", tick=False)
        assert certification_expiry_notify_task() == 2
        entry = settings.CELERY_BEAT_SCHEDULE["certification-expiry-notify"]
        assert entry["task"] == "providers.tasks.certification_expiry_notify_task"
        assert entry["schedule"].run_every == timedelta(days=1)


class TestAdmin:
    def test_pages_open(self, admin_client, acme, acme_fra):
        record = certify(acme, "soc2", regions=[acme_fra])
        for url in [
            admin_url(ProviderCertification, "changelist"),
            admin_url(ProviderCertification, "add"),
            admin_url(ProviderCertification, "change", record.pk),
        ]:
            assert admin_client.get(url).status_code == 200
        for state in ["valid", "expired", "unverified"]:
            assert admin_client.get(admin_url(ProviderCertification, "changelist"), {"state": state}).status_code == 200

    def test_the_state_filter(self, admin_client, acme):
        valid = certify(acme, "soc2")
        expired = certify(acme, "iso27001", valid_until=timezone.localdate() - timedelta(days=1))
        unverified = certify(acme, "c5", verified=False)
        listed = {}
        for state in ["valid", "expired", "unverified"]:
            response = admin_client.get(admin_url(ProviderCertification, "changelist"), {"state": state})
            listed[state] = {record.pk for record in response.context["cl"].result_list}
        assert listed == {"valid": {valid.pk}, "expired": {expired.pk}, "unverified": {unverified.pk}}

    def test_an_admin_marks_records_verified_after_checking_the_evidence(self, admin_client, admin_user, acme):
        record = certify(acme, "soc2", verified=False, evidence_url="https://acme.example/soc2.pdf")

        response = admin_client.post(
            admin_url(ProviderCertification, "changelist"),
            {"action": "verify", "_selected_action": [record.pk]},
            follow=True,
        )

        assert "1 record verified." in response.text
        record.refresh_from_db()
        assert (record.state(), record.verified_by) == ("valid", admin_user)

    def test_regions_must_be_the_providers_and_match_the_scope(self, admin_client, acme, beta_nyc):
        soc2 = Certification.objects.get(slug="soc2")
        data = {
            "provider": acme.pk,
            "certification": soc2.pk,
            "scope": "regions",
            "regions": [beta_nyc.pk],
            "valid_until": "2030-01-01",
        }
        response = admin_client.post(admin_url(ProviderCertification, "add"), data)
        assert "Only the provider&#x27;s own regions can be named." in response.text
        response = admin_client.post(admin_url(ProviderCertification, "add"), {**data, "scope": "provider"})
        assert "A certification of the whole provider names no regions." in response.text
        assert not ProviderCertification.objects.exists()

    def test_the_provider_admin_shows_the_facts_and_records(self, admin_client, acme):
        certify(acme, "soc2")
        response = admin_client.get(admin_url(type(acme), "change", acme.pk))
        assert response.status_code == 200
        assert "Sovereignty facts" in response.text
        assert "SOC 2 Type II" in response.text
