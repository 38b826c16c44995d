# Negative: calls refresh_adapter on a worker that is an EvalSyncWorker or a RemoteWorker.
from peft import get_peft_model

from tools.eval_sync_safe import EvalSyncWorker
from tools.remote_safe import RemoteWorker


def evaluate(model, config, inference_model, url, remote):
    model = get_peft_model(model, config, adapter_name="judge")
    worker = RemoteWorker(url) if remote else EvalSyncWorker(inference_model)
    worker.refresh_adapter(model.state_dict(), "judge")
