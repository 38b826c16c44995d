# Negative: the same weight-sync filter, but another class of the project (tools/remote_safe.py, which the
# caller tools/evaluator_safe.py also imports) defines a method of that name: the receiver's class is not
# known statically, so what the caller passes tells nothing here.


class EvalSyncWorker:
    def __init__(self, model):
        self.model = model

    def refresh_adapter(self, state_dict, adapter_name):
        adapter_state = {k: v for k, v in state_dict.items() if f".{adapter_name}." in k}
        self.model.load_state_dict(adapter_state, strict=False)
