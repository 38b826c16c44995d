# Adapter-name literals renamed in place: quotes, prefixes, parentheses, comments and layout are kept.
from peft import LoraConfig, PeftModel, get_peft_model

config = LoraConfig(target_modules=["q_proj", "v_proj"])  # a comment that stays
model = get_peft_model(base_model, config, adapter_name='lora')   # odd   spacing
model.add_adapter("train", config)
model.load_adapter(
    "out/weights",
    adapter_name = u"weight" ,  # trailing comment
)
model.set_adapter(("lora"))
model.delete_adapter(r'train')
model.set_adapter(["lora", 'weight'])
model.save_pretrained("out/lora", selected_adapters=["""lora"""])
PeftModel.from_pretrained(base_model, "out/lora", adapter_name="ok_name")
