from django.db import migrations

from marketplace.models import normalize_gpu_name

# The catalogue as it is now (migration 0011 adds what later fields say: vendor, family...).
from marketplace.gpu_catalogue import GPUS


def load(apps, schema_editor):
    GpuModel = apps.get_model("marketplace", "GpuModel")
    GpuAlias = apps.get_model("marketplace", "GpuAlias")
    seen = set()
    for order, row in enumerate(GPUS):
        slug, name, arch, mem, mem_type, form = (
            row.slug,
            row.name,
            row.architecture,
            row.memory_gb,
            row.memory_type,
            row.form_factor,
        )
        segment, year, aliases = row.segment, row.year, row.aliases
        gpu, _ = GpuModel.objects.update_or_create(
            slug=slug,
            defaults=dict(
                name=name,
                architecture=arch,
                memory_gb=mem,
                memory_type=mem_type,
                form_factor=form,
                segment=segment,
                release_year=year,
                sort_order=order,
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
