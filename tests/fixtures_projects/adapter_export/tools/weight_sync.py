# The inference side of a weight sync: the trainer (tools/trainer.py) sends its peft model's state_dict(),
# this worker keeps one adapter's entries and loads them with strict=False. This module does not import peft.


class WeightSyncWorker:
    def __init__(self, model):
        self.model = model

    def update_adapter(self, state_dict, adapter_name):
        adapter_state = {k: v for k, v in state_dict.items() if adapter_name in k}  # expect: PFT201@25 PFT205@65
        self.model.load_state_dict(adapter_state, strict=False)  # expect: PFT203@9
