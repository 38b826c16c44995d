"""What PEFT does with adapter names: measured facts the rules rest on (see tests/runtime/).

Everything here is data. The method table was read from peft 0.21.2
(`PEFT_TYPE_TO_CONFIG_MAPPING`, `PEFT_TYPE_TO_PREFIX_MAPPING`, each tuner layer's
`adapter_layer_names`); tests/runtime/test_method_table.py re-reads it from the installed peft.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .versions import Affected

METHOD_TABLE_PEFT_VERSION = "0.21.2"


@dataclass(frozen=True)
class Method:
    """A PEFT method: its `PeftType` value, config class, parameter prefix and parameter names."""

    peft_type: str
    config_class: str
    prefix: str
    param_names_text: str = ""
    prompt_learning: bool = False
    param_names: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "param_names", tuple(self.param_names_text.split()))

    @property
    def display(self) -> str:
        return _DISPLAY.get(self.peft_type) or self.config_class[: -len("Config")]

    @property
    def names_reach_keys(self) -> bool:
        """Prompt-learning methods never put the adapter name into parameter keys."""
        return not self.prompt_learning and bool(self.param_names)


_DISPLAY = {
    "LORA": "LoRA", "ADALORA": "AdaLoRA", "VERA": "VeRA", "PVERA": "PVeRA", "XLORA": "X-LoRA",
    "RANDLORA": "RandLoRA", "DELORA": "DeLoRA", "GRALORA": "GraLoRA", "TINYLORA": "TinyLoRA",
    "UNILORA": "UniLoRA", "P_TUNING": "P-tuning",
}

METHODS = (
    Method('ADALORA', 'AdaLoraConfig', 'lora_', 'lora_A lora_B lora_E ranknum'),
    Method('ADAMSS', 'AdamssConfig', 'adamss_', 'adamss_A adamss_B'),
    Method('ADAPTION_PROMPT', 'AdaptionPromptConfig', 'adaption_prompt_', ''),
    Method('BEFT', 'BeftConfig', 'beft_', 'beft_bias'),
    Method('BOFT', 'BOFTConfig', 'boft_', 'boft_R boft_s'),
    Method('C3A', 'C3AConfig', 'c3a_', 'c3a_kernel'),
    Method('CARTRIDGE', 'CartridgeConfig', 'cartridge_', '', prompt_learning=True),
    Method('CPT', 'CPTConfig', 'cpt_', '', prompt_learning=True),
    Method('DEFT', 'DeftConfig', 'deft_', 'deft_P deft_R'),
    Method('DELORA', 'DeloraConfig', 'delora_', 'delora_A delora_B delora_lambda'),
    Method('FOURIERFT', 'FourierFTConfig', 'fourierft_', 'fourierft_spectrum'),
    Method('FROD', 'FrodConfig', 'frod_', 'frod_lambda_l frod_lambda_s_values'),
    Method('GLORA', 'GloraConfig', 'glora_', 'glora_A glora_B glora_C glora_D glora_E'),
    Method('GRALORA', 'GraloraConfig', 'gralora_', 'gralora_A gralora_B gralora_A_general gralora_B_general'),
    Method('HIRA', 'HiraConfig', 'hira_', 'hira_A hira_B hira_embedding_A hira_embedding_B'),
    Method('HRA', 'HRAConfig', 'hra_', 'hra_u'),
    Method('IA3', 'IA3Config', 'ia3_', 'ia3_l'),
    Method('LILY', 'LilyConfig', 'lily_', 'lily_A lily_B lily_router'),
    Method('LN_TUNING', 'LNTuningConfig', 'ln_tuning_', 'ln_tuning_layers'),
    Method('LOHA', 'LoHaConfig', 'hada_', 'hada_w1_a hada_w1_b hada_w2_a hada_w2_b hada_t1 hada_t2'),
    Method('LOKR', 'LoKrConfig', 'lokr_', 'lokr_w1 lokr_w1_a lokr_w1_b lokr_w2 lokr_w2_a lokr_w2_b lokr_t2'),
    Method('LORA', 'LoraConfig', 'lora_', 'lora_A lora_B lora_embedding_A lora_embedding_B lora_magnitude_vector'),
    Method('MISS', 'MissConfig', 'miss_', 'miss_block'),
    Method(
        'MULTITASK_PROMPT_TUNING', 'MultitaskPromptTuningConfig', 'multitask_prompt_tuning_', '', prompt_learning=True
    ),
    Method('OFT', 'OFTConfig', 'oft_', 'oft_R oft_embedding_R'),
    Method('OSF', 'OSFConfig', 'osf_', 'osf_svd_params'),
    Method('PEANUT', 'PeanutConfig', 'peanut_', 'peanut_A peanut_B peanut_encoders peanut_decoders'),
    Method('POLY', 'PolyConfig', 'poly_', 'poly_lora_A poly_lora_B poly_router'),
    Method('PREFIX_TUNING', 'PrefixTuningConfig', 'prefix_tuning_', '', prompt_learning=True),
    Method('PROMPT_TUNING', 'PromptTuningConfig', 'prompt_tuning_', '', prompt_learning=True),
    Method('PSOFT', 'PsoftConfig', 'psoft_', 'psoft_R'),
    Method('PVERA', 'PveraConfig', 'pvera_lambda_', 'pvera_lambda_b pvera_lambda_d'),
    Method('P_TUNING', 'PromptEncoderConfig', 'p_tuning_', '', prompt_learning=True),
    Method('RANDLORA', 'RandLoraConfig', 'randlora_', 'randlora_lambda randlora_gamma'),
    Method('ROAD', 'RoadConfig', 'road_', 'road_theta road_alpha'),
    Method(
        'SHADOW', 'ShadowConfig', 'shadow_',
        'shadow_down shadow_up shadow_update_transform shadow_update_gate shadow_dropout',
    ),
    Method('SHIRA', 'ShiraConfig', 'shira_', 'shira_weight'),
    Method(
        'SUPERTUNING', 'SupertuningConfig', 'supertuning_', 'supertuning_values supertuning_lora_A supertuning_lora_B'
    ),
    Method('TINYLORA', 'TinyLoraConfig', 'tinylora_', 'tinylora_v'),
    Method('TRAINABLE_TOKENS', 'TrainableTokensConfig', 'trainable_tokens_', 'trainable_tokens_delta'),
    Method('UNILORA', 'UniLoraConfig', 'unilora_', 'unilora_theta_d'),
    Method('VBLORA', 'VBLoRAConfig', 'vblora_', 'vblora_logits_A vblora_logits_B vblora_vector_bank'),
    Method('VERA', 'VeraConfig', 'vera_lambda_', 'vera_lambda_b vera_lambda_d'),
    Method('WAVEFT', 'WaveFTConfig', 'waveft_', 'waveft_spectrum'),
    Method('XLORA', 'XLoraConfig', 'xlora_', ''),
)
METHODS_BY_TYPE = {m.peft_type: m for m in METHODS}
METHODS_BY_CONFIG = {m.config_class: m for m in METHODS}
LORA = METHODS_BY_TYPE["LORA"]

# Methods whose layers keep `nn.ParameterDict`s, which reject a few more names than `nn.ModuleDict`.
PARAMETER_DICT_METHODS = frozenset({"IA3", "VERA"})

# Attribute names of `torch.nn.ModuleDict` (torch 2.13): an adapter with such a name raises
# `KeyError: "attribute 'train' already exists"` when it is created.
MODULE_DICT_ATTRIBUTES = frozenset(
    """T_destination add_module apply bfloat16 buffers call_super_init children clear compile cpu cuda
    double dump_patches eval extra_repr float forward get_buffer get_extra_state get_parameter
    get_submodule half ipu items keys load_state_dict modules mtia named_buffers named_children
    named_modules named_parameters parameters pop register_backward_hook register_buffer
    register_forward_hook register_forward_pre_hook register_full_backward_hook
    register_full_backward_pre_hook register_load_state_dict_post_hook register_load_state_dict_pre_hook
    register_module register_parameter register_state_dict_post_hook register_state_dict_pre_hook
    requires_grad_ set_extra_state set_submodule share_memory state_dict to to_empty train training
    type update values xpu zero_grad""".split()
)
PARAMETER_DICT_EXTRA_ATTRIBUTES = frozenset("copy get fromkeys popitem setdefault".split())

# Module names assumed to be adapted when a file does not say (`target_modules=`).
COMMON_TARGET_MODULES = frozenset(
    "q_proj k_proj v_proj o_proj gate_proj up_proj down_proj lm_head embed_tokens "
    "query key value dense fc1 fc2 c_attn c_proj c_fc qkv_proj out_proj to_q to_k to_v to_out".split()
)


# ---------------------------------------------------------------------------------------------
# Hazards: which adapter names break which peft versions, and how. `outcome` names what the runtime
# tests in tests/runtime/ assert for an affected version (and its absence outside the range). A hazard is
# a fact about peft only: the rule that reports it lists it among its own `hazards`.


@dataclass(frozen=True)
class Effect:
    affected: Affected
    consequence: str  # a few words for the message, after "peft<0.18 ..."
    outcome: str  # create-raises | save-raises | reload-lost | reload-fails | others-damaged | overwritten


@dataclass(frozen=True, eq=False)
class Hazard:
    """One measured way peft goes wrong. Compared and hashed by identity: each hazard is one object,
    `key` names it in test ids and messages of the runtime proofs."""

    key: str
    effects: tuple[Effect, ...]


def _hazard(key: str, *effects: tuple[str, str, str]) -> Hazard:
    return Hazard(key, tuple(Effect(Affected.of(*r.split("|")), c, o) for r, c, o in effects))


_RAISES = ("", "raises KeyError when the adapter is created", "create-raises")

# Names peft or torch reject outright.
EMPTY_NAME = _hazard("empty-name", _RAISES)
DOTTED_NAME = _hazard("dotted-name", _RAISES)
MODULE_DICT_ATTRIBUTE = _hazard("module-dict-attribute", _RAISES)
PARAMETER_DICT_ATTRIBUTE = _hazard("parameter-dict-attribute", _RAISES)
# Names that collide with a method's parameter prefix.
NAME_INSIDE_PREFIX = _hazard(
    "name-inside-prefix", ("<0.18", "drops this adapter's weights on save (peft#2252)", "reload-lost")
)
PREFIX_INSIDE_NAME = _hazard(
    "prefix-inside-name",
    ("<0.21", "loses the modules_to_save weights on save and load", "reload-lost"),
)
# Names that collide with a state-dict key component.
WEIGHT_OR_BIAS_WITH_MODULES_TO_SAVE = _hazard(
    "weight-or-bias-with-modules-to-save",
    (
        "",
        "corrupts the modules_to_save weights in the checkpoint (lost, or KeyError on reload)",
        "reload-fails",
    ),
)
KEY_COMPONENT = _hazard(
    "key-component",
    ("<0.18", "drops this adapter's weights on save", "reload-lost"),
    (">=0.20", "strips the other adapters' checkpoints", "others-damaged"),
)
MODULES_TO_SAVE_MODULE = _hazard(
    "modules-to-save-module",
    ("<0.18", "raises KeyError on reload", "reload-fails"),
    (">=0.18", "raises in get_peft_model or writes a corrupt checkpoint", "create-raises"),
)
MODULES_TO_SAVE_NAME = _hazard(
    "modules-to-save-name",
    (">=0.20", "makes save_pretrained raise KeyError when another adapter exists", "save-raises"),
)
# Components of the module path to an adapted module (`mlp` in `model.layers.0.mlp.gate_proj`, a layer index):
# measured per architecture family in tests/runtime/test_module_paths.py (module_paths.py lists the families).
MODULE_PATH_COMPONENT = _hazard(
    "module-path-component",
    ("<0.18", "drops this adapter's weights below that module on save", "reload-lost"),
    (">=0.20", "strips the weights below that module from the other adapters' checkpoints", "others-damaged"),
)
KEY_COMPONENT_PREFIX = _hazard(
    "key-component-prefix", ("<0.18", "drops this adapter's weights on save", "reload-lost")
)
# Names that collide with each other.
OVERLAPPING_NAMES = _hazard(
    "overlapping-names",
    (
        "<0.18",
        "saves the other adapter's tensors, under mangled keys, into one adapter's checkpoint",
        "others-damaged",
    ),
)
RELOADED_NAME = _hazard(
    "reloaded-name",
    ("", "silently replaces the adapter already loaded under that name", "overwritten"),
)
RE_ADDED_NAME = _hazard(
    "re-added-name",
    ("<0.21", "silently re-initialises the adapter already added under that name", "overwritten"),
)

# State-dict key components an adapter must not be named after (beyond the method's parameter names,
# the target modules and the modules_to_save modules, which depend on the file). `base_model` and
# `base_layer` are components too, but measured harmless (tests/runtime/test_structural_names.py).
STRUCTURAL_KEY_COMPONENTS = frozenset({"weight", "bias", "model", "modules_to_save"})
# Task types for which peft adds the classifier head to modules_to_save by itself.
TASKS_WITH_MODULES_TO_SAVE = frozenset({"SEQ_CLS", "TOKEN_CLS", "QUESTION_ANS"})


# ---------------------------------------------------------------------------------------------
# APIs that take adapter names (section 6 of the facts: peft 0.21.2, transformers 5.23, diffusers 0.42).


@dataclass(frozen=True)
class NameArg:
    """One adapter-name parameter: 0-based position (not counting self; None = keyword only)."""

    position: int | None
    keyword: str
    many: bool = False  # a list of names (a single str is accepted too)


@dataclass(frozen=True)
class Api:
    name: str
    args: tuple[NameArg, ...]
    creates: Hazard | None = None  # what reusing a name here does, when it replaces an adapter


_NAME = NameArg(0, "adapter_name")
_NAMES = NameArg(0, "adapter_names", many=True)

# Module-level functions and classes: matched only when imported from peft (or not imported at all).
PEFT_CALLABLES = {
    a.name: a
    for a in (
        Api("get_peft_model", (NameArg(2, "adapter_name"),)),
        Api("inject_adapter_in_model", (NameArg(2, "adapter_name"),)),
        Api("get_peft_model_state_dict", (NameArg(2, "adapter_name"),)),
        Api("set_peft_model_state_dict", (NameArg(2, "adapter_name"),)),
        Api("hotswap_adapter", (NameArg(2, "adapter_name"),)),
        Api("replace_lora_weights_loftq", (NameArg(2, "adapter_name"),)),
        Api("convert_to_lora", (NameArg(2, "adapter_name"),)),
        Api("save_as_lora", (NameArg(3, "adapter_name"),)),
        Api("load_peft_weights", ()),
        *(
            Api(cls, (NameArg(2, "adapter_name"),))
            for cls in (
                "PeftModel PeftMixedModel PeftModelForCausalLM PeftModelForSeq2SeqLM "
                "PeftModelForSequenceClassification PeftModelForTokenClassification "
                "PeftModelForQuestionAnswering PeftModelForFeatureExtraction"
            ).split()
        ),
    )
}
PEFT_MODEL_CLASSES = frozenset(n for n in PEFT_CALLABLES if n.startswith("Peft"))

# Methods: matched on any object, by method name. `add_adapter` takes the name first in peft
# (`add_adapter(name, config)`) and second in transformers and diffusers (`add_adapter(config, name)`).
METHODS_TAKING_NAMES = {
    a.name: a
    for a in (
        Api("add_adapter", (NameArg(None, "adapter_name"),), creates=RE_ADDED_NAME),
        Api("load_adapter", (NameArg(1, "adapter_name"),), creates=RELOADED_NAME),
        Api("set_adapter", (NameArg(0, "adapter_name", many=True),)),
        Api("delete_adapter", (NameArg(0, "adapter_name", many=True),)),
        Api("set_requires_grad", (NameArg(None, "adapter_names", many=True),)),
        Api("save_pretrained", (NameArg(None, "selected_adapters", many=True),)),
        Api("add_weighted_adapter", (NameArg(0, "adapters", many=True), NameArg(2, "adapter_name"))),
        Api("merge_and_unload", (NameArg(None, "adapter_names", many=True),)),
        Api("merge_adapter", (_NAMES,)),
        Api("from_pretrained", (NameArg(None, "adapter_name"),)),
        Api("get_adapter_state_dict", (_NAME,)),
        Api("load_lora_weights", (NameArg(1, "adapter_name"),)),
        Api("set_adapters", (_NAMES,)),
        Api("delete_adapters", (_NAMES,)),
        Api("set_lora_device", (_NAMES,)),
        Api("fuse_lora", (NameArg(None, "adapter_names", many=True),)),
        Api("load_lora_into_unet", (NameArg(None, "adapter_name"),)),
        Api("load_lora_into_transformer", (NameArg(None, "adapter_name"),)),
        Api("load_lora_into_text_encoder", (NameArg(None, "adapter_name"),)),
        Api("save_lora_adapter", (NameArg(1, "adapter_name"),)),
        Api("load_lora_adapter", (NameArg(None, "adapter_name"),)),
    )
}
# `PeftModel.from_pretrained(model, model_id, adapter_name)`: positional only on a peft class.
PEFT_FROM_PRETRAINED_POSITION = 2
# Calls that create an adapter named "default" when no name is given (overlapping names count it).
CREATES_DEFAULT = frozenset({"get_peft_model", "inject_adapter_in_model", *PEFT_MODEL_CLASSES})
# Calls that tell the method is LoRA (diffusers' loaders only load LoRA).
LORA_ONLY_CALLS = frozenset(
    "load_lora_weights fuse_lora set_adapters load_lora_into_unet load_lora_into_transformer "
    "load_lora_into_text_encoder save_lora_adapter load_lora_adapter".split()
)
ADAPTER_LIBRARIES = ("peft", "transformers", "diffusers")


# ---------------------------------------------------------------------------------------------
# Hazards of hand-written adapter state dicts. Measured on the tiny two-adapter LoRA model of
# tests/runtime/test_state_dict_rules.py (`default` + `other`, with and without modules_to_save=["head"]) in
# peft 0.13.2, 0.14.0, 0.15.0, 0.15.1, 0.15.2, 0.16.0, 0.17.1, 0.18.0, 0.19.1, 0.20.0, 0.21.0 and 0.21.2; the
# runtime tests re-check every Effect against the installed peft.

_MTS = "when the model has modules_to_save"
_NO_MTS = "when the model has no modules_to_save"
MANUAL_STATE_DICT = _hazard(
    "manual-state-dict",
    (
        "",
        "keeps the adapter name in every key, misses modules_to_save and takes in other adapters' tensors",
        "wrong-keys",
    ),
    ("<0.15", f"reloading it loses every weight silently {_MTS}", "reload-lost-with-modules-to-save"),
    (">=0.15", f"reloading it raises KeyError {_MTS}", "reload-raises-with-modules-to-save"),
    ("<0.21", f"reloading it loads nothing {_NO_MTS}", "reload-lost"),
)
# A key filter without modules_to_save handed to save_pretrained(state_dict=...) (the LLaVA ZeRO-3 helper), on a
# model that has them; peft 0.15.0 takes them from the model itself.
PREFILTER_WITHOUT_MODULES_TO_SAVE = _hazard(
    "prefilter-without-modules-to-save",
    ("<0.15", f"saving writes no modules_to_save, silently, {_MTS}", "prefilter-drops-modules-to-save"),
    (">=0.15.1", f"saving raises KeyError {_MTS}", "prefilter-raises"),
)
REQUIRES_GRAD_CHECKPOINT = _hazard(
    "requires-grad-checkpoint",
    ("", "holds no LoRA weight for a model loaded for inference", "no-lora-weights-for-inference"),
    (">=0.18", "is empty for a model loaded for inference, modules_to_save included", "empty-for-inference"),
)
PEFT_DICT_IN_LOAD_STATE_DICT = _hazard(
    "peft-dict-in-load-state-dict",
    ("", "loads nothing, silently: PEFT's checkpoint keys have no adapter name", "nothing-loaded"),
)
MANUAL_DICT_IN_LOAD_STATE_DICT = _hazard(
    "manual-dict-in-load-state-dict",
    ("", "leaves modules_to_save as they were, silently", "modules-to-save-not-restored"),
)
HAND_WRITTEN_ADAPTER_FILE = _hazard(
    "hand-written-adapter-file",
    ("", "holds the model's in-memory keys (with adapter names), not PEFT's format", "not-peft-format"),
    (
        "<0.15",
        f"PeftModel.from_pretrained loses every weight silently {_MTS}",
        "from-pretrained-lost-with-modules-to-save",
    ),
    (">=0.15", f"PeftModel.from_pretrained raises KeyError {_MTS}", "from-pretrained-raises"),
    ("<0.21", f"PeftModel.from_pretrained loads nothing {_NO_MTS}", "from-pretrained-lost"),
)
# A key test of the user's code, measured on the same model with adapters `ad` and `adapter` in peft 0.17.1,
# 0.20.0 and 0.21.2 (tests/runtime/test_name_key_tests.py): PEFT writes the name as a whole key component.
SUBSTRING_ADAPTER_KEY_TEST = _hazard(
    "substring-adapter-key-test",
    (
        "",
        "also matches the keys of other adapters and modules whose names contain the adapter name",
        "others-matched",
    ),
)

# Every hazard, by key (the runtime proofs and their ids name hazards by key; the rules hold the objects).
HAZARDS: dict[str, Hazard] = {
    h.key: h
    for h in (
        EMPTY_NAME,
        DOTTED_NAME,
        MODULE_DICT_ATTRIBUTE,
        PARAMETER_DICT_ATTRIBUTE,
        NAME_INSIDE_PREFIX,
        PREFIX_INSIDE_NAME,
        WEIGHT_OR_BIAS_WITH_MODULES_TO_SAVE,
        KEY_COMPONENT,
        MODULES_TO_SAVE_MODULE,
        MODULES_TO_SAVE_NAME,
        MODULE_PATH_COMPONENT,
        KEY_COMPONENT_PREFIX,
        OVERLAPPING_NAMES,
        RELOADED_NAME,
        RE_ADDED_NAME,
        MANUAL_STATE_DICT,
        PREFILTER_WITHOUT_MODULES_TO_SAVE,
        REQUIRES_GRAD_CHECKPOINT,
        PEFT_DICT_IN_LOAD_STATE_DICT,
        MANUAL_DICT_IN_LOAD_STATE_DICT,
        HAND_WRITTEN_ADAPTER_FILE,
        SUBSTRING_ADAPTER_KEY_TEST,
    )
}

# The APIs that create (or load) an adapter under the name they are given; every other API only refers
# to an adapter that must already exist, so "raises KeyError when the adapter is created" happens elsewhere.
CREATING_APIS = frozenset(
    "get_peft_model inject_adapter_in_model add_adapter load_adapter from_pretrained add_weighted_adapter "
    "load_lora_weights load_lora_into_unet load_lora_into_transformer load_lora_into_text_encoder "
    "load_lora_adapter convert_to_lora save_as_lora".split()
) | PEFT_MODEL_CLASSES
