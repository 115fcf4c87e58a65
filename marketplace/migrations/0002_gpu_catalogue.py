from django.db import migrations

from marketplace.models import normalize_gpu_name

# Frozen copy of the launch catalogue; later changes go into new migrations or the admin.
from marketplace.gpu_catalogue import GPUS


def load(apps, schema_editor):
    GpuModel = apps.get_model("marketplace", "GpuModel")
    GpuAlias = apps.get_model("marketplace", "GpuAlias")
    seen = set()
    for order, (slug, name, arch, mem, mem_type, form, segment, year, aliases) in enumerate(GPUS):
        gpu, _ = GpuModel.objects.update_or_create(
            slug=slug,
            defaults=dict(
                name=name, architecture=arch, memory_gb=mem, memory_type=mem_type,
                form_factor=form, segment=segment, release_year=year, sort_order=order,
            ),
        )
        for alias in [name, slug, *aliases]:
            key = normalize_gpu_name(alias)
            if key in seen:
                continue  # the first (most specific) model listed keeps an ambiguous name
            seen.add(key)
            GpuAlias.objects.update_or_create(normalized=key, defaults={"name": alias, "gpu_model": gpu})


class Migration(migrations.Migration):
    dependencies = [("marketplace", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
