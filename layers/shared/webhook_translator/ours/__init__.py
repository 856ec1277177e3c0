"""The Ours Privacy ingest API: the /track contract and its client."""

from webhook_translator.ours.models import (
    DefaultProperties,
    IdentityContext,
    InvalidTrackEvent,
    TrackEvent,
    UserProperties,
    track_body,
)

__all__ = [
    "DefaultProperties",
    "IdentityContext",
    "InvalidTrackEvent",
    "TrackEvent",
    "UserProperties",
    "track_body",
]
