"""GPU identity: a name and every fact its offer states resolve to one model, or to the review queue,
never to a guessed variant; names normalize alike; the catalogue covers what clouds sell, by vendor."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from marketplace.gpu_names import GpuQuery, instance_type_form, name_facts, normalize_gpu_name
from marketplace.models import GpuAlias, GpuModel, GpuNameReview, InstanceTypeFact
from marketplace.services import UnresolvedGpu, gpu_name_review_resolve, gpu_names_unknown_record
from portal.testing import make_offer

pytestmark = pytest.mark.django_db


def resolve(name: str, provider=None, **facts):
    query = GpuQuery(name, **facts)
    return GpuAlias.objects.resolve_facts([query], provider=provider)[query]


class TestNormalization:
    @pytest.mark.parametrize(
        ("one", "other"),
        [
            ("V100-32G", "V100 32GB"),
            ("A100_80G", "A100 80 GB"),
            ("H100 80GiB", "H100 80GB"),
            ("NVIDIA H100-SXM5", "h100_sxm"),
            ("H100 SXM4", "H100 SXM5"),
            ("NVIDIA GeForce RTX 4090", "RTX 4090"),
            ("Tesla V100-SXM2-16GB", "V100 SXM2 16GB"),
            ("RTX 6000 Ada Generation", "RTX 6000 Ada"),
            ("AMD Instinct MI300X", "MI300X"),
            ("A100 PCI-E", "A100 PCIe"),
        ],
    )
    def test_spellings_normalize_alike(self, one, other):
        assert normalize_gpu_name(one) == normalize_gpu_name(other)

    def test_a_name_says_its_family_and_facts(self):
        facts = name_facts("NVIDIA A100-SXM4-80GB HBM2e")
        assert (facts.family, facts.memory_gb, facts.form_factor, facts.memory_type) == ("a100", 80, "sxm", "HBM2e")
        assert name_facts("nvidia-h100-mega-80gb").form_factor == "sxm"  # GCP's A3 Mega
        assert name_facts("GB200 NVL72").form_factor == "superchip"
        assert name_facts("A10G").memory_gb is None  # "10G" inside a name is no memory

    @pytest.mark.parametrize(
        ("instance_type", "form"),
        [
            ("gpu_1x_h100_pcie", "pcie"),
            ("gpu-h100-sxm_8gpu-128vcpu-1600gb", "sxm"),
            ("a3-megagpu-8g", "sxm"),
            ("H200-sxm5x8-NVLINK", "sxm"),
            ("H100x8-NVLINK", ""),
            ("p5.48xlarge", ""),
        ],
    )
    def test_an_instance_type_name_may_say_the_form_factor(self, instance_type, form):
        assert instance_type_form(instance_type) == form


class TestBareFamilyNames:
    @pytest.mark.parametrize(
        ("name", "candidates"),
        [
            ("H100", {"h100-sxm", "h100-pcie", "h100-nvl"}),
            ("A100", {"a100-sxm-80", "a100-sxm-40", "a100-pcie-80", "a100-pcie-40"}),
            ("H200", {"h200", "h200-nvl"}),
            ("A800", {"a800-sxm-80", "a800-pcie-80", "a800-pcie-40"}),
            ("RTX 3060", {"rtx-3060-12", "rtx-3060-8"}),
        ],
    )
    def test_are_never_pinned_to_a_variant(self, name, candidates):
        resolution = resolve(name)
        assert (resolution.status, resolution.gpu_model) == ("ambiguous", None)
        assert {gpu.slug for gpu in resolution.candidates} == candidates

    def test_no_global_alias_names_a_family_of_several_models(self):
        families = {}
        for gpu in GpuModel.objects.all():
            families.setdefault(gpu.family, []).append(gpu)
        shared = {family for family, gpus in families.items() if len(gpus) > 1}
        pinned = [alias.name for alias in GpuAlias.objects.filter(provider=None) if alias.normalized in shared]
        assert pinned == []


class TestFactsBeforeTheName:
    @pytest.mark.parametrize(
        ("name", "facts", "slug"),
        [
            ("H100", {"memory_gb": 80, "form_factor": "pcie"}, "h100-pcie"),
            ("H100", {"form_factor": "sxm"}, "h100-sxm"),
            ("H100", {"memory_gb": 94}, "h100-nvl"),
            ("A100", {"memory_gb": 80, "form_factor": "pcie"}, "a100-pcie-80"),
            ("A100 PCIe", {"memory_gb": 40}, "a100-pcie-40"),
            ("A100 80GB", {"interconnect": "nvlink", "gpus_per_node": 8}, "a100-sxm-80"),  # no PCIe bridge joins 8
            ("A100", {"memory_gb": 40, "interconnect": "nvlink", "gpus_per_node": 4}, "a100-sxm-40"),
            ("H200", {"interconnect": "nvlink", "gpus_per_node": 8}, "h200"),
            ("H100", {"memory_gb": 80, "instance_type": "gpu_1x_h100_pcie"}, "h100-pcie"),
            ("nvidia-h100-80gb", {"instance_type": "a3-highgpu-1g"}, "h100-sxm"),  # a known instance family
            ("nvidia-h100-mega-80gb", {}, "h100-sxm"),
            ("H100 80GB HBM3", {}, "h100-sxm"),  # HBM3: the SXM's memory, not the PCIe's HBM2e
            ("V100", {"memory_gb": 32}, "v100-32"),
            ("L4", {"memory_gb": 22}, "l4"),  # AWS reports 22 GiB for the 24 GB L4
            ("A800 PCIE", {"memory_gb": 80}, "a800-pcie-80"),
            ("RTX 3060", {"memory_gb": 12}, "rtx-3060-12"),
        ],
    )
    def test_every_stated_fact_narrows_the_family(self, name, facts, slug):
        resolution = resolve(name, **facts)
        assert (resolution.status, resolution.gpu_model.slug) == ("resolved", slug)

    @pytest.mark.parametrize(
        ("name", "facts", "expected"),
        [
            # The node's link narrows the variants the GPU's own facts leave open...
            ("H100", {"memory_gb": 80, "interconnect": "pcie", "gpus_per_node": 8}, "h100-pcie"),
            ("H100", {"interconnect": "nvlink", "gpus_per_node": 8}, "h100-sxm"),
            # ...but a link no variant has says nothing of the GPU: an "NVLink" L40S is an L40S...
            ("L40S", {"interconnect": "nvlink", "gpus_per_node": 8}, "l40s"),
            ("B200", {"interconnect": "pcie", "gpus_per_node": 8}, "b200"),
            # ...and it never overrides a stated form factor, nor picks among variants it all rules out.
            ("H100 PCIe", {"interconnect": "nvlink", "gpus_per_node": 8}, "h100-pcie"),
            ("V100", {"interconnect": "pcie", "gpus_per_node": 8}, None),
        ],
    )
    def test_the_interconnect_only_narrows_what_the_gpus_facts_leave_open(self, name, facts, expected):
        resolution = resolve(name, **facts)
        if expected is None:
            assert resolution.status == "ambiguous"
        else:
            assert (resolution.status, resolution.gpu_model.slug) == ("resolved", expected)

    def test_an_alias_whose_model_contradicts_the_facts_is_not_used(self):
        resolution = resolve("H100 SXM5 80GB", form_factor="pcie")
        assert (resolution.status, resolution.gpu_model) == ("contradiction", None)

    def test_facts_that_fit_no_model_of_the_family_are_a_contradiction(self):
        resolution = resolve("A16 (64 GB)")  # a whole A16 board, while the A16 is 16 GB per GPU
        assert (resolution.status, resolution.facts) == ("contradiction", {"memory_gb": 64})

    def test_an_instance_family_fact_is_data(self):
        assert resolve("H100", memory_gb=80, instance_type="xyz-8h100").status == "ambiguous"
        InstanceTypeFact.objects.create(pattern="xyz-*h100", form_factor="sxm", source="a test cloud")
        assert resolve("H100", memory_gb=80, instance_type="xyz-8h100").gpu_model.slug == "h100-sxm"


class TestAliases:
    def test_a_global_alias_may_not_pin_a_family(self):
        alias = GpuAlias(name="A100", gpu_model=GpuModel.objects.get(slug="a100-sxm-40"))
        with pytest.raises(ValidationError, match="does not say which of"):
            alias.full_clean()

    def test_a_providers_alias_maps_its_bare_name_for_it_alone(self, acme, beta):
        GpuAlias.objects.create(name="H100", gpu_model=GpuModel.objects.get(slug="h100-pcie"), provider=acme)
        assert resolve("H100", provider=acme).gpu_model.slug == "h100-pcie"
        assert resolve("H100", provider=beta).status == "ambiguous"
        # ...and the facts the provider states still come first.
        assert resolve("H100", provider=acme, memory_gb=94).gpu_model.slug == "h100-nvl"


class TestReviewQueue:
    def test_an_ambiguous_name_is_queued_with_its_facts_and_candidates(self, acme):
        resolution = resolve("H100", memory_gb=80)
        gpu = UnresolvedGpu(status=resolution.status)
        gpu.add(resolution, 3)
        gpu_names_unknown_record(provider=acme, names={"H100": gpu}, now=timezone.now())

        review = GpuNameReview.objects.get()
        assert (review.status, review.offers_held, review.facts) == ("ambiguous", 3, [{"memory_gb": 80}])
        assert {gpu.slug for gpu in review.candidates.all()} == {"h100-sxm", "h100-pcie"}

    def test_mapping_an_ambiguous_name_maps_it_for_the_providers_that_used_it(self, acme, beta):
        gpu_names_unknown_record(
            provider=acme, names={"H100": UnresolvedGpu("ambiguous", offers=2)}, now=timezone.now()
        )
        review = GpuNameReview.objects.get()

        gpu_name_review_resolve(review=review, gpu_model=GpuModel.objects.get(slug="h100-sxm"), now=timezone.now())

        assert [(alias.name, alias.provider) for alias in GpuAlias.objects.filter(normalized="h100")] == [
            ("H100", acme)
        ]
        assert resolve("H100", provider=beta).status == "ambiguous"


class TestCatalogue:
    @pytest.mark.parametrize(
        ("name", "slug", "vendor"),
        [
            ("A800 80GB PCIe", "a800-pcie-80", "nvidia"),
            ("A16", "a16", "nvidia"),
            ("RTX 3060 12GB", "rtx-3060-12", "nvidia"),
            ("RTX 5070", "rtx-5070", "nvidia"),
            ("H100 Mega", "h100-sxm", "nvidia"),
            ("AMD Instinct MI300X OAM", "mi300x", "amd"),
            ("MI325X", "mi325x", "amd"),
            ("Intel Gaudi 2", "gaudi2", "intel"),
            ("Gaudi 3", "gaudi3", "intel"),
        ],
    )
    def test_it_covers_what_clouds_sell_today(self, name, slug, vendor):
        gpu = resolve(name).gpu_model
        assert (gpu.slug, gpu.vendor) == (slug, vendor)


class TestVendorFilter:
    @pytest.fixture
    def mixed(self, acme_fra):
        return {slug: make_offer(acme_fra.provider, acme_fra, slug).pk for slug in ("h100-sxm", "mi300x", "gaudi3")}

    def shown(self, client, query):
        return {offer.pk for offer in client.get(f"/?{query}").context["results"].page}

    def test_nvidia_is_the_default_view(self, client, mixed):
        assert self.shown(client, "") == {mixed["h100-sxm"]}

    def test_a_vendor_filter_shows_the_others(self, client, mixed):
        assert self.shown(client, "vendor=amd") == {mixed["mi300x"]}
        assert self.shown(client, "vendor=amd&vendor=intel&vendor=nvidia") == set(mixed.values())

    def test_choosing_a_gpu_of_another_vendor_shows_it(self, client, mixed):
        assert self.shown(client, "gpu=gaudi3") == {mixed["gaudi3"]}

    def test_the_gpu_page_says_the_vendor(self, client, mixed):
        assert "AMD" in client.get("/gpus/mi300x/").text
