"""`webhook-translator translate SOURCE FILE`: the /track payloads a webhook maps to, as the forwarder maps it."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import EVENTS, Run

from webhook_translator.sources.registry import REGISTRY
from webhook_translator_tools.local.acuity_server import LocalAcuity
from webhook_translator_tools.local.graph_server import LocalGraph
from webhook_translator_tools.local.hubspot_server import LocalHubSpot
from webhook_translator_tools.local.provider_server import LocalProviderApi
from webhook_translator_tools.local.samples import Sample
from webhook_translator_tools.local.stripe_server import LocalStripe

FAKES: dict[str, type[LocalProviderApi]] = {
    "facebook-leads": LocalGraph,
    "acuity": LocalAcuity,
    "hubspot": LocalHubSpot,
    "stripe": LocalStripe,
}


@contextlib.contextmanager
def local_provider(source: str) -> Iterator[LocalProviderApi]:
    """The local fake of ``source``'s provider API (its seeded objects, any credential), running."""
    fake = FAKES[source]()
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


def raw_body(tmp_path: Path, sample: str, **changes: object) -> Path:
    """The raw body of a sample, created just now, written to a file (what a user captures from a provider)."""
    body = Sample.load(EVENTS / sample).retimed(time.time()).body
    body.update(changes)
    path = tmp_path / "body.json"
    path.write_text(json.dumps(body))
    return path


def test_a_raw_stripe_body_prints_the_track_payload_with_the_token_masked(run: Run, tmp_path: Path) -> None:
    # Given the raw body of a checkout.session.completed event
    path = raw_body(tmp_path, "stripe/checkout-session-completed.json")

    # When it is translated
    result = run("translate", "stripe", str(path))

    # Then one /track body is printed as JSON, token masked, named and keyed like the forwarder sends it
    assert result.code == 0, result.err
    [body] = json.loads(result.out)
    assert body["token"] == "****"
    assert body["event"] == "Checkout Completed"
    assert body["distinctId"] == "stripe:evt_1SampleCheckoutCompleted"
    assert isinstance(body["time"], int)
    assert result.err == ""


def test_a_sample_file_is_translated_with_its_body_re_timed(run: Run) -> None:
    # Given a sample in the events/ shape, created weeks ago
    # When it is translated
    result = run("translate", "stripe", str(EVENTS / "stripe/invoice-paid.json"))

    # Then it maps (Ours's 7-day window is not hit) and the time is a few seconds ago
    assert result.code == 0, result.err
    [body] = json.loads(result.out)
    assert body["event"] == "Invoice Paid"
    assert 0 < time.time() * 1000 - body["time"] < 60_000


def test_a_multipart_sample_is_translated_with_its_content_type(run: Run) -> None:
    # Given the Jotform sample (multipart/form-data with a boundary)
    # When it is translated
    result = run("translate", "jotform", str(EVENTS / "jotform/submission.json"))

    # Then it maps to a Form Submitted event
    assert result.code == 0, result.err
    assert [b["event"] for b in json.loads(result.out)] == ["Form Submitted"]


def test_a_skipped_event_type_prints_an_empty_list_and_says_why(run: Run) -> None:
    # Given an event type the Stripe source does not map
    # When it is translated
    result = run("translate", "stripe", str(EVENTS / "stripe/customer-created-ignored.json"))

    # Then [] is printed, the reason goes to stderr, and the exit status is 0
    assert result.code == 0
    assert json.loads(result.out) == []
    assert "customer.created is skipped (ignored_type)" in result.err


def test_a_rename_from_translator_config_changes_the_event_name(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a rename configured without code
    monkeypatch.setenv("TRANSLATOR_CONFIG", json.dumps({"sources": {"stripe": {"rename": {"invoice.paid": "Paid"}}}}))

    # When the webhook is translated
    result = run("translate", "stripe", str(EVENTS / "stripe/invoice-paid.json"))

    # Then the Ours event carries the configured name
    assert result.code == 0, result.err
    assert json.loads(result.out)[0]["event"] == "Paid"


def test_an_invalid_translator_config_is_one_line(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a configuration that is not JSON
    monkeypatch.setenv("TRANSLATOR_CONFIG", "{not json")

    # When a webhook is translated / Then the configuration is named as the problem, in one line
    result = run("translate", "stripe", str(EVENTS / "stripe/invoice-paid.json"))
    assert result.one_line_error
    assert "invalid configuration" in result.err


def test_a_header_sets_the_content_type_the_receiver_would_check(run: Run, tmp_path: Path) -> None:
    # Given a raw body sent as text/plain
    path = raw_body(tmp_path, "stripe/invoice-paid.json")

    # When it is translated with that header
    result = run("translate", "stripe", str(path), "--header", "Content-Type: text/plain")

    # Then it is refused in one line naming the expected type
    assert result.one_line_error
    assert "stripe sends application/json, not text/plain" in result.err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["translate", "nosuchsource", "FILE"], "unknown source 'nosuchsource'; known sources: "),
        (["translate", "stripe", "/no/such/file.json"], "cannot read FILE /no/such/file.json: No such file"),
        (["translate", "stripe", "DIR"], "it is a directory"),
        (
            ["translate", "stripe", "NOT_JSON"],
            "the receiver would refuse this webhook (400 bad_request): body is not valid JSON",
        ),
        (["translate", "stripe", "NO_ID"], "not a Stripe event: missing id"),
        (["translate", "stripe", "STALE"], "cannot translate stripe evt_old: stale_event"),
        (["translate", "tally", "STRIPE_SAMPLE"], "is a stripe sample, not tally"),
        (["translate", "stripe", "FILE", "--header", "no colon"], "is not 'Name: value'"),
    ],
    ids=["unknown-source", "missing-file", "directory", "not-json", "no-id", "stale", "wrong-sample", "bad-header"],
)
def test_bad_input_is_one_line_and_a_non_zero_exit(run: Run, tmp_path: Path, argv: list[str], message: str) -> None:
    # Given files that are not what the command needs
    files = {
        "FILE": raw_body(tmp_path, "stripe/invoice-paid.json"),
        "DIR": tmp_path,
        "NOT_JSON": tmp_path / "text.json",
        "NO_ID": tmp_path / "no-id.json",
        "STALE": tmp_path / "stale.json",
        "STRIPE_SAMPLE": EVENTS / "stripe/invoice-paid.json",
    }
    files["NOT_JSON"].write_text("name=Jane")
    files["NO_ID"].write_text(json.dumps({"type": "invoice.paid", "data": {"object": {}}}))
    stale = json.loads(files["FILE"].read_text()) | {"id": "evt_old", "created": 1_600_000_000}
    files["STALE"].write_text(json.dumps(stale))

    # When translate is run on them
    result = run(*[str(files[a]) if a in files else a for a in argv])

    # Then it fails with one line saying what is wrong, and no traceback
    assert result.one_line_error, result
    assert message in result.err
    assert result.out == ""


SAMPLES = sorted(p for p in EVENTS.glob("*/*.json") if "source" in json.loads(p.read_text()))


@pytest.mark.parametrize("path", SAMPLES, ids=[str(p.relative_to(EVENTS)) for p in SAMPLES])
def test_every_sample_declares_the_time_fields_its_mapper_reads(run: Run, path: Path) -> None:
    # Given a sample, whose recorded times are weeks old
    data = json.loads(path.read_text())
    assert "time_fields" in data, "add time_fields (an empty list when the mapper uses the receive time)"

    # When it is translated (re-timed first, as serve --replay does; a source that fetches asks its local fake)
    with contextlib.ExitStack() as stack:
        fetch_from = []
        if REGISTRY[data["source"]].fetches:
            fake = stack.enter_context(local_provider(data["source"]))
            fetch_from = ["--fetch-from", fake.url]
        result = run("translate", data["source"], str(path), *fetch_from)

    # Then it maps — Ours's 7-day window is not hit — and every event's time is a few seconds ago
    assert result.code == 0, result.err
    for body in json.loads(result.out):
        assert abs(time.time() * 1000 - body["time"]) < 60_000, body["event"]
