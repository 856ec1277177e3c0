"""Webhook sources: one module per provider, listed in :mod:`webhook_translator.sources.registry`."""
