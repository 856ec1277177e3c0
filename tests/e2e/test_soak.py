"""The soak, small: 500 signed webhooks through ``serve`` with 10 % of Ours's answers failing.

``make soak`` runs the full one (5,000 webhooks; ``tests/support/soak.py``).
"""

from __future__ import annotations

import pytest

from support.soak import soak

pytestmark = pytest.mark.e2e


def test_every_accepted_webhook_is_delivered_or_dead_lettered_exactly_once() -> None:
    # Given serve, and a local Ours failing 10 % of its calls (and of its /batch rows) with a 503
    # When 500 webhooks are sent at a steady rate and the pipeline drains
    figures = soak(500, rate=100.0, fault_rate=0.1)
    print("\n".join(figures.lines()))
    # Then the books balance exactly: accepted = delivered + dead-lettered, nothing doubled
    assert figures.accepted == 500
    assert figures.accepted == figures.delivered + figures.dead_lettered
    assert figures.duplicates == 0
    # And the faults were real, and retried to delivery
    assert figures.ours_faults > 0
    assert figures.dead_lettered == 0
