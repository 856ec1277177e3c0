"""Receiver Lambda: API Gateway HTTP API (payload 2.0) → verify → SQS. Logic: webhook_translator.receiver."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from webhook_translator.aws import at_init
from webhook_translator.observability import logger, metrics, trace_handler
from webhook_translator.receiver import default_receiver

at_init(default_receiver)  # boto3 clients in Lambda's init phase (full CPU), when the environment allows


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
@trace_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return default_receiver().handle(event)
