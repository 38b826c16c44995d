# The training side of the weight sync: its own lines have no finding; the worker's filter and load are
# reported in tools/weight_sync.py, naming the call here.
from peft import LoraConfig, get_peft_model

from tools.weight_sync import WeightSyncWorker


class SyncingTrainer:
    def __init__(self, model, inference_model):
        self.adapter_name = "policy"
        self.model = get_peft_model(model, LoraConfig(r=8), adapter_name=self.adapter_name)
        self.worker = WeightSyncWorker(inference_model)

    def sync_weights(self):
        self.worker.update_adapter(self.model.state_dict(), self.adapter_name)
