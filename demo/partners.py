"""The demo data set: the ten launch partners, their regions and their fleets, as plain data.

Regions sit in countries where each company really runs (or has announced) data centres;
region codes follow each company's own naming style. Fleets, node shapes and list prices are
modelled on public price lists but are illustrative: this is demo inventory, not a quote.

Sovereignty facts (legal entity, country of incorporation, ultimate parent and its country) are
those the companies publish about themselves; certification records are demo records: their
scope and validity are illustrative, verified by the demo's admin when loaded (one expired, one
not yet verified and one scoped to a region show how the catalog treats them).

``partner_offers()`` expands the fleets into offers (fleet x region x pricing plan). It uses a
random generator seeded by the partner's slug, so the data set is the same on every machine
and every run; only availability changes over time (see feeds.py).
"""

import random
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from marketplace.gpu_names import GpuQuery


@dataclass(frozen=True)
class DemoRegion:
    code: str
    country: str  # ISO 3166-1 alpha-2
    city: str
    name: str
    currency: str = "USD"  # the currency this region is billed in


@dataclass(frozen=True)
class Fleet:
    """One kind of node a partner rents out, in some of its regions."""

    gpu: str  # the GPU name as this partner spells it in its feed (resolved through aliases)
    gpus_per_node: int
    vcpus: int
    ram_gb: int
    storage_gb: int
    gpu_interconnect: str | None  # nvlink | pcie | None
    network: str | None  # infiniband | roce | ethernet | None
    price: str  # on-demand list price per GPU-hour, in USD
    regions: tuple[str, ...]
    plans: tuple[str, ...] = ("od",)  # od, spot, r12, r36 (reserved for 12 or 36 months)
    nodes: tuple[int, int] = (4, 32)  # range of nodes_total per region
    # What the partner's feed states of its GPUs beside the name (gpu_form_factor, gpu_memory_gb):
    # a bare family name ("H100") needs them to be told apart from its other variants.
    form_factor: str | None = None
    memory_gb: int | None = None


@dataclass(frozen=True)
class DemoCertification:
    """A certification record: valid for ``valid_days`` from the load (negative: expired), verified
    by an admin unless ``verified`` is False, of the whole provider unless ``regions`` are named."""

    slug: str
    issuer: str = ""
    valid_days: int = 300
    verified: bool = True
    regions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Operator:
    """Who operates a partner's capacity: its legal entity, where it is incorporated, and its
    ultimate parent (itself when it has none)."""

    legal_entity: str
    country: str
    parent_name: str
    parent_country: str
    dpa_offered: bool = False  # offers a GDPR data processing agreement


@dataclass(frozen=True)
class Partner:
    slug: str
    name: str
    hq_country: str
    website: str
    description: str
    operator: Operator
    certifications: tuple[str | DemoCertification, ...]
    interval_seconds: int  # how often the demo syncs this partner's feed
    regions: tuple[DemoRegion, ...]
    fleets: tuple[Fleet, ...] = field(default=())

    @property
    def certification_records(self) -> tuple[DemoCertification, ...]:
        return tuple(
            cert if isinstance(cert, DemoCertification) else DemoCertification(cert) for cert in self.certifications
        )


# Pricing plans: (pricing_type, min_term_months, price factor against on-demand).
PLANS = {
    "od": ("on_demand", None, Decimal("1")),
    "spot": ("spot", None, Decimal("0.55")),
    "r12": ("reserved", 12, Decimal("0.80")),
    "r36": ("reserved", 36, Decimal("0.66")),
}
EUR_PER_USD = Decimal("0.92")
# The partner the demo's "provider" login owns: it answers capacity requests by hand, on its
# dashboard; every other partner answers by itself (demo/quotes.py).
PROVIDER_USER_PARTNER = "lambda"

# Common node shapes: (vcpus, ram_gb, storage_gb).
HGX_8 = (128, 2048, 61440)  # 8-GPU HGX server, 2x 64-core CPUs, 2 TB RAM, 60 TB NVMe
GB_TRAY = (144, 960, 15360)  # one GB200/GB300 NVL72 compute tray: 2 Grace CPUs, 4 GPUs

# The table is aligned by hand: one fleet per entry reads better than one argument per line.
# fmt: off
PARTNERS: tuple[Partner, ...] = (
    Partner(
        slug="coreweave",
        name="CoreWeave",
        hq_country="US",
        website="https://www.coreweave.com",
        description="AI hyperscaler running large NVIDIA clusters in the US and Europe.",
        operator=Operator("CoreWeave, Inc.", "US", "CoreWeave, Inc.", "US"),
        certifications=("soc2", DemoCertification("iso27001", valid_days=700), "hipaa"),
        interval_seconds=45,
        regions=(
            DemoRegion("US-EAST-04", "US", "Weehawken", "US East 04"),
            DemoRegion("US-EAST-13", "US", "Ellendale", "US East 13"),
            DemoRegion("US-CENTRAL-07", "US", "Plano", "US Central 07"),
            DemoRegion("US-WEST-09", "US", "Las Vegas", "US West 09"),
            DemoRegion("GB-SOUTH-01", "GB", "Crawley", "UK South 01"),
            DemoRegion("GB-LON-01", "GB", "London", "UK London 01"),
            DemoRegion("NO-EAST-01", "NO", "Oslo", "Norway East 01"),
            DemoRegion("SE-CENTRAL-01", "SE", "Falun", "Sweden Central 01"),
            DemoRegion("ES-EAST-01", "ES", "Barcelona", "Spain East 01"),
        ),
        fleets=(
            Fleet("GB200 NVL72", 4, *GB_TRAY, "nvlink", "infiniband", "10.50",
                  ("US-EAST-13", "US-CENTRAL-07", "GB-SOUTH-01"), ("od", "r12", "r36"), (18, 144)),
            Fleet("HGX B200", 8, *HGX_8, "nvlink", "infiniband", "8.60",
                  ("US-EAST-04", "US-CENTRAL-07", "US-WEST-09", "SE-CENTRAL-01", "ES-EAST-01"),
                  ("od", "r12", "r36"), (16, 128)),
            Fleet("HGX H200", 8, *HGX_8, "nvlink", "infiniband", "6.31",
                  ("US-EAST-04", "US-WEST-09", "GB-LON-01", "NO-EAST-01", "ES-EAST-01"), ("od", "r12"), (16, 96)),
            Fleet("HGX H100", 8, *HGX_8, "nvlink", "infiniband", "6.16",
                  ("US-EAST-04", "US-EAST-13", "US-CENTRAL-07", "US-WEST-09", "GB-SOUTH-01", "GB-LON-01",
                   "NO-EAST-01", "SE-CENTRAL-01"), ("od", "r12", "r36"), (32, 256)),
            Fleet("A100 80GB SXM", 8, 128, 2048, 7680, "nvlink", "infiniband", "2.70",
                  ("US-EAST-04", "US-CENTRAL-07", "US-WEST-09"), ("od", "r12"), (8, 64)),
            Fleet("L40S", 8, 128, 1024, 7680, "pcie", "ethernet", "2.25",
                  ("US-EAST-04", "US-CENTRAL-07", "GB-SOUTH-01"), ("od",), (8, 48)),
            Fleet("RTX PRO 6000 Blackwell Server Edition", 8, 128, 1024, 15360, "pcie", "ethernet", "2.40",
                  ("US-EAST-04", "US-WEST-09"), ("od", "r12"), (8, 32)),
        ),
    ),
    Partner(
        slug="nebius",
        name="Nebius",
        hq_country="NL",
        website="https://nebius.com",
        description="AI cloud headquartered in Amsterdam, with its own data centre in Finland.",
        operator=Operator("Nebius B.V.", "NL", "Nebius Group N.V.", "NL", dpa_offered=True),
        certifications=("soc2", "iso27001", "iso27017", "iso27018", "hipaa"),
        interval_seconds=60,
        regions=(
            DemoRegion("eu-north1", "FI", "Mäntsälä", "Finland"),
            DemoRegion("eu-west1", "FR", "Paris", "France", currency="EUR"),
            DemoRegion("eu-north2", "IS", "Keflavík", "Iceland"),
            DemoRegion("us-central1", "US", "Kansas City", "US Central"),
            DemoRegion("uk-south1", "GB", "London", "UK South"),
        ),
        fleets=(
            Fleet("GB200 NVL72", 4, *GB_TRAY, "nvlink", "infiniband", "6.10",
                  ("us-central1", "eu-north2"), ("od", "r12"), (18, 72)),
            Fleet("NVIDIA B200", 8, 160, 1792, 30720, "nvlink", "infiniband", "5.50",
                  ("eu-north1", "us-central1", "uk-south1"), ("od", "r12"), (16, 128)),
            Fleet("NVIDIA H200", 8, 128, 1600, 30720, "nvlink", "infiniband", "3.50",
                  ("eu-north1", "eu-west1", "eu-north2", "us-central1", "uk-south1"), ("od", "r12", "r36"), (16, 160),
                  form_factor="sxm"),
            Fleet("NVIDIA H200", 1, 16, 200, 2048, None, "ethernet", "3.50",
                  ("eu-north1", "eu-west1", "us-central1"), ("od",), (32, 128), form_factor="sxm"),
            Fleet("NVIDIA H100 80GB HBM3", 8, 128, 1600, 30720, "nvlink", "infiniband", "2.95",
                  ("eu-north1", "eu-west1", "eu-north2", "us-central1"), ("od", "r12", "r36"), (32, 256)),
            Fleet("NVIDIA H100 80GB HBM3", 1, 16, 200, 2048, None, "ethernet", "2.95",
                  ("eu-north1", "eu-west1"), ("od",), (32, 128)),
            Fleet("NVIDIA L40S", 1, 16, 96, 1024, None, "ethernet", "1.55", ("eu-north1",), ("od",), (16, 64)),
        ),
    ),
    Partner(
        slug="crusoe",
        name="Crusoe",
        hq_country="US",
        website="https://crusoe.ai",
        description="Climate-aligned AI cloud powered by stranded and renewable energy.",
        operator=Operator("Crusoe Energy Systems LLC", "US", "Crusoe Energy Systems LLC", "US"),
        certifications=("soc2", "iso27001"),
        interval_seconds=30,
        regions=(
            DemoRegion("us-southcentral1-a", "US", "Abilene", "US South Central 1"),
            DemoRegion("us-east1-a", "US", "Ashburn", "US East 1"),
            DemoRegion("us-mountain1-a", "US", "Cheyenne", "US Mountain 1"),
            DemoRegion("eu-iceland1-a", "IS", "Reykjanesbær", "EU Iceland 1"),
        ),
        fleets=(
            Fleet("GB200", 4, *GB_TRAY, "nvlink", "infiniband", "7.20",
                  ("us-southcentral1-a",), ("od", "r12", "r36"), (36, 288)),
            Fleet("B200 SXM", 8, 224, 2048, 30720, "nvlink", "infiniband", "5.25",
                  ("us-southcentral1-a", "us-east1-a", "eu-iceland1-a"), ("od", "r12"), (16, 96)),
            Fleet("H200 SXM", 8, 176, 1536, 30720, "nvlink", "infiniband", "4.29",
                  ("us-southcentral1-a", "us-east1-a", "us-mountain1-a", "eu-iceland1-a"),
                  ("od", "spot", "r12"), (16, 96)),
            Fleet("H100 SXM", 8, 176, 960, 30720, "nvlink", "infiniband", "3.90",
                  ("us-southcentral1-a", "us-east1-a", "us-mountain1-a", "eu-iceland1-a"),
                  ("od", "spot", "r12", "r36"), (16, 128)),
            Fleet("A100 SXM 80GB", 8, 96, 960, 7680, "nvlink", "infiniband", "1.95",
                  ("us-east1-a", "eu-iceland1-a"), ("od", "spot"), (8, 48)),
            Fleet("L40S", 1, 8, 147, 1024, None, "ethernet", "1.45",
                  ("us-east1-a", "eu-iceland1-a"), ("od", "spot"), (16, 96)),
            Fleet("L40S", 8, 64, 1176, 7680, "pcie", "ethernet", "1.45",
                  ("us-east1-a",), ("od",), (4, 24)),
        ),
    ),
    Partner(
        slug="firmus",
        name="Firmus",
        hq_country="AU",
        website="https://firmus.co",
        description="Sustainable AI factories in Tasmania and Singapore, cooled by immersion.",
        operator=Operator("Firmus Technologies Pty Ltd", "AU", "Firmus Technologies Pty Ltd", "AU"),
        certifications=("iso27001", "iso50001"),
        interval_seconds=75,
        regions=(
            DemoRegion("au-tas-1", "AU", "Launceston", "Tasmania"),
            DemoRegion("au-mel-1", "AU", "Melbourne", "Melbourne"),
            DemoRegion("sg-1", "SG", "Singapore", "Singapore"),
        ),
        fleets=(
            Fleet("GB200 NVL72", 4, *GB_TRAY, "nvlink", "infiniband", "6.90",
                  ("au-tas-1",), ("od", "r12", "r36"), (18, 144)),
            Fleet("H200 SXM5", 8, 112, 2048, 30720, "nvlink", "infiniband", "3.60",
                  ("au-tas-1", "au-mel-1", "sg-1"), ("od", "r12"), (16, 64)),
            Fleet("H100 SXM5", 8, 112, 2048, 30720, "nvlink", "infiniband", "2.80",
                  ("au-mel-1", "sg-1"), ("od", "r12", "r36"), (16, 96)),
            Fleet("L40S", 4, 64, 512, 3840, "pcie", "ethernet", "1.60", ("sg-1",), ("od",), (4, 16)),
        ),
    ),
    Partner(
        slug="foxconn",
        name="Foxconn",
        hq_country="TW",
        website="https://www.foxconn.com",
        description="Hon Hai's AI factory supercomputer in Kaohsiung, built on NVIDIA Blackwell.",
        operator=Operator("Hon Hai Precision Industry Co., Ltd.", "TW", "Hon Hai Precision Industry Co., Ltd.", "TW"),
        certifications=("iso27001", DemoCertification("iso50001", valid_days=-20)),
        interval_seconds=90,
        regions=(
            DemoRegion("KHH-1", "TW", "Kaohsiung", "Kaohsiung AI Factory"),
            DemoRegion("TPE-1", "TW", "New Taipei", "Tucheng"),
        ),
        fleets=(
            Fleet("GB300 NVL72", 4, *GB_TRAY, "nvlink", "infiniband", "8.90", ("KHH-1",), ("r12", "r36"), (18, 72)),
            Fleet("GB200 NVL72", 4, *GB_TRAY, "nvlink", "infiniband", "6.80",
                  ("KHH-1",), ("od", "r12", "r36"), (36, 216)),
            Fleet("H200", 8, 112, 2048, 30720, "nvlink", "infiniband", "3.40", ("KHH-1", "TPE-1"), ("od", "r12"),
                  form_factor="sxm", memory_gb=141),
            Fleet("H100", 8, 112, 2048, 30720, "nvlink", "infiniband", "2.60", ("TPE-1",), ("od",), (8, 32),
                  form_factor="sxm", memory_gb=80),
        ),
    ),
    Partner(
        slug="gmi-cloud",
        name="GMI Cloud",
        hq_country="US",
        website="https://www.gmicloud.ai",
        description="GPU cloud from Silicon Valley with AI data centres across Asia.",
        operator=Operator("GMI Cloud Inc.", "US", "GMI Cloud Inc.", "US"),
        certifications=("soc2", DemoCertification("iso27001", valid_days=25)),
        interval_seconds=50,
        regions=(
            DemoRegion("tw-taipei-1", "TW", "Taipei", "Taiwan 1"),
            DemoRegion("us-west-1", "US", "Santa Clara", "US West 1"),
            DemoRegion("th-bangkok-1", "TH", "Bangkok", "Thailand 1"),
        ),
        fleets=(
            Fleet("B200", 8, 224, 2048, 30720, "nvlink", "infiniband", "4.75",
                  ("tw-taipei-1", "us-west-1"), ("od", "r12"), (8, 64)),
            Fleet("H200", 8, 224, 2048, 30720, "nvlink", "infiniband", "2.50",
                  ("tw-taipei-1", "us-west-1", "th-bangkok-1"), ("od", "r12", "r36"), (16, 96), form_factor="sxm"),
            Fleet("H100", 8, 224, 2048, 30720, "nvlink", "infiniband", "2.10",
                  ("tw-taipei-1", "th-bangkok-1"), ("od", "r12"), (16, 96), form_factor="sxm"),
            Fleet("H100", 1, 28, 256, 3840, None, "ethernet", "2.35", ("tw-taipei-1",), ("od",), (16, 64),
                  form_factor="sxm", memory_gb=80),
        ),
    ),
    Partner(
        slug="lambda",
        name="Lambda",
        hq_country="US",
        website="https://lambda.ai",
        description="The GPU cloud for AI developers: on-demand instances and 1-Click Clusters.",
        operator=Operator("Lambda, Inc.", "US", "Lambda, Inc.", "US"),
        certifications=("soc2",),
        interval_seconds=40,
        regions=(
            DemoRegion("us-west-1", "US", "San Francisco", "California, USA"),
            DemoRegion("us-west-3", "US", "Salt Lake City", "Utah, USA"),
            DemoRegion("us-south-1", "US", "Dallas", "Texas, USA"),
            DemoRegion("us-east-1", "US", "Ashburn", "Virginia, USA"),
            DemoRegion("us-midwest-1", "US", "Chicago", "Illinois, USA"),
            DemoRegion("europe-central-1", "DE", "Frankfurt", "Germany"),
            DemoRegion("asia-northeast-1", "JP", "Tokyo", "Tokyo, Japan"),
            DemoRegion("asia-south-1", "IN", "Mumbai", "India"),
            DemoRegion("me-west-1", "IL", "Tel Aviv", "Israel"),
        ),
        # GPU names as Lambda's instance-types API spells them.
        fleets=(
            Fleet("B200 (180 GB SXM6)", 8, 208, 2900, 22528, "nvlink", "infiniband", "4.99",
                  ("us-west-1", "us-east-1", "us-midwest-1"), ("od", "r12"), (8, 64)),
            Fleet("H100 (80 GB SXM5)", 8, 208, 1800, 22528, "nvlink", "infiniband", "2.99",
                  ("us-west-1", "us-west-3", "us-south-1", "us-east-1", "us-midwest-1", "europe-central-1"),
                  ("od", "r12"), (8, 128)),
            Fleet("H100 (80 GB SXM5)", 4, 104, 900, 11264, "nvlink", None, "3.09",
                  ("us-south-1", "us-east-1"), ("od",), (8, 32)),
            Fleet("H100 (80 GB SXM5)", 2, 52, 450, 5632, "nvlink", None, "3.19",
                  ("us-south-1", "us-east-1"), ("od",), (8, 32)),
            Fleet("H100 (80 GB SXM5)", 1, 26, 225, 2816, None, None, "3.29",
                  ("us-west-3", "us-south-1", "us-east-1"), ("od",), (16, 64)),
            Fleet("H100 (80 GB PCIe)", 1, 26, 200, 1024, None, None, "2.49",
                  ("us-west-1", "us-west-3", "us-east-1", "europe-central-1", "asia-northeast-1"), ("od",), (8, 48)),
            Fleet("GH200 (96 GB)", 1, 64, 432, 4096, None, None, "1.49", ("us-east-1", "us-west-3"), ("od",), (8, 64)),
            Fleet("A100 (80 GB SXM4)", 8, 240, 1800, 19968, "nvlink", "infiniband", "1.79",
                  ("us-west-1", "us-south-1", "us-midwest-1", "asia-south-1", "me-west-1"), ("od",), (4, 32)),
            Fleet("A100 (40 GB SXM4)", 1, 30, 200, 512, None, None, "1.29",
                  ("us-west-1", "us-south-1", "europe-central-1", "asia-northeast-1", "me-west-1"), ("od",), (8, 48)),
            Fleet("A10 (24 GB PCIe)", 1, 30, 200, 1400, None, None, "0.75",
                  ("us-west-1", "us-east-1", "europe-central-1", "asia-northeast-1", "asia-south-1"),
                  ("od",), (16, 96)),
            Fleet("RTX A6000 (48 GB)", 1, 14, 46, 512, None, None, "0.80",
                  ("us-west-1", "us-south-1", "asia-south-1"), ("od",), (8, 48)),
            Fleet("RTX A6000 (48 GB)", 4, 56, 184, 2048, "pcie", None, "0.80", ("us-west-1",), ("od",), (4, 16)),
            Fleet("Tesla V100 (16 GB)", 8, 88, 448, 6144, "nvlink", None, "0.55", ("us-east-1",), ("od",), (4, 16)),
        ),
    ),
    Partner(
        slug="nscale",
        name="Nscale",
        hq_country="GB",
        website="https://www.nscale.com",
        description="European AI hyperscaler running on renewable power in Norway, the UK and Portugal.",
        operator=Operator("Nscale Ltd", "GB", "", "GB", dpa_offered=True),
        certifications=("iso27001", DemoCertification("soc2", verified=False)),
        interval_seconds=55,
        regions=(
            DemoRegion("no-glomfjord-1", "NO", "Glomfjord", "Glomfjord"),
            DemoRegion("no-narvik-1", "NO", "Narvik", "Stargate Norway"),
            DemoRegion("uk-loughton-1", "GB", "Loughton", "Loughton AI Campus"),
            DemoRegion("pt-sines-1", "PT", "Sines", "Sines", currency="EUR"),
        ),
        fleets=(
            Fleet("GB300", 4, *GB_TRAY, "nvlink", "infiniband", "8.20",
                  ("no-narvik-1", "uk-loughton-1"), ("r12", "r36"), (36, 288)),
            Fleet("GB200", 4, *GB_TRAY, "nvlink", "infiniband", "6.50",
                  ("no-glomfjord-1", "pt-sines-1"), ("od", "r12"), (18, 144)),
            Fleet("H200 SXM", 8, 128, 2048, 30720, "nvlink", "infiniband", "3.20",
                  ("no-glomfjord-1", "uk-loughton-1", "pt-sines-1"), ("od", "r12"), (16, 96)),
            Fleet("H100 SXM", 8, 128, 2048, 30720, "nvlink", "infiniband", "2.60",
                  ("no-glomfjord-1", "uk-loughton-1"), ("od", "spot", "r12"), (16, 96)),
        ),
    ),
    Partner(
        slug="softbank",
        name="SoftBank",
        hq_country="JP",
        website="https://www.softbank.jp",
        description="SoftBank Corp.'s AI computing platform: DGX SuperPODs in Japan.",
        operator=Operator("SoftBank Corp.", "JP", "SoftBank Group Corp.", "JP"),
        certifications=("iso27001", "iso27017"),
        interval_seconds=70,
        regions=(
            DemoRegion("jp-east-1", "JP", "Tokyo", "Tokyo"),
            DemoRegion("jp-north-1", "JP", "Tomakomai", "Hokkaido"),
            DemoRegion("jp-west-1", "JP", "Sakai", "Osaka (Sakai)"),
        ),
        fleets=(
            Fleet("GB200 NVL72", 4, *GB_TRAY, "nvlink", "infiniband", "7.40",
                  ("jp-west-1",), ("od", "r12", "r36"), (36, 288)),
            Fleet("B200", 8, 112, 2048, 30720, "nvlink", "infiniband", "5.60",
                  ("jp-east-1", "jp-west-1"), ("od", "r12", "r36"), (16, 128)),
            Fleet("H100 80GB HBM3", 8, 112, 2048, 30720, "nvlink", "infiniband", "3.30",
                  ("jp-east-1", "jp-north-1"), ("od", "r12"), (16, 64)),
            Fleet("L40S", 4, 64, 512, 3840, "pcie", "ethernet", "1.70", ("jp-east-1",), ("od",), (8, 32)),
        ),
    ),
    Partner(
        slug="yotta",
        name="Yotta",
        hq_country="IN",
        website="https://yotta.com",
        description="Shakti Cloud: sovereign AI cloud on NVIDIA GPUs in Yotta's Indian data centres.",
        operator=Operator("Yotta Data Services Private Limited", "IN", "Hiranandani Group", "IN"),
        certifications=("iso27001", "iso27017", "iso27018", DemoCertification("pci-dss", regions=("NM1",)), "soc2"),
        interval_seconds=65,
        regions=(
            DemoRegion("NM1", "IN", "Navi Mumbai", "Yotta NM1 (Panvel)"),
            DemoRegion("D1", "IN", "Greater Noida", "Yotta D1"),
            DemoRegion("G1", "IN", "Gandhinagar", "Yotta G1 (GIFT City)"),
        ),
        fleets=(
            Fleet("HGX B200", 8, 112, 2048, 30720, "nvlink", "infiniband", "4.20", ("NM1",), ("od", "r12"), (16, 96)),
            Fleet("HGX H100", 8, 112, 2048, 30720, "nvlink", "infiniband", "2.20",
                  ("NM1", "D1", "G1"), ("od", "r12", "r36"), (32, 256)),
            Fleet("L40S", 4, 64, 512, 3840, "pcie", "ethernet", "1.10", ("NM1", "D1"), ("od",), (8, 48)),
            Fleet("L4", 1, 16, 64, 512, None, "ethernet", "0.45", ("D1",), ("od",), (16, 96)),
        ),
    ),
)
# fmt: on

PARTNERS_BY_SLUG = {partner.slug: partner for partner in PARTNERS}


@dataclass(frozen=True)
class DemoOffer:
    """One offer of the demo data set, before availability (which depends on the time)."""

    id: str
    region: str
    gpu: str
    gpus_per_node: int
    vcpus: int
    ram_gb: int
    storage_gb: int
    gpu_interconnect: str | None
    network: str | None
    pricing_type: str
    min_term_months: int | None
    price: Decimal  # per GPU-hour, in ``currency``
    currency: str
    nodes_total: int
    gpu_form_factor: str | None = None
    gpu_memory_gb: int | None = None

    @property
    def gpu_query(self) -> GpuQuery:
        """The name and the facts the feed states, as the GPU resolver reads them."""
        return GpuQuery(
            name=self.gpu,
            memory_gb=self.gpu_memory_gb,
            form_factor=self.gpu_form_factor or "",
            interconnect=self.gpu_interconnect or "",
            gpus_per_node=self.gpus_per_node,
        )


def _offer_id(fleet: Fleet, region: str, plan: str) -> str:
    gpu = "".join(ch if ch.isalnum() else "-" for ch in fleet.gpu.lower())
    gpu = "-".join(part for part in gpu.split("-") if part)
    return f"{gpu}-{fleet.gpus_per_node}x-{region.lower()}-{plan}"


def partner_offers(partner: Partner) -> list[DemoOffer]:
    """Every offer of ``partner``: fleet x region x pricing plan, the same on every call."""
    rng = random.Random(f"gpu-marketplace-demo:{partner.slug}")  # noqa: S311 (demo data, not security)
    regions = {region.code: region for region in partner.regions}
    offers = []
    for fleet in partner.fleets:
        for code in fleet.regions:
            region = regions[code]
            # Prices differ a little from one site to another (power, demand).
            site_factor = Decimal(str(round(rng.uniform(0.96, 1.06), 3)))
            nodes_total = rng.randint(*fleet.nodes)
            for plan in fleet.plans:
                pricing_type, min_term, plan_factor = PLANS[plan]
                price = Decimal(fleet.price) * site_factor * plan_factor
                if region.currency == "EUR":
                    price *= EUR_PER_USD
                offers.append(
                    DemoOffer(
                        id=_offer_id(fleet, code, plan),
                        region=code,
                        gpu=fleet.gpu,
                        gpus_per_node=fleet.gpus_per_node,
                        vcpus=fleet.vcpus,
                        ram_gb=fleet.ram_gb,
                        storage_gb=fleet.storage_gb,
                        gpu_interconnect=fleet.gpu_interconnect,
                        network=fleet.network,
                        pricing_type=pricing_type,
                        min_term_months=min_term,
                        price=price.quantize(Decimal("0.01"), ROUND_HALF_UP),
                        currency=region.currency,
                        # Spot capacity is what is left over: a slice of the fleet.
                        nodes_total=max(1, nodes_total // 4) if plan == "spot" else nodes_total,
                        gpu_form_factor=fleet.form_factor,
                        gpu_memory_gb=fleet.memory_gb,
                    )
                )
    return offers
