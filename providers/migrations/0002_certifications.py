from django.db import migrations

# The certifications a provider can claim, as first loaded; admins edit them since.
CERTIFICATIONS = [
    ("soc2", "SOC 2 Type II"),
    ("iso27001", "ISO 27001"),
    ("iso27017", "ISO 27017"),
    ("iso27018", "ISO 27018"),
    ("hipaa", "HIPAA"),
    ("pci-dss", "PCI DSS"),
    ("c5", "BSI C5"),
    ("gdpr", "GDPR DPA"),
    ("fedramp", "FedRAMP"),
    ("iso50001", "ISO 50001"),
]


def load(apps, schema_editor):
    Certification = apps.get_model("providers", "Certification")
    for slug, name in CERTIFICATIONS:
        Certification.objects.update_or_create(slug=slug, defaults={"name": name})


class Migration(migrations.Migration):
    dependencies = [("providers", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
