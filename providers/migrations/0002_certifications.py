from django.db import migrations

from marketplace.gpu_catalogue import CERTIFICATIONS


def load(apps, schema_editor):
    Certification = apps.get_model("providers", "Certification")
    for slug, name in CERTIFICATIONS:
        Certification.objects.update_or_create(slug=slug, defaults={"name": name})


class Migration(migrations.Migration):
    dependencies = [("providers", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
