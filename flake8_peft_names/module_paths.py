"""Module-path components of the architectures users train: measured facts, data only.

peft < 0.18 removes `.<adapter name>` from every saved key, and peft >= 0.20 drops from one adapter's
checkpoint every key that contains `.<other adapter>.`. So an adapter named like a component of the path
to an adapted module (`mlp` in `model.layers.0.mlp.gate_proj`) loses the weights under that component, and
one that starts such a component (`s` of `self_attn`) loses them before 0.18. Only components above an
adapted module matter: `mlp` is harmless when only attention is adapted (tests/runtime/test_module_paths.py
measures each family below on a tiny model built from its config).

Each family lists its adapted paths as `a.b.N.c: leaf leaf ...` (`N` is a layer index); a component is
hazardous for a file when a module the file adapts (its `target_modules=`, else the family's usual targets)
lies below it. Paths differ between transformers 4.x and 5.x for some families (ViT, CLIP), so both are
listed.
"""
from __future__ import annotations

from dataclasses import dataclass, field

# Layer indexes are components of every stacked model: `layers.0`, `h.1`, `block.11`. The base size of every
# family below has at least 12 layers (T5-small has 6), so the names "0" to "11" are reported.
LAYER_INDEXES = frozenset(str(i) for i in range(12))
LAYER = "N"


@dataclass(frozen=True)
class Family:
    """An architecture family: the class names that announce it, its adapted paths, its usual targets."""

    key: str
    display: str
    markers: tuple[str, ...]  # class-name prefixes (`LlamaForCausalLM` starts with `Llama`)
    paths_text: str  # one `a.b.N.c: leaf leaf` per line
    default_targets_text: str  # what is adapted when the file does not say (peft's own defaults)
    below: dict[str, frozenset[str]] = field(init=False, compare=False)  # component -> the leaf modules below it
    example: dict[str, str] = field(init=False, compare=False)  # component -> one path through it, for messages

    def __post_init__(self) -> None:
        below: dict[str, set[str]] = {}
        example: dict[str, str] = {}
        for line in self.paths_text.strip().splitlines():
            path, leaves = line.strip().split(":")
            for component in path.split("."):
                if component != LAYER:
                    below.setdefault(component, set()).update(leaves.split())
                    example.setdefault(component, f"{path}.{leaves.split()[0]}")
        object.__setattr__(self, "below", {c: frozenset(v) for c, v in below.items()})
        object.__setattr__(self, "example", example)

    @property
    def leaves(self) -> frozenset[str]:
        return frozenset(leaf for leaves in self.below.values() for leaf in leaves)

    @property
    def default_targets(self) -> frozenset[str]:
        return frozenset(self.default_targets_text.split())

    def hazardous(self, targets: frozenset[str] | None) -> frozenset[str]:
        """The components above an adapted module; `targets` None means every linear layer (`all-linear`)."""
        if targets is None:
            return frozenset(self.below)
        return frozenset(c for c, leaves in self.below.items() if leaves & targets)


FAMILIES = (
    Family(
        "llama",
        "Llama-style decoders",
        ("Llama", "Mistral", "Mixtral", "Qwen", "Gemma", "Phi3", "AutoModelForCausalLM"),
        """
        model.layers.N.self_attn: q_proj k_proj v_proj o_proj
        model.layers.N.mlp: gate_proj up_proj down_proj
        """,
        "q_proj v_proj",
    ),
    Family(
        "bert",
        "BERT encoders",
        ("Bert",),
        """
        bert.encoder.layer.N.attention.self: query key value
        bert.encoder.layer.N.attention.output: dense
        bert.encoder.layer.N.intermediate: dense
        bert.encoder.layer.N.output: dense
        bert.pooler: dense
        """,
        "query value",
    ),
    Family(
        "roberta",
        "RoBERTa encoders",
        ("Roberta", "XLMRoberta"),
        """
        roberta.encoder.layer.N.attention.self: query key value
        roberta.encoder.layer.N.attention.output: dense
        roberta.encoder.layer.N.intermediate: dense
        roberta.encoder.layer.N.output: dense
        """,
        "query value",
    ),
    Family(
        "gpt2",
        "GPT-2",
        ("GPT2",),
        """
        transformer.h.N.attn: c_attn c_proj
        transformer.h.N.mlp: c_fc c_proj
        """,
        "c_attn",
    ),
    Family(
        "t5",
        "T5 encoder-decoders",
        ("T5", "MT5"),
        """
        encoder.block.N.layer.N.SelfAttention: q k v o
        encoder.block.N.layer.N.DenseReluDense: wi wo
        decoder.block.N.layer.N.SelfAttention: q k v o
        decoder.block.N.layer.N.EncDecAttention: q k v o
        decoder.block.N.layer.N.DenseReluDense: wi wo
        """,
        "q v",
    ),
    Family(
        "vit",
        "ViT image encoders",
        ("ViT",),
        """
        vit.encoder.layer.N.attention.attention: query key value
        vit.encoder.layer.N.attention.output: dense
        vit.encoder.layer.N.intermediate: dense
        vit.encoder.layer.N.output: dense
        vit.layers.N.attention: q_proj k_proj v_proj o_proj
        vit.layers.N.mlp: fc1 fc2
        """,
        "query value q_proj v_proj",
    ),
    Family(
        "clip",
        "CLIP encoders",
        ("CLIP",),
        """
        vision_model.encoder.layers.N.self_attn: q_proj k_proj v_proj out_proj
        vision_model.encoder.layers.N.mlp: fc1 fc2
        text_model.encoder.layers.N.self_attn: q_proj k_proj v_proj out_proj
        text_model.encoder.layers.N.mlp: fc1 fc2
        encoder.layers.N.self_attn: q_proj k_proj v_proj out_proj
        encoder.layers.N.mlp: fc1 fc2
        """,
        "q_proj v_proj",
    ),
    Family(
        "unet",
        "diffusers UNets",
        ("UNet2DConditionModel", "StableDiffusionPipeline", "StableDiffusionXL", "StableDiffusionImg2Img"),
        """
        down_blocks.N.attentions.N.transformer_blocks.N.attn1: to_q to_k to_v
        down_blocks.N.attentions.N.transformer_blocks.N.attn2: to_q to_k to_v
        down_blocks.N.attentions.N.transformer_blocks.N.ff.net.N: proj
        mid_block.attentions.N.transformer_blocks.N.attn1: to_q to_k to_v
        up_blocks.N.attentions.N.transformer_blocks.N.attn1: to_q to_k to_v
        up_blocks.N.attentions.N.transformer_blocks.N.attn2: to_q to_k to_v
        """,
        "to_q to_k to_v",
    ),
    Family(
        "dit",
        "diffusers DiT transformers",
        ("DiT", "SD3Transformer", "StableDiffusion3", "FluxTransformer", "Flux", "PixArt"),
        """
        transformer_blocks.N.attn1: to_q to_k to_v
        transformer_blocks.N.attn: to_q to_k to_v add_q_proj add_k_proj add_v_proj
        transformer_blocks.N.ff.net.N: proj
        single_transformer_blocks.N.attn: to_q to_k to_v
        single_transformer_blocks.N: proj_mlp proj_out
        """,
        "to_q to_k to_v",
    ),
)
FAMILIES_BY_KEY = {f.key: f for f in FAMILIES}

# Measured (tests/runtime/test_module_paths.py; tiny 2-layer models, every linear layer adapted, LoRA), as
# "tensors lost / adapter tensors". Alone, peft 0.17.1: the adapter named like the component loses what lies
# below it. Second, peft 0.20.0 and 0.21.2: next to it, `default`'s checkpoint lacks exactly those keys
# (0.21.2 reload: `default` loses the same count). peft 0.18.1 and 0.19.1: nothing lost in any family (the
# named adapter's own checkpoint also carries `default`'s tensors below the component; reload ignores them).
#   Llama (28): layers 28, self_attn 16, mlp 12, 0 14, 1 14 (`model`: a structural component, save raises)
#   BERT (26): bert 26, encoder 24, layer 24, attention 16, self 12, output 8, intermediate 4, pooler 2, 0/1 12
#   RoBERTa (26): roberta 24, encoder 24, layer 24, attention 16, self 12, output 8, intermediate 4, 0/1 12
#   GPT-2 (16): transformer 16, h 16, attn 8, mlp 8, 0/1 8
#   T5 (64): block 64, layer 64, decoder 40, encoder 24, SelfAttention 32, EncDecAttention 16,
#            DenseReluDense 16, 0 48, 1 44
#   ViT (transformers 4.57, 24): vit 24, encoder 24, layer 24, attention 16, output 8, intermediate 4, 0/1 12;
#       (transformers 5.23, 26): vit 24, layers 24, attention 16, mlp 8, 0/1 12
#   CLIP vision (4.57, 24): vision_model 24, encoder 24, layers 24, self_attn 16, mlp 8, 0/1 12;
#       (5.23, 24): encoder 24, layers 24, self_attn 16, mlp 8, 0/1 12
#   UNet2DConditionModel (80; 0.17.1 with diffusers 0.35.2): attentions 80, transformer_blocks 80, up_blocks 40,
#       attn1 32, attn2 32, down_blocks 20, mid_block 20, ff 16, net 16, 0 80, 1 40
#   DiTTransformer2DModel (26): transformer_blocks 24, attn1 16, ff 8, net 8, 0 16, 1 12
#   FluxTransformer2DModel (22; 0.20.0 and 0.21.2): attn 16, transformer_blocks 10, single_transformer_blocks 10,
#       0 20
# Prefixes, peft 0.17.1 alone: `s` and `self` lose CLIP's self_attn tensors (16/24), `la` every ViT/CLIP/T5
# tensor below `layer(s)`, `e` everything below `encoder`.
# Every component of every family: a suggested name avoids them all, whatever the model.
ALL_COMPONENTS = frozenset(c for f in FAMILIES for c in f.below) | LAYER_INDEXES
