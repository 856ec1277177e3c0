"""Local stand-ins for the outside world: a contract-faithful Ours endpoint (``ours_server``)."""

from webhook_translator_tools.local.ours_server import Fault, LocalOurs, RecordedRequest, validate_track

__all__ = ["Fault", "LocalOurs", "RecordedRequest", "validate_track"]
