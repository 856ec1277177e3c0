"""What a laptop or an operator runs: the CLI, the local stack and the DLQ tooling.

Never shipped in the Lambda layer (``layers/shared/webhook_translator`` is what Lambda
loads); installed beside it by ``pip install .``, which also gives the
``webhook-translator`` command.
"""
