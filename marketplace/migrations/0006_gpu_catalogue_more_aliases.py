import importlib

from django.db import migrations


def load(apps, schema_editor):
    # Re-run the idempotent catalogue load: new models and aliases found in the adapters' real data.
    importlib.import_module("marketplace.migrations.0002_gpu_catalogue").load(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("marketplace", "0005_catalog_indexes")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
