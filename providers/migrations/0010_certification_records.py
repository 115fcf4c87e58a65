"""Certifications become records: each claim a provider made (the old many-to-many) becomes a record
of the whole provider, unverified (no issuer, id, validity or evidence yet: it does not count until
an admin has checked them). "GDPR DPA" was never a certification: a provider that claimed it now
offers a data processing agreement (Provider.dpa_offered), and the reference row is deleted."""

import importlib

from django.db import migrations

GDPR_DPA = "gdpr"


def certifications_load(apps, schema_editor):
    """The reference certifications as they are now (0002's, without the GDPR DPA): tests reload them."""
    importlib.import_module("providers.migrations.0002_certifications").load(apps, schema_editor)
    apps.get_model("providers", "Certification").objects.filter(slug=GDPR_DPA).delete()


def forwards(apps, schema_editor):
    Provider = apps.get_model("providers", "Provider")
    ProviderCertification = apps.get_model("providers", "ProviderCertification")
    Certification = apps.get_model("providers", "Certification")
    links = Provider.certifications.through.objects.select_related("certification")
    records, dpa = [], set()
    for link in links.order_by("provider_id", "certification_id"):
        if link.certification.slug == GDPR_DPA:
            dpa.add(link.provider_id)
        else:
            records.append(ProviderCertification(provider_id=link.provider_id, certification_id=link.certification_id))
    ProviderCertification.objects.bulk_create(records, batch_size=1000)
    Provider.objects.filter(pk__in=dpa).update(dpa_offered=True)
    Certification.objects.filter(slug=GDPR_DPA).delete()


def backwards(apps, schema_editor):
    Provider = apps.get_model("providers", "Provider")
    ProviderCertification = apps.get_model("providers", "ProviderCertification")
    Certification = apps.get_model("providers", "Certification")
    gdpr, _ = Certification.objects.get_or_create(slug=GDPR_DPA, defaults={"name": "GDPR DPA"})
    through = Provider.certifications.through
    pairs = set(ProviderCertification.objects.values_list("provider_id", "certification_id"))
    pairs |= {(pk, gdpr.pk) for pk in Provider.objects.filter(dpa_offered=True).values_list("pk", flat=True)}
    through.objects.bulk_create(
        [through(provider_id=provider, certification_id=cert) for provider, cert in sorted(pairs)], batch_size=1000
    )


class Migration(migrations.Migration):
    dependencies = [("providers", "0009_sovereignty_facts")]
    operations = [
        migrations.RunPython(forwards, backwards),
        migrations.RemoveField(model_name="provider", name="certifications"),
    ]
