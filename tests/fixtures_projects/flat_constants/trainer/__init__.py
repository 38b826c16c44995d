from .constants import ADAPTER_NAME
