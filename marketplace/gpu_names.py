"""How a GPU name and the facts an offer states become one catalogue model: the rules, as pure functions.

Providers name the same GPU many ways ("H100 SXM5 80GB", "NVIDIA H100 80GB HBM3", "h100_sxm"), and
the same name often covers several models: "H100" is sold as SXM, PCIe and NVL, "A100" in 40 and
80 GB, SXM and PCIe. So a name alone is never enough to pick a variant. The resolver
(``GpuAlias.objects.resolve_facts``) uses, in this order:

1. an alias of the whole name (the provider's own first, then a global one), if the model it names
   agrees with every fact the offer states;
2. the GPU family the name names once its facts are taken out ("A100 80GB PCIe" is the family
   A100 with 80 GB and PCIe), narrowed by every fact stated: memory per GPU (from the name or the
   offer), form factor (the name, the offer, the instance type's name or a known instance type),
   memory type (HBM3, GDDR6...), and the GPU interconnect (NVLink across more GPUs than a bridge
   joins rules out cards);
3. otherwise nothing: a name that matches no model is *unknown*, one that still matches several
   is *ambiguous*, one whose facts contradict every model is a *contradiction*. Each goes to the
   admin review queue with the facts shown, never to a guessed variant.

This module parses names and checks facts; it knows no database.
"""

import re
from dataclasses import dataclass, field
from functools import lru_cache

# Words that say who made it or how it is marketed, not which GPU it is.
VENDOR_WORDS = frozenset({"nvidia", "geforce", "tesla", "quadro", "amd", "instinct", "intel", "habana"})
NOISE_WORDS = frozenset({"generation", "gen", "tensor", "core", "gpu", "accelerator"})
MEMORY_TYPES = {"hbm2": "HBM2", "hbm2e": "HBM2e", "hbm3": "HBM3", "hbm3e": "HBM3e"}
MEMORY_TYPES |= {"gddr6": "GDDR6", "gddr6x": "GDDR6X", "gddr7": "GDDR7"}
INTERCONNECT_WORDS = frozenset({"nvlink"})
# "80GB", "80 GB", "80G", "80GiB" (and "80G" in "A100_80G"): memory per GPU in a name.
MEMORY = re.compile(r"(?<![a-z0-9.])(\d{1,3})\s*(?:gib|gb|g)(?![a-z0-9])")

# Form factors, as the catalogue stores them. A name's or an offer's form factor is compatible
# with these catalogue values: an SXM or OAM module is a module; "NVL" on a Grace system
# (GB200 NVL72) is the rack, "PCIe" is the PCIe card of that name ("H100 PCIe"), not its NVL sibling.
SXM, PCIE, NVL, SUPERCHIP, OAM = "sxm", "pcie", "nvl", "superchip", "oam"
FORM_FACTORS = (SXM, PCIE, NVL, SUPERCHIP, OAM)
COMPATIBLE_FORMS = {
    SXM: {SXM, SUPERCHIP, OAM},
    OAM: {OAM, SXM},
    NVL: {NVL, SUPERCHIP},
    PCIE: {PCIE},
    SUPERCHIP: {SUPERCHIP},
}
# An NVLink bridge joins at most this many cards of each form factor (H200 NVL: 4-way; PCIe: pairs):
# NVLink across more GPUs than that means modules on an NVLink switch.
BRIDGE_MAX_GPUS = {PCIE: 2, NVL: 4}
# Relative tolerance on a stated memory size: clouds report GiB, or a little less than the data
# sheet (AWS: L4 22 GiB for 24 GB, L40S 44.7 for 48). Variants of one family differ by far more.
MEMORY_TOLERANCE = 0.1


# Words that state a form factor. HGX/DGX boards carry SXM modules; GCP's "H100 Mega" is the SXM
# H100; "NVL72" and "NVL2" name Grace racks and boards (GB200 NVL72, GH200 NVL2).
FORM_WORDS = {"hgx": SXM, "dgx": SXM, "mega": SXM, "pcie": PCIE, "pci": PCIE, "nvl": NVL, "oam": OAM}
FORM_WORDS |= {"superchip": SUPERCHIP, "grace": SUPERCHIP}


def _form_token(token: str) -> str | None:
    if re.fullmatch(r"sxm\d*", token):
        return SXM
    if re.fullmatch(r"nvl\d+", token):
        return SUPERCHIP
    return FORM_WORDS.get(token)


@dataclass(frozen=True)
class NameFacts:
    """What a GPU name says: its lookup key, its family key, and the facts it carries."""

    key: str  # the whole name, normalized: aliases are stored and looked up under it
    family: str  # the name without its facts ("a100" for "NVIDIA A100 80GB PCIe")
    memory_gb: int | None = None
    form_factor: str = ""
    memory_type: str = ""


def _tokens(name: str) -> list[str]:
    text = MEMORY.sub(lambda match: f" {match.group(1)}gb ", name.lower().replace("pci-e", "pcie"))
    return [token for token in re.split(r"[^a-z0-9]+", text) if token]


@lru_cache(maxsize=4096)  # pure: a sync asks the same few names for each of their facts
def name_facts(name: str) -> NameFacts:
    """Parse a GPU name. "32G", "32 GB" and "32GiB" are alike; so are "SXM4" and "SXM5" ("sxm")."""
    key_parts, family_parts = [], []
    memory = form = memory_type = None
    for token in _tokens(name):
        if token in VENDOR_WORDS or token in NOISE_WORDS:
            continue
        if re.fullmatch(r"\d+gb", token):
            memory = memory or int(token[:-2])
            key_parts.append(token)
            continue
        if found := _form_token(token):
            form = form or found
            key_parts.append("sxm" if token.startswith("sxm") else token)
            continue
        if token in MEMORY_TYPES:
            memory_type = memory_type or MEMORY_TYPES[token]
            key_parts.append(token)
            continue
        key_parts.append(token)
        if token in INTERCONNECT_WORDS:  # a bridge or a switch: the interconnect, said by the offer
            continue
        family_parts.append(token)
    return NameFacts(
        key="".join(key_parts),
        family="".join(family_parts),
        memory_gb=memory,
        form_factor=form or "",
        memory_type=memory_type or "",
    )


def normalize_gpu_name(name: str) -> str:
    """The key aliases are stored and looked up under.

    "NVIDIA H100-SXM5", "h100_sxm" and "H100 SXM" all become "h100sxm"; "V100-32G" and "V100 32GB"
    both "v10032gb"; vendor and marketing words ("NVIDIA", "GeForce", "Tesla", "AMD Instinct",
    "Ada Generation"'s "generation") are left out.
    """
    return name_facts(name).key


def instance_type_form(instance_type: str) -> str:
    """The form factor an instance type's name states ("gpu_1x_h100_pcie", "gpu-h100-sxm_8gpu",
    "a3-megagpu-8g", "H200-sxm5x8-NVLINK"), or ""."""
    text = instance_type.lower()
    for pattern, form in (
        (r"sxm\d*", SXM),
        (r"pcie", PCIE),
        (r"(?<![a-z])mega", SXM),
        (r"(?<![a-z])hgx", SXM),
        (r"(?<![a-z])nvl(?!ink)(?!\d)", NVL),
    ):
        if re.search(pattern, text):
            return form
    return ""


@dataclass(frozen=True)
class GpuQuery:
    """A GPU name and every fact an offer states about its GPUs (empty: not stated)."""

    name: str
    memory_gb: int | None = None
    form_factor: str = ""
    interconnect: str = ""  # nvlink | pcie | "": how the GPUs of a node talk to each other
    instance_type: str = ""
    gpus_per_node: int | None = None


@dataclass(frozen=True)
class Candidate:
    """A catalogue model as the rules see it."""

    id: int
    family: str
    memory_gb: int
    form_factor: str  # "" when the catalogue does not tell its form factors apart (V100)
    memory_type: str


@dataclass
class Facts:
    """The facts of one query, from the offer, its name and its instance type."""

    memory_gb: int | None = None
    form_factor: str = ""
    memory_type: str = ""
    nvlink_gpus: int = 0  # NVLink across this many GPUs (0: not stated)
    pcie_link: bool = False  # the GPUs of a multi-GPU node talk over PCIe
    conflicts: list[str] = field(default_factory=list)

    def describe(self) -> dict:
        """The facts as shown in the review queue."""
        shown = {"memory_gb": self.memory_gb, "form_factor": self.form_factor, "memory_type": self.memory_type}
        if self.nvlink_gpus:
            shown["nvlink_gpus"] = self.nvlink_gpus
        if self.conflicts:
            shown["conflicts"] = self.conflicts
        return {name: value for name, value in shown.items() if value}


def query_facts(query: GpuQuery, parsed: NameFacts, instance_form: str = "") -> Facts:
    """Every fact the query states; a fact stated twice differently is a conflict."""
    facts = Facts(memory_type=parsed.memory_type)
    memories = [value for value in (parsed.memory_gb, query.memory_gb) if value]
    if memories:
        facts.memory_gb = memories[0]
        if len(memories) == 2 and not _memory_matches(memories[1], memories[0]):
            facts.conflicts.append(f"the name says {memories[0]} GB, the offer {memories[1]} GB")
    forms = [form for form in (parsed.form_factor, query.form_factor, instance_form) if form]
    if forms:
        facts.form_factor = forms[0]
        clashing = sorted({form for form in forms if forms[0] not in COMPATIBLE_FORMS.get(form, {form})})
        if clashing:
            facts.conflicts.append(f"form factor {forms[0]} and {', '.join(clashing)}")
    gpus = query.gpus_per_node or 0
    if query.interconnect == "nvlink" and gpus > 1:
        facts.nvlink_gpus = gpus
    facts.pcie_link = query.interconnect == "pcie" and gpus > 1
    return facts


def _memory_matches(stated: int, catalogue: int) -> bool:
    return abs(stated - catalogue) <= max(1.0, MEMORY_TOLERANCE * catalogue)


def fits(candidate: Candidate, facts: Facts) -> bool:
    """Whether a catalogue model agrees with every fact stated of the GPU itself."""
    if facts.memory_gb and not _memory_matches(facts.memory_gb, candidate.memory_gb):
        return False
    form = candidate.form_factor
    if form and facts.form_factor and form not in COMPATIBLE_FORMS[facts.form_factor]:
        return False
    if facts.memory_type and candidate.memory_type and facts.memory_type.lower() != candidate.memory_type.lower():
        return False
    return True


def fits_interconnect(candidate: Candidate, facts: Facts) -> bool:
    """Whether a model agrees with how the offer says its node's GPUs are linked.

    The interconnect is a fact of the node, not of the GPU: it only narrows variants the GPU's own
    facts left open, and only when no form factor is stated ("PCIe NVLink" nodes of 8, pairs of
    bridged cards, say NVLink of the node while their name says PCIe). A node link no variant
    could have (an "NVLink" L40S) decides nothing: the GPU is still the one its name says.
    """
    form = candidate.form_factor
    if not form or facts.form_factor:
        return True
    if facts.nvlink_gpus > BRIDGE_MAX_GPUS.get(form, 10_000):
        return False
    return not (facts.pcie_link and form in (SXM, SUPERCHIP, OAM))


UNKNOWN, AMBIGUOUS, CONTRADICTION, RESOLVED = "unknown", "ambiguous", "contradiction", "resolved"


@dataclass(frozen=True)
class Verdict:
    status: str  # resolved | unknown | ambiguous | contradiction
    model_id: int | None = None
    candidate_ids: tuple[int, ...] = ()
    facts: tuple[tuple[str, object], ...] = ()  # Facts.describe(), hashable

    @property
    def facts_shown(self) -> dict:
        return dict(self.facts)


def decide(
    *,
    facts: Facts,
    parsed: NameFacts,
    alias_model: Candidate | None,
    families: dict[str, list[Candidate]],
) -> Verdict:
    """The rules above, on one query whose alias (if any) and the catalogue's families are known."""
    shown = tuple(sorted(facts.describe().items()))
    if facts.conflicts:
        return Verdict(CONTRADICTION, facts=shown)
    if alias_model is not None and fits(alias_model, facts):
        return Verdict(RESOLVED, model_id=alias_model.id, facts=shown)
    family = families.get(parsed.family) or (families.get(alias_model.family) if alias_model else None) or []
    if not family:
        return Verdict(CONTRADICTION if alias_model else UNKNOWN, facts=shown)
    fitting = [candidate for candidate in family if fits(candidate, facts)]
    if len(fitting) > 1:
        fitting = [candidate for candidate in fitting if fits_interconnect(candidate, facts)] or fitting
    if len(fitting) == 1:
        return Verdict(RESOLVED, model_id=fitting[0].id, facts=shown)
    if not fitting:
        return Verdict(CONTRADICTION, candidate_ids=tuple(c.id for c in family), facts=shown)
    return Verdict(AMBIGUOUS, candidate_ids=tuple(c.id for c in fitting), facts=shown)
