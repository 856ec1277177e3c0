"""Forwarder Lambda: SQS batch → map → Ours /track, partial batch response. Logic: webhook_translator.forwarder."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from webhook_translator.aws import at_init
from webhook_translator.forwarder import default_forwarder
from webhook_translator.observability import logger, metrics, trace_handler

at_init(default_forwarder)  # boto3 clients in Lambda's init phase (full CPU), when the environment allows


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
@trace_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return default_forwarder().handle(event, context.get_remaining_time_in_millis)
