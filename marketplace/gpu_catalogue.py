"""The GPU catalogue loaded by migrations (0002, then 0011 for vendors, families and facts), with the
names providers really use.

Aliases are matched after normalize_gpu_name() (case, spaces, punctuation, "NVIDIA", "GeForce",
"Tesla" ignored; "80G" and "80GB" alike; "SXM4" and "SXM5" alike), so "NVIDIA H100-SXM" and
"h100_sxm" need one entry. An alias names one model: a bare family name that several models share
("H100", "A100", "H200", "A100 80GB") is never an alias; the resolver narrows the family with the
facts an offer states (marketplace/gpu_names.py). Sources: NVIDIA, AMD and Intel data sheets; the
names returned by the Lambda, RunPod, Vast.ai, Shadeform, Verda and Hyperstack APIs; public cloud
catalogs (marketplace/tests/data/public_gpu_catalogs.csv).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Gpu:
    slug: str
    name: str
    vendor: str  # nvidia | amd | intel
    family: str  # what a bare name of the product normalizes to: "h100" for every H100
    architecture: str
    memory_gb: int
    memory_type: str
    form_factor: str  # sxm | pcie | nvl | superchip | oam | "" (forms not told apart)
    segment: str  # datacenter | workstation | consumer
    year: int | None
    aliases: tuple[str, ...] = ()


def _g(slug, name, vendor, family, arch, memory, memory_type, form, segment, year, aliases=()) -> Gpu:
    return Gpu(slug, name, vendor, family, arch, memory, memory_type, form, segment, year, tuple(aliases))


DC, WS, CONSUMER = "datacenter", "workstation", "consumer"
NV, AMD, INTEL = "nvidia", "amd", "intel"

# The table is aligned by hand: one GPU per entry reads better than one argument per line.
# fmt: off
GPUS: list[Gpu] = [
    # --- NVIDIA data centre ----------------------------------------------------------------------
    _g("gb300", "GB300", NV, "gb300", "Blackwell Ultra", 288, "HBM3e", "superchip", DC, 2025,
       ["GB300 NVL72", "GB300 288GB"]),
    _g("gb200", "GB200", NV, "gb200", "Blackwell", 186, "HBM3e", "superchip", DC, 2024,
       ["GB200 NVL72", "GB200 NVL", "GB200 186GB", "gb200nvl72"]),
    _g("b300", "B300 288GB", NV, "b300", "Blackwell Ultra", 288, "HBM3e", "sxm", DC, 2025,
       ["B300 SXM6 268GB", "B300 SXM6 288GB", "B300", "B300 SXM", "HGX B300", "B300 SXM6 AC", "B300 SXM6"]),
    _g("b200", "B200 180GB", NV, "b200", "Blackwell", 180, "HBM3e", "sxm", DC, 2024,
       ["B200 SXM6 180GB", "B200", "B200 SXM", "HGX B200", "B200 192GB", "B200 (180 GB SXM6)", "B200 SXM6"]),
    _g("gh200", "GH200 96GB", NV, "gh200", "Hopper", 96, "HBM3", "superchip", DC, 2023,
       ["GH200", "GH200 480GB", "GH200 (96 GB)", "Grace Hopper", "GH200 Superchip", "GH200 SXM"]),
    _g("h200", "H200 SXM 141GB", NV, "h200", "Hopper", 141, "HBM3e", "sxm", DC, 2024,
       ["H200 SXM5 141GB", "H200-141G-SXM5", "H200 SXM", "H200 SXM5", "H200 141GB SXM", "HGX H200",
        "H200 (141 GB SXM5)"]),
    _g("h200-nvl", "H200 NVL 141GB", NV, "h200", "Hopper", 141, "HBM3e", "nvl", DC, 2024, ["H200 NVL"]),
    _g("h100-sxm", "H100 SXM 80GB", NV, "h100", "Hopper", 80, "HBM3", "sxm", DC, 2022,
       ["H100 SXM5 80GB", "H100-80G-SXM5", "H100 SXM", "H100 SXM5", "H100 80GB SXM5", "H100-SXM", "h100_sxm",
        "H100 80GB HBM3", "H100 (80 GB SXM5)", "HGX H100", "H100 Mega", "H100 Mega 80GB"]),
    _g("h100-pcie", "H100 PCIe 80GB", NV, "h100", "Hopper", 80, "HBM2e", "pcie", DC, 2022,
       ["H100-80G-PCIe", "H100-80G-PCIe-NVLink", "H100 pcie 80GB", "H100 PCIe", "H100 80GB PCIe",
        "H100 (80 GB PCIe)", "h100_pcie"]),
    _g("h100-nvl", "H100 NVL 94GB", NV, "h100", "Hopper", 94, "HBM3", "nvl", DC, 2023,
       ["H100 NVL", "H100 94GB NVL", "h100_nvl", "H100NVL"]),
    _g("a100-sxm-80", "A100 SXM 80GB", NV, "a100", "Ampere", 80, "HBM2e", "sxm", DC, 2020,
       ["A100_80G sxm4 80GB", "A100 SXM4 80GB", "A100-SXM4-80GB", "A100 80GB SXM", "A100 (80 GB SXM4)",
        "a100_sxm4_80gb"]),
    _g("a100-sxm-40", "A100 SXM 40GB", NV, "a100", "Ampere", 40, "HBM2", "sxm", DC, 2020,
       ["A100 sxm4 40GB", "A100 SXM4 40GB", "A100-SXM4-40GB", "A100 (40 GB SXM4)", "A100 40GB SXM"]),
    _g("a100-pcie-80", "A100 PCIe 80GB", NV, "a100", "Ampere", 80, "HBM2e", "pcie", DC, 2021,
       ["A100-80G-PCIe", "A100-80G-PCIe-NVLink", "A100_80G pcie 80GB", "A100 80GB PCIe", "A100 PCIe 80GB",
        "A100X", "A100 (80 GB PCIe)"]),
    _g("a100-pcie-40", "A100 PCIe 40GB", NV, "a100", "Ampere", 40, "HBM2", "pcie", DC, 2020,
       ["A100 pcie 40GB", "A100 40GB PCIe", "A100-PCIE-40GB", "A100 (40 GB PCIe)"]),
    _g("a800-sxm-80", "A800 SXM 80GB", NV, "a800", "Ampere", 80, "HBM2e", "sxm", DC, 2022, ["A800 SXM4 80GB"]),
    _g("a800-pcie-80", "A800 PCIe 80GB", NV, "a800", "Ampere", 80, "HBM2e", "pcie", DC, 2022, ["A800 80GB PCIe"]),
    _g("a800-pcie-40", "A800 40GB Active", NV, "a800", "Ampere", 40, "HBM2", "pcie", WS, 2022,
       ["A800 40GB", "A800 40GB PCIe"]),
    _g("a30", "A30 24GB", NV, "a30", "Ampere", 24, "HBM2", "pcie", DC, 2021, ["A30"]),
    _g("l40s", "L40S 48GB", NV, "l40s", "Ada Lovelace", 48, "GDDR6", "pcie", DC, 2023,
       ["L40S pcie 48GB", "L40S", "L40S (48 GB)", "L40S 48GB PCIe"]),
    _g("l40", "L40 48GB", NV, "l40", "Ada Lovelace", 48, "GDDR6", "pcie", DC, 2022, ["L40 pcie 48GB", "L40"]),
    _g("l4", "L4 24GB", NV, "l4", "Ada Lovelace", 24, "GDDR6", "pcie", DC, 2023, ["L4"]),
    _g("a40", "A40 48GB", NV, "a40", "Ampere", 48, "GDDR6", "pcie", DC, 2020, ["A40 pcie 48GB", "A40"]),
    _g("a10", "A10 24GB", NV, "a10", "Ampere", 24, "GDDR6", "pcie", DC, 2021,
       ["A10 pcie 24GB", "A10", "A10 (24 GB PCIe)", "A10G"]),
    _g("a16", "A16 16GB", NV, "a16", "Ampere", 16, "GDDR6", "pcie", DC, 2021, ["A16"]),
    _g("t4", "T4 16GB", NV, "t4", "Turing", 16, "GDDR6", "pcie", DC, 2018, ["T4", "T4g"]),
    _g("v100-32", "V100 32GB", NV, "v100", "Volta", 32, "HBM2", "", DC, 2018,
       ["V100 SXM2 32GB", "V100-SXM2-32GB", "V100 32GB", "V100-PCIE-32GB"]),
    _g("v100-16", "V100 16GB", NV, "v100", "Volta", 16, "HBM2", "", DC, 2017,
       ["V100 SXM2 16GB", "V100-SXM2-16GB", "V100 16GB", "V100 (16 GB)", "V100-PCIE-16GB"]),
    _g("p100", "P100 16GB", NV, "p100", "Pascal", 16, "HBM2", "", DC, 2016, ["P100"]),
    _g("p4", "P4 8GB", NV, "p4", "Pascal", 8, "GDDR5", "pcie", DC, 2016, ["P4"]),
    _g("m60", "M60 8GB", NV, "m60", "Maxwell", 8, "GDDR5", "pcie", DC, 2015, ["M60"]),
    # --- NVIDIA workstation ----------------------------------------------------------------------
    _g("rtx-pro-6000", "RTX PRO 6000 Blackwell 96GB", NV, "rtxpro6000", "Blackwell", 96, "GDDR7", "pcie", WS, 2025,
       ["RTX PRO 6000 96GB", "RTX PRO 6000", "RTX PRO 6000 Blackwell", "RTX PRO 6000 Blackwell Server Edition",
        "RTX PRO 6000 Blackwell Workstation Edition", "RTX PRO 6000 WS", "RTX PRO 6000 S", "RTXPRO6000"]),
    _g("rtx-6000-ada", "RTX 6000 Ada 48GB", NV, "rtx6000ada", "Ada Lovelace", 48, "GDDR6", "pcie", WS, 2022,
       ["RTX 6000 Ada", "RTX 6000Ada", "RTX 6000 Ada Generation", "RTX6000Ada", "RTX 6000 Ada (48 GB)",
        "RTX6000 Ada"]),
    _g("rtx-5000-ada", "RTX 5000 Ada 32GB", NV, "rtx5000ada", "Ada Lovelace", 32, "GDDR6", "pcie", WS, 2023,
       ["RTX 5000 Ada", "RTX 5000Ada", "RTX 5000 Ada Generation"]),
    _g("rtx-a6000", "RTX A6000 48GB", NV, "rtxa6000", "Ampere", 48, "GDDR6", "pcie", WS, 2020,
       ["A6000 pcie 48GB", "A6000 (48 GB)", "RTX A6000", "A6000", "RTX A6000 (48 GB)", "RTX-A6000"]),
    _g("rtx-a5000", "RTX A5000 24GB", NV, "rtxa5000", "Ampere", 24, "GDDR6", "pcie", WS, 2021,
       ["A5000 pcie 24GB", "RTX A5000", "A5000"]),
    _g("rtx-4000-ada", "RTX 4000 Ada 20GB", NV, "rtx4000ada", "Ada Lovelace", 20, "GDDR6", "pcie", WS, 2023,
       ["RTX 4000 Ada", "RTX 4000 Ada Generation", "RTX 4000Ada", "RTX4000 Ada"]),
    _g("rtx-a4500", "RTX A4500 20GB", NV, "rtxa4500", "Ampere", 20, "GDDR6", "pcie", WS, 2021, ["RTX A4500", "A4500"]),
    _g("rtx-a4000", "RTX A4000 16GB", NV, "rtxa4000", "Ampere", 16, "GDDR6", "pcie", WS, 2021,
       ["RTX A4000", "A4000", "RTX-A4000"]),
    _g("rtx-2000-ada", "RTX 2000 Ada 16GB", NV, "rtx2000ada", "Ada Lovelace", 16, "GDDR6", "pcie", WS, 2024,
       ["RTX 2000 Ada", "RTX 2000 Ada Generation"]),
    _g("quadro-rtx-8000", "Quadro RTX 8000 48GB", NV, "rtx8000", "Turing", 48, "GDDR6", "pcie", WS, 2018,
       ["Quadro RTX 8000", "Q RTX 8000", "RTX 8000"]),
    _g("quadro-rtx-6000", "Quadro RTX 6000 24GB", NV, "rtx6000", "Turing", 24, "GDDR6", "pcie", WS, 2018,
       ["Quadro RTX 6000", "RTX 6000 (24 GB)", "RTX 6000 24GB", "RTX 6000", "Q RTX 6000"]),
    _g("quadro-rtx-5000", "Quadro RTX 5000 16GB", NV, "rtx5000", "Turing", 16, "GDDR6", "pcie", WS, 2018,
       ["Quadro RTX 5000", "RTX 5000", "RTX5000"]),
    _g("quadro-rtx-4000", "Quadro RTX 4000 8GB", NV, "rtx4000", "Turing", 8, "GDDR6", "pcie", WS, 2018,
       ["Quadro RTX 4000", "RTX 4000", "RTX4000"]),
    _g("quadro-p6000", "Quadro P6000 24GB", NV, "p6000", "Pascal", 24, "GDDR5X", "pcie", WS, 2016, ["P6000"]),
    _g("quadro-p5000", "Quadro P5000 16GB", NV, "p5000", "Pascal", 16, "GDDR5X", "pcie", WS, 2016, ["P5000"]),
    _g("quadro-p4000", "Quadro P4000 8GB", NV, "p4000", "Pascal", 8, "GDDR5", "pcie", WS, 2017, ["P4000"]),
    # --- NVIDIA consumer -------------------------------------------------------------------------
    _g("rtx-5090", "RTX 5090 32GB", NV, "rtx5090", "Blackwell", 32, "GDDR7", "pcie", CONSUMER, 2025, ["RTX 5090"]),
    _g("rtx-5080", "RTX 5080 16GB", NV, "rtx5080", "Blackwell", 16, "GDDR7", "pcie", CONSUMER, 2025, ["RTX 5080"]),
    _g("rtx-5070-ti", "RTX 5070 Ti 16GB", NV, "rtx5070ti", "Blackwell", 16, "GDDR7", "pcie", CONSUMER, 2025,
       ["RTX 5070 Ti"]),
    _g("rtx-5070", "RTX 5070 12GB", NV, "rtx5070", "Blackwell", 12, "GDDR7", "pcie", CONSUMER, 2025, ["RTX 5070"]),
    _g("rtx-5060-ti-16", "RTX 5060 Ti 16GB", NV, "rtx5060ti", "Blackwell", 16, "GDDR7", "pcie", CONSUMER, 2025,
       ["RTX 5060 Ti 16GB"]),
    _g("rtx-5060-ti-8", "RTX 5060 Ti 8GB", NV, "rtx5060ti", "Blackwell", 8, "GDDR7", "pcie", CONSUMER, 2025,
       ["RTX 5060 Ti 8GB"]),
    _g("rtx-4090", "RTX 4090 24GB", NV, "rtx4090", "Ada Lovelace", 24, "GDDR6X", "pcie", CONSUMER, 2022,
       ["RTX4090 pcie 24GB", "RTX 4090"]),
    _g("rtx-4080-super", "RTX 4080 SUPER 16GB", NV, "rtx4080super", "Ada Lovelace", 16, "GDDR6X", "pcie", CONSUMER,
       2024, ["RTX 4080 SUPER", "RTX 4080S"]),
    _g("rtx-4080", "RTX 4080 16GB", NV, "rtx4080", "Ada Lovelace", 16, "GDDR6X", "pcie", CONSUMER, 2022,
       ["RTX 4080"]),
    _g("rtx-4070-ti", "RTX 4070 Ti 12GB", NV, "rtx4070ti", "Ada Lovelace", 12, "GDDR6X", "pcie", CONSUMER, 2023,
       ["RTX 4070 Ti"]),
    _g("rtx-4070", "RTX 4070 12GB", NV, "rtx4070", "Ada Lovelace", 12, "GDDR6X", "pcie", CONSUMER, 2023,
       ["RTX 4070"]),
    _g("rtx-3090-ti", "RTX 3090 Ti 24GB", NV, "rtx3090ti", "Ampere", 24, "GDDR6X", "pcie", CONSUMER, 2022,
       ["RTX 3090 Ti"]),
    _g("rtx-3090", "RTX 3090 24GB", NV, "rtx3090", "Ampere", 24, "GDDR6X", "pcie", CONSUMER, 2020, ["RTX 3090"]),
    _g("rtx-3080-ti", "RTX 3080 Ti 12GB", NV, "rtx3080ti", "Ampere", 12, "GDDR6X", "pcie", CONSUMER, 2021,
       ["RTX 3080 Ti"]),
    _g("rtx-3080-10", "RTX 3080 10GB", NV, "rtx3080", "Ampere", 10, "GDDR6X", "pcie", CONSUMER, 2020,
       ["RTX 3080 10GB"]),
    _g("rtx-3080-12", "RTX 3080 12GB", NV, "rtx3080", "Ampere", 12, "GDDR6X", "pcie", CONSUMER, 2022,
       ["RTX 3080 12GB"]),
    _g("rtx-3070", "RTX 3070 8GB", NV, "rtx3070", "Ampere", 8, "GDDR6", "pcie", CONSUMER, 2020, ["RTX 3070"]),
    _g("rtx-3060-ti", "RTX 3060 Ti 8GB", NV, "rtx3060ti", "Ampere", 8, "GDDR6", "pcie", CONSUMER, 2020,
       ["RTX 3060 Ti"]),
    _g("rtx-3060-12", "RTX 3060 12GB", NV, "rtx3060", "Ampere", 12, "GDDR6", "pcie", CONSUMER, 2021,
       ["RTX 3060 12GB"]),
    _g("rtx-3060-8", "RTX 3060 8GB", NV, "rtx3060", "Ampere", 8, "GDDR6", "pcie", CONSUMER, 2022, ["RTX 3060 8GB"]),
    # --- AMD -------------------------------------------------------------------------------------
    _g("mi355x", "Instinct MI355X 288GB", AMD, "mi355x", "CDNA 4", 288, "HBM3e", "oam", DC, 2025,
       ["MI355X", "AMD Instinct MI355X"]),
    _g("mi325x", "Instinct MI325X 256GB", AMD, "mi325x", "CDNA 3", 256, "HBM3e", "oam", DC, 2024,
       ["MI325X", "AMD Instinct MI325X"]),
    _g("mi300x", "Instinct MI300X 192GB", AMD, "mi300x", "CDNA 3", 192, "HBM3", "oam", DC, 2023,
       ["MI300X", "AMD Instinct MI300X", "AMD Instinct MI300X OAM"]),
    _g("radeon-pro-v520", "Radeon Pro V520 8GB", AMD, "radeonprov520", "RDNA", 8, "HBM2", "pcie", DC, 2020,
       ["Radeon Pro V520", "V520"]),
    # --- Intel -----------------------------------------------------------------------------------
    _g("gaudi3", "Gaudi 3 128GB", INTEL, "gaudi3", "Gaudi 3", 128, "HBM2e", "oam", DC, 2024,
       ["Gaudi 3", "Gaudi3", "Intel Gaudi 3", "HL-325L"]),
    _g("gaudi2", "Gaudi 2 96GB", INTEL, "gaudi2", "Gaudi 2", 96, "HBM2e", "oam", DC, 2022,
       ["Gaudi 2", "Gaudi2", "Intel Gaudi 2", "HL-225"]),
    _g("gaudi", "Gaudi 32GB", INTEL, "gaudi", "Gaudi", 32, "HBM2", "oam", DC, 2019, ["Gaudi HL-205", "HL-205"]),
]
# fmt: on

# Instance families whose name says nothing of the form factor, though the cloud documents it:
# (glob pattern on the lower-case instance type, form factor, source). The longest match applies.
INSTANCE_TYPE_FACTS: list[tuple[str, str, str]] = [
    ("p6-b200.*", "sxm", "AWS EC2 P6: 8 NVIDIA B200 (HGX B200)"),
    ("p6-b300.*", "sxm", "AWS EC2 P6: 8 NVIDIA B300 (HGX B300)"),
    ("p5.*", "sxm", "AWS EC2 P5: NVIDIA H100 SXM (HGX H100, NVSwitch)"),
    ("p5e.*", "sxm", "AWS EC2 P5e: NVIDIA H200 (HGX H200)"),
    ("p5en.*", "sxm", "AWS EC2 P5en: NVIDIA H200 (HGX H200)"),
    ("p4d.*", "sxm", "AWS EC2 P4d: NVIDIA A100 40GB SXM4 (HGX A100, NVSwitch)"),
    ("p4de.*", "sxm", "AWS EC2 P4de: NVIDIA A100 80GB SXM4 (HGX A100)"),
    ("a2-highgpu-*", "sxm", "GCP A2 standard: NVIDIA A100 40GB (HGX A100, NVSwitch)"),
    ("a2-megagpu-*", "sxm", "GCP A2 standard: NVIDIA A100 40GB (HGX A100, NVSwitch)"),
    ("a2-ultragpu-*", "sxm", "GCP A2 ultra: NVIDIA A100 80GB (HGX A100, NVSwitch)"),
    ("a3-highgpu-*", "sxm", "GCP A3 High: NVIDIA H100 SXM 80GB"),
    ("a3-edgegpu-*", "sxm", "GCP A3 Edge: NVIDIA H100 SXM 80GB"),
    ("a3-megagpu-*", "sxm", "GCP A3 Mega: NVIDIA H100 SXM 80GB"),
    ("a3-ultragpu-*", "sxm", "GCP A3 Ultra: NVIDIA H200 SXM 141GB"),
    ("a4-highgpu-*", "sxm", "GCP A4: NVIDIA B200 (HGX B200)"),
    ("standard_nd*_h100_v5", "sxm", "Azure ND H100 v5: 8 NVIDIA H100 SXM (NVLink 4)"),
    ("standard_nd*_h200_v5", "sxm", "Azure ND H200 v5: 8 NVIDIA H200 SXM"),
    ("standard_nc*ads_a100_v4", "pcie", "Azure NC A100 v4: NVIDIA A100 PCIe 80GB"),
    ("bm.gpu.h100.*", "sxm", "OCI BM.GPU.H100.8: 8 NVIDIA H100 SXM (HGX)"),
    ("bm.gpu.h200.*", "sxm", "OCI BM.GPU.H200.8: 8 NVIDIA H200 SXM (HGX)"),
    ("gpu-h100x*", "sxm", "DigitalOcean GPU Droplets: NVIDIA H100 SXM (HGX H100)"),
    ("gpu-h200x*", "sxm", "DigitalOcean GPU Droplets: NVIDIA H200 SXM (HGX H200)"),
    ("vbm-*-h100-gpu", "sxm", "Vultr Bare Metal: NVIDIA HGX H100"),
    ("vbm-*-a100-gpu", "sxm", "Vultr Bare Metal: NVIDIA HGX A100"),
    ("vcg-a100-*", "pcie", "Vultr Cloud GPU: NVIDIA A100 PCIe 80GB"),
]
