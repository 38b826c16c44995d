"""What state-dict expressions hold and where a module filters one by hand (PFT2xx), in phases:

markers (what a key test looks for) and values (phase 1: a model's state_dict(), named_parameters(),
PEFT's format, loaded files; `models.ModelRef` says which model) -> key_tests (what a filter condition
tests) -> filtered (phase 2: the collections filtered from a model's parameters, found with phase 1) ->
flows (where a value goes) -> view (phase 3: values classified knowing the filtered collections; what the
rules read) -> checkpoints (which filtered collections are used as a checkpoint, PFT201) and name_tests
(PFT205's adapter-name key tests), which read the view. Every module imports only from the ones before it;
each phase is built once per module (`ModuleFacts.derived`). Nothing runs unless a rule asks.
"""
