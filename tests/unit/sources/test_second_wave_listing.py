"""``webhook-translator sources`` lists the second-wave sources with the Ours event names they emit."""

from __future__ import annotations

from webhook_translator.config import TranslatorConfig
from webhook_translator.sources.registry import REGISTRY
from webhook_translator_tools.cli.sources import allowlist_names, source_rows

EXPECTED = {
    "hubspot": {"Lead Created", "Lead Qualified", "Customer Created"},
    "zoom": {"Meeting Registered", "Webinar Registered", "Meeting Joined", "Webinar Joined"},
    "callrail": {"Call Completed", "Call Missed", "Text Received", "Form Submitted"},
    "shopify": {"Order Placed", "Order Paid", "Customer Created", "Checkout Started"},
    "woocommerce": {"Order Placed", "Order Paid", "Customer Created"},
    "calcom": {
        "Meeting Scheduled",
        "Meeting Rescheduled",
        "Meeting Canceled",
        "Meeting No-Show",
        "Booking Paid",
        "Routing Form Submitted",
    },
    "formstack": {"Form Submitted"},
    "gravityforms": {"Form Submitted"},
    "wpforms": {"Form Submitted"},
}


def test_each_second_wave_source_lists_its_ours_event_names() -> None:
    # Given the registry and no configuration
    rows = source_rows(REGISTRY, TranslatorConfig())
    # Then every second-wave source is listed with exactly its Ours event names, all on the allowlist
    for name, names in EXPECTED.items():
        assert {ours for source, _, ours in rows if source == name} == names, name
    assert set().union(*EXPECTED.values()) <= set(allowlist_names(rows))


def test_a_rename_shows_in_the_listing() -> None:
    config = TranslatorConfig.model_validate({"sources": {"callrail": {"rename": {"call.missed": "Missed Call"}}}})
    rows = source_rows(REGISTRY, config)
    assert ("callrail", "call.missed", "Missed Call") in rows
