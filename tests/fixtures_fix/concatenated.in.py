# An implicitly concatenated literal becomes one literal, in the quotes of its first part.
from peft import get_peft_model

model = get_peft_model(base_model, config, adapter_name="lo" 'ra')
model.set_adapter(
    (
        "lo"
        "ra"
    )
)
