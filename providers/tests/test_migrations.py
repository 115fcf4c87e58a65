"""Certifications become records: every claim a provider made survives, unverified; GDPR DPA becomes a document."""

import pytest

from portal.testing import migrate

BEFORE = [("providers", "0008_region_other_countries")]
AFTER = [("providers", "0010_certification_records")]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("latest_schema_after")
def test_claimed_certifications_become_unverified_records_and_the_gdpr_dpa_a_document():
    old = migrate(BEFORE)
    try:
        Provider, Certification = old.get_model("providers", "Provider"), old.get_model("providers", "Certification")
        claims = {"claims-all": ["soc2", "iso27001", "gdpr"], "claims-iso": ["iso27001"], "claims-none": []}
        for slug, certs in claims.items():
            provider = Provider.objects.create(name=slug, slug=slug, hq_country="FR", status="approved")
            provider.certifications.set(Certification.objects.filter(slug__in=certs))
    finally:
        new = migrate(AFTER)

    Provider, Record = new.get_model("providers", "Provider"), new.get_model("providers", "ProviderCertification")
    held = {
        provider.slug: sorted(Record.objects.filter(provider=provider).values_list("certification__slug", flat=True))
        for provider in Provider.objects.filter(slug__startswith="claims-")
    }
    assert held == {"claims-all": ["iso27001", "soc2"], "claims-iso": ["iso27001"], "claims-none": []}
    # Records made from claims count for nothing until an admin checks their evidence.
    assert set(Record.objects.values_list("scope", "verified_at", "valid_until")) == {("provider", None, None)}
    assert dict(Provider.objects.filter(slug__startswith="claims-").values_list("slug", "dpa_offered")) == {
        "claims-all": True,
        "claims-iso": False,
        "claims-none": False,
    }
    assert not new.get_model("providers", "Certification").objects.filter(slug="gdpr").exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("latest_schema_after")
def test_the_records_migrate_back_to_claims():
    new = migrate(AFTER)
    Provider, Record = new.get_model("providers", "Provider"), new.get_model("providers", "ProviderCertification")
    provider = Provider.objects.create(name="Back", slug="back", hq_country="FR", dpa_offered=True)
    soc2 = new.get_model("providers", "Certification").objects.get(slug="soc2")
    Record.objects.create(provider=provider, certification=soc2, valid_until="2030-01-01")

    old = migrate(BEFORE)
    claims = old.get_model("providers", "Provider").objects.get(slug="back").certifications
    assert sorted(claims.values_list("slug", flat=True)) == ["gdpr", "soc2"]
