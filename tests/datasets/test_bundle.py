from __future__ import annotations

import importlib.resources
from pathlib import Path

DATA = importlib.resources.files("cpnkit.datasets").joinpath("data")


def _bundled_files() -> list[str]:
    root = Path(str(DATA))
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and p.name != "PROVENANCE.md")


def test_bundle_every_file_is_listed_in_provenance() -> None:
    provenance = DATA.joinpath("PROVENANCE.md").read_text(encoding="utf-8")
    files = _bundled_files()
    assert files, "no bundled data found"
    for relative in files:
        name = Path(relative).name
        assert name in provenance, f"{relative} is bundled but not described in data/PROVENANCE.md"


def test_bundle_stays_small_and_ships_licences() -> None:
    root = Path(str(DATA))
    total = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    assert total < 10 * 1024 * 1024
    for licence in (
        "latency/LICENSE_HELP_MIT.txt",
        "latency/LICENSE_HWNASBENCH_MIT.txt",
        "topologies/teal/LICENSE_TEAL_MIT.txt",
    ):
        assert "MIT License" in (root / licence).read_text(encoding="utf-8")
