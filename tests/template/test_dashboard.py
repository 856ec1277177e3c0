"""template.yaml's dashboard and verification alarm read the metrics the functions emit — by name and dimensions.

What the functions emit is collected from the code itself: every ``metrics.add(<constant>, …, Dim=…)``
call in the runtime package (an AST scan), with the constants' values from
``webhook_translator.observability``. The dashboard body is parsed as the JSON CloudWatch receives.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import pytest

from template.test_template import load_template
from webhook_translator import observability
from webhook_translator.config import Telemetry

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "layers/shared/webhook_translator"
SEARCH = re.compile(r"SEARCH\('\{(?P<namespace>[^,}]+),(?P<dims>[^}]*)\} MetricName=\"(?P<name>[^\"]+)\"'")


def emitted() -> dict[str, set[frozenset[str]]]:
    """metric name → the dimension sets the code emits it with (from every ``metrics.add`` call)."""
    found: dict[str, set[frozenset[str]]] = {}
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "add"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "metrics"
            ):
                continue
            names = _names(node.args[0], path)
            dims = frozenset(k.arg for k in node.keywords if k.arg is not None)
            for name in names:
                found.setdefault(name, set()).add(dims)
    return found


def _names(arg: ast.expr, path: Path) -> list[str]:
    """The metric name(s) a call's first argument stands for: an observability constant, or OUTCOME_METRICS[…]."""
    if isinstance(arg, ast.Attribute) and isinstance(arg.value, ast.Name) and arg.value.id == "observability":
        return [getattr(observability, arg.attr)]
    if isinstance(arg, ast.Subscript) and isinstance(arg.value, ast.Attribute) and arg.value.attr == "OUTCOME_METRICS":
        return sorted(observability.OUTCOME_METRICS.values())
    raise AssertionError(f"{path.name}:{arg.lineno}: a metric name that is not an observability constant")


@pytest.fixture(scope="module")
def sam() -> dict[str, Any]:
    return load_template()


@pytest.fixture(scope="module")
def dashboard(sam: dict[str, Any]) -> dict[str, Any]:
    [resource] = [r for r in sam["Resources"].values() if r["Type"] == "AWS::CloudWatch::Dashboard"]
    body = resource["Properties"]["DashboardBody"]["Fn::Sub"]
    # what CloudFormation substitutes: ${AWS::Region} and the queues' names
    text = re.sub(r"\$\{([^}]+)\}", lambda m: m.group(1).replace(":", "_").replace(".", "_"), body)
    document: dict[str, Any] = json.loads(text)
    return document


def searches(dashboard: dict[str, Any]) -> list[tuple[str, frozenset[str], str]]:
    """(namespace, dimensions, metric name) of every SEARCH expression on the dashboard."""
    found = []
    for widget in dashboard["widgets"]:
        for row in widget["properties"]["metrics"]:
            for item in row:
                if isinstance(item, dict) and "expression" in item:
                    match = SEARCH.match(item["expression"])
                    assert match, item["expression"]
                    dims = frozenset(d.strip() for d in match["dims"].split(",") if d.strip())
                    found.append((match["namespace"], dims, match["name"]))
    return found


def test_the_code_emits_exactly_the_metric_names_observability_lists() -> None:
    assert set(emitted()) == set(observability.METRIC_NAMES)


def test_the_dashboard_shows_every_metric_the_functions_emit_and_no_other(dashboard: dict[str, Any]) -> None:
    # Given the metric names the code emits, and the ones the dashboard's searches read
    shown = {name for _, _, name in searches(dashboard)}
    # Then they are the same set
    assert shown == set(emitted())


def test_each_search_uses_a_dimension_set_the_code_emits_that_metric_with(dashboard: dict[str, Any]) -> None:
    code = emitted()
    for _, dims, name in searches(dashboard):
        assert dims in code[name], (name, sorted(dims), [sorted(d) for d in code[name]])


def test_the_namespace_is_the_one_the_functions_are_given(sam: dict[str, Any], dashboard: dict[str, Any]) -> None:
    namespace = sam["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"]
    assert namespace == Telemetry.namespace
    assert {ns for ns, _, _ in searches(dashboard)} == {namespace}


def test_the_dashboard_shows_queue_depth_oldest_age_and_dlq_depth(dashboard: dict[str, Any]) -> None:
    rows = [row for w in dashboard["widgets"] for row in w["properties"]["metrics"] if row and row[0] == "AWS/SQS"]
    shown = {(row[1], row[3]) for row in rows}
    assert shown == {
        ("ApproximateNumberOfMessagesVisible", "WebhookQueue_QueueName"),
        ("ApproximateAgeOfOldestMessage", "WebhookQueue_QueueName"),
        ("ApproximateNumberOfMessagesVisible", "WebhookDlq_QueueName"),
    }


def test_the_verification_alarm_fires_per_source_on_failures_without_a_success(sam: dict[str, Any]) -> None:
    # Given the alarm on signature verification
    alarm = sam["Resources"]["VerificationFailureAlarm"]["Properties"]
    [query] = alarm["Metrics"]
    # Then it reads the per-source VerificationFailed metric (1 per failure, 0 per success) as the code emits it
    match = re.fullmatch(r'SELECT MIN\((\w+)\) FROM SCHEMA\("(\w+)", (\w+)\) GROUP BY (\w+)', query["Expression"])
    assert match, query["Expression"]
    name, namespace, dimension, group = match.groups()
    assert name == observability.VERIFICATION_FAILED
    assert namespace == Telemetry.namespace
    assert dimension == group == observability.SOURCE
    assert emitted()[name] == {frozenset({observability.SOURCE})}
    # and fires only when every check failed (Minimum 1) in three 5-minute periods in a row
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
    assert (query["Period"], alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (300, 3, 3)
    assert alarm["TreatMissingData"] == "notBreaching"


def test_the_auth_refused_alarm_reads_the_metric_as_the_forwarder_emits_it(sam: dict[str, Any]) -> None:
    alarm = sam["Resources"]["OursAuthRefusedAlarm"]["Properties"]
    [query] = alarm["Metrics"]
    match = re.fullmatch(r'SELECT SUM\((\w+)\) FROM SCHEMA\("(\w+)", (\w+)\) GROUP BY (\w+)', query["Expression"])
    assert match, query["Expression"]
    name, namespace, dimension, group = match.groups()
    assert name == observability.OURS_AUTH_REFUSED
    assert namespace == Telemetry.namespace
    assert dimension == group == observability.SOURCE
    assert emitted()[name] == {frozenset({observability.SOURCE})}
