# A helper one step further away: it forwards its name to a wrapper of another module.
from .wrappers import load_named


def load_for_eval(model, checkpoint, adapter):
    return load_named(model, checkpoint, adapter)
