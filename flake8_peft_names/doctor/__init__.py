"""`flake8-peft-names doctor`: find and repair adapter checkpoints that adapter-name bugs already broke.

reading (folders, configs, tensor headers) -> keys (PEFT's key layout, undoing cut-out names) ->
diagnose (the problems of one checkpoint, the repair's key mapping; problems.py describes each problem,
coverage.py checks what the repaired keys must still hold) ->
repair (an atomic repaired copy) -> output (text, json, sarif); command.py is the subcommand.
"""
