"""Every sample in ``events/`` becomes exactly its golden ``/track`` bodies (``tests/golden/``).

A failing comparison names the JSON paths that differ, never their values (samples
look like personal data). After a deliberate change: ``.venv/bin/python tests/golden/regenerate.py``.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from webhook_translator.ours.models import TrackEvent
from webhook_translator.sources.registry import REGISTRY


def _load_regenerate() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "golden" / "regenerate.py"
    spec = importlib.util.spec_from_file_location("golden_regenerate", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


golden = _load_regenerate()
SAMPLES: list[Path] = golden.sample_paths()
REGENERATE = "run .venv/bin/python tests/golden/regenerate.py and review the diff"


def differences(actual: Any, expected: Any, path: str = "$") -> list[str]:
    """The JSON paths where ``actual`` and ``expected`` differ (no values)."""
    if isinstance(actual, dict) and isinstance(expected, dict):
        out = [f"{path}.{k} (unexpected)" for k in sorted(set(actual) - set(expected))]
        out += [f"{path}.{k} (missing)" for k in sorted(set(expected) - set(actual))]
        for key in sorted(set(actual) & set(expected)):
            out += differences(actual[key], expected[key], f"{path}.{key}")
        return out
    if isinstance(actual, list) and isinstance(expected, list):
        if len(actual) != len(expected):
            return [f"{path} (length {len(actual)}, expected {len(expected)})"]
        return [
            d for i, (a, e) in enumerate(zip(actual, expected, strict=True)) for d in differences(a, e, f"{path}[{i}]")
        ]
    if type(actual) is not type(expected) or actual != expected:
        return [path]
    return []


def _id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


@pytest.mark.parametrize("sample_path", SAMPLES, ids=_id)
def test_sample_maps_to_its_golden_track_bodies(sample_path: Path) -> None:
    # Given a raw webhook sample and the /track bodies it must produce
    golden_file = golden.golden_path(sample_path)
    assert golden_file.exists(), f"no golden for {_id(sample_path)}: {REGENERATE}"
    expected = json.loads(golden_file.read_text(encoding="utf-8"))
    # When it goes the receiver → queue → mapper way on the goldens' clock
    actual = golden.translate(sample_path)
    # Then the bodies are exactly the golden ones
    diff = differences(actual, expected)
    assert not diff, f"{_id(sample_path)} differs from its golden at {diff[:10]}: {REGENERATE}"


@pytest.mark.parametrize("sample_path", SAMPLES, ids=_id)
def test_golden_bodies_obey_the_ours_contract(sample_path: Path) -> None:
    # Given a golden file
    golden_file = golden.golden_path(sample_path)
    if not golden_file.exists():
        pytest.skip("no golden yet (the comparison test reports it)")
    # When each body is validated again as a TrackEvent on the goldens' clock
    for body in json.loads(golden_file.read_text(encoding="utf-8")):
        event = TrackEvent.build(now_ms=golden.NOW_MS, **body)
        # Then it is valid, round-trips unchanged and carries a distinctId
        assert event.to_ours() == body
        assert event.distinct_id


def test_every_registered_source_has_a_sample_and_every_golden_a_sample() -> None:
    # Given the registry, the samples and the goldens
    sampled = {path.parent.name for path in SAMPLES}
    goldens = {f"{p.parent.name}/{p.stem}" for p in golden.GOLDEN.glob("*/*.json")}
    # Then every source has at least one sample, and no golden is left without its sample
    assert set(REGISTRY) <= sampled, f"sources without a sample in events/: {sorted(set(REGISTRY) - sampled)}"
    assert goldens <= {_id(p) for p in SAMPLES}, (
        f"goldens without a sample: {sorted(goldens - {_id(p) for p in SAMPLES})}"
    )
