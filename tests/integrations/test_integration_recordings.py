"""The recordings in ``expected/`` are those of the probes that exist, made with the packages
pinned in pyproject.toml's ``integrations`` extra and FastAPI 0.165.0 (a pin bumped without
re-running ``record_fastapi.py`` fails here)."""

import json
import tomllib
from pathlib import Path

import probes

HERE = Path(__file__).resolve().parent


def test_every_probe_is_recorded_with_the_pinned_versions() -> None:
    with open(HERE.parents[1] / "pyproject.toml", "rb") as f:
        extra = tomllib.load(f)["project"]["optional-dependencies"]["integrations"]
    pins = dict(requirement.split("==") for requirement in extra)
    names = {name for name, _ in probes.RUNS}
    assert {p.stem for p in (HERE / "expected").glob("*.json")} == names
    for name in sorted(names):
        recorded = json.loads((HERE / "expected" / f"{name}.json").read_text())
        assert recorded["recorded_with"]["fastapi"] == "0.165.0"
        assert {k: recorded["recorded_with"][k] for k in pins} == pins, name
        configs = {config for n, config in probes.RUNS if n == name}
        assert set(recorded["configs"]) == configs, name
        for observation in recorded["configs"].values():
            requests = [r["request"] for r in observation["requests"]]
            assert requests == [f"{m} {p}" for m, p, _, _ in probes.REQUESTS], name
