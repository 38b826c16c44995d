# Negative: a client whose refresh_adapter sends the adapter's name to a server; no state dict here.
import requests


class RemoteWorker:
    def __init__(self, url):
        self.url = url

    def refresh_adapter(self, state_dict, adapter_name):
        requests.post(self.url, json={"adapter": adapter_name, "keys": sorted(state_dict)})
