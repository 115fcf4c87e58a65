"""GPU identity: vendors and families, aliases that never pin a family to one variant, facts of
instance families, and a review queue that shows the facts.

- GpuModel gains ``vendor`` and ``family``; the catalogue (gpu_catalogue.py) is loaded again, with
  its new models (A800, A16, RTX 3060 and 5070, AMD Instinct, Intel Gaudi...).
- Aliases are keyed by the new normalization ("32G" is "32gb", "SXM4" is "sxm"); spellings that now
  coincide keep one alias. A global alias that names a family of several models without saying
  which ("H100" for H100 SXM, "A100" for A100 SXM 40GB) is deleted: those offers now resolve by the
  facts they state, or go to the review queue as ambiguous. Aliases may belong to one provider.
- InstanceTypeFact: instance families (glob patterns) whose GPUs' form factor the cloud documents (AWS p5 is SXM).
- GpuNameReview gains a status (unknown, ambiguous, contradiction), the facts seen and the candidates.
"""

import django.db.models.deletion
from django.db import migrations, models

from marketplace.gpu_catalogue import GPUS, INSTANCE_TYPE_FACTS
from marketplace.gpu_names import RESOLVED, Candidate, GpuQuery, decide, name_facts, query_facts


def _pins_a_variant(name: str, model, families: dict[str, list[Candidate]]) -> bool:
    """marketplace.models.alias_pins_a_variant, on the migration's models."""
    parsed = name_facts(name)
    family = families.get(parsed.family) or []
    if len(family) < 2:
        return False
    verdict = decide(
        facts=query_facts(GpuQuery(name), parsed), parsed=parsed, alias_model=None, families={parsed.family: family}
    )
    return not (verdict.status == RESOLVED and verdict.model_id == model.pk)


def catalogue_load(apps, schema_editor):
    """Load the catalogue and its instance facts, and bring every alias and review to the new keys."""
    GpuModel, GpuAlias = apps.get_model("marketplace", "GpuModel"), apps.get_model("marketplace", "GpuAlias")
    GpuNameReview = apps.get_model("marketplace", "GpuNameReview")
    InstanceTypeFact = apps.get_model("marketplace", "InstanceTypeFact")
    for order, gpu in enumerate(GPUS):
        GpuModel.objects.update_or_create(
            slug=gpu.slug,
            defaults=dict(
                name=gpu.name,
                vendor=gpu.vendor,
                family=gpu.family,
                architecture=gpu.architecture,
                memory_gb=gpu.memory_gb,
                memory_type=gpu.memory_type,
                form_factor=gpu.form_factor,
                segment=gpu.segment,
                release_year=gpu.year,
                sort_order=order,
            ),
        )
    models_by_slug = {gpu.slug: gpu for gpu in GpuModel.objects.all()}
    families: dict[str, list[Candidate]] = {}
    for gpu in models_by_slug.values():
        families.setdefault(gpu.family, []).append(
            Candidate(gpu.pk, gpu.family, gpu.memory_gb, gpu.form_factor, gpu.memory_type)
        )

    # Existing aliases under the new keys; a global one that pins a variant goes.
    seen: set[tuple] = set()
    for alias in GpuAlias.objects.select_related("gpu_model").order_by("provider_id", "pk"):
        key = (name_facts(alias.name).key, alias.provider_id)
        if key in seen or (alias.provider_id is None and _pins_a_variant(alias.name, alias.gpu_model, families)):
            alias.delete()
            continue
        seen.add(key)
        if alias.normalized != key[0]:
            alias.normalized = key[0]
            alias.save(update_fields=["normalized"])
    # The catalogue's own names.
    for gpu in GPUS:
        model = models_by_slug[gpu.slug]
        for name in [gpu.name, gpu.slug, *gpu.aliases]:
            key = name_facts(name).key
            if (key, None) in seen or _pins_a_variant(name, model, families):
                continue
            seen.add((key, None))
            GpuAlias.objects.create(name=name, normalized=key, gpu_model=model)

    # Reviews under the new keys: two spellings that now coincide are one review (merged first,
    # then renamed, as the key is unique).
    groups: dict[str, list] = {}
    for review in GpuNameReview.objects.order_by("pk"):
        groups.setdefault(name_facts(review.raw_name).key, []).append(review)
    for key, (first, *others) in groups.items():
        for other in others:
            first.offers_held += other.offers_held
            first.providers.add(*other.providers.all())
            other.delete()
        first.normalized = key
        first.save(update_fields=["offers_held", "normalized"])

    for pattern, form, source in INSTANCE_TYPE_FACTS:
        InstanceTypeFact.objects.update_or_create(pattern=pattern, defaults={"form_factor": form, "source": source})
    if schema_editor is not None and schema_editor.connection.vendor == "postgresql":
        # The constraints below build indexes on gpualias, which PostgreSQL refuses while the rows
        # just written still have deferred foreign-key checks pending: run them now.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


class Migration(migrations.Migration):
    dependencies = [
        ("marketplace", "0012_offer_indexes_on_normalized_price"),
        ("providers", "0006_sync_models_moved_to_sync_app"),
    ]

    operations = [
        migrations.AddField(
            model_name="gpumodel",
            name="vendor",
            field=models.CharField(
                choices=[("nvidia", "NVIDIA"), ("amd", "AMD"), ("intel", "Intel")], default="nvidia", max_length=10
            ),
        ),
        migrations.AddField(
            model_name="gpumodel",
            name="family",
            field=models.CharField(db_index=True, default="", max_length=60),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="gpumodel",
            name="form_factor",
            field=models.CharField(
                blank=True,
                choices=[
                    ("sxm", "SXM"),
                    ("pcie", "PCIe"),
                    ("nvl", "NVL"),
                    ("superchip", "Superchip (Grace)"),
                    ("oam", "OAM"),
                ],
                max_length=20,
            ),
        ),
        migrations.AlterField(
            model_name="gpualias",
            name="normalized",
            field=models.CharField(editable=False, max_length=120),
        ),
        migrations.AddField(
            model_name="gpualias",
            name="provider",
            field=models.ForeignKey(
                blank=True,
                help_text="Only for this provider's offers; empty: for every provider.",
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="gpu_aliases",
                to="providers.provider",
            ),
        ),
        migrations.CreateModel(
            name="InstanceTypeFact",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "pattern",
                    models.CharField(
                        help_text="A pattern in lower case, * for any text: “p5.*”, “vbm-*-h100-gpu”.",
                        max_length=80,
                        unique=True,
                    ),
                ),
                (
                    "form_factor",
                    models.CharField(
                        choices=[
                            ("sxm", "SXM"),
                            ("pcie", "PCIe"),
                            ("nvl", "NVL"),
                            ("superchip", "Superchip (Grace)"),
                            ("oam", "OAM"),
                        ],
                        max_length=20,
                    ),
                ),
                ("source", models.CharField(blank=True, help_text="Where the cloud says so.", max_length=200)),
            ],
            options={"verbose_name": "instance type fact", "ordering": ["pattern"]},
        ),
        migrations.AddField(
            model_name="gpunamereview",
            name="status",
            field=models.CharField(
                choices=[
                    ("unknown", "Unknown name"),
                    ("ambiguous", "Ambiguous: several models fit"),
                    ("contradiction", "Facts fit no model"),
                ],
                default="unknown",
                max_length=20,
            ),
        ),
        migrations.AddField(
            model_name="gpunamereview",
            name="facts",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name="gpunamereview",
            name="candidates",
            field=models.ManyToManyField(blank=True, related_name="+", to="marketplace.gpumodel"),
        ),
        migrations.RunPython(catalogue_load, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="gpualias",
            constraint=models.UniqueConstraint(
                condition=models.Q(provider__isnull=True), fields=("normalized",), name="gpualias_unique_global"
            ),
        ),
        migrations.AddConstraint(
            model_name="gpualias",
            constraint=models.UniqueConstraint(
                condition=models.Q(provider__isnull=False),
                fields=("normalized", "provider"),
                name="gpualias_unique_provider",
            ),
        ),
    ]
