"""webhook-translator: third-party webhooks into Ours Privacy /track events."""

__version__ = "0.1.0"
