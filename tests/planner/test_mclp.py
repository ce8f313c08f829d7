"""The optimiser on the classic maximal covering instances in ../shared/data/mclp.

Origin of every expected value: ../shared/data/SOURCES.md gives no published optima for these
files, so each value is HiGHS 1.16's proven optimum (branch and bound closed to a zero gap,
computed on 2026-12-03 with `cityops.planner.mclp.solve_mclp(..., exact=True)`), cross-checked
by a second method stated per row:

- "enumeration": every set of p sites enumerated here (Swain, p <= 3): an independent proof.
- "recount": the plan's covered demand recounted here from plain Euclidean distances (the value
  is reached), and the heuristic's LP relaxation bound agrees with it to within 0.5% (the
  optimum cannot be much higher), besides the exact solver's own proof.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cityops.planner.mclp import Instance, read_instance, run_mclp, solve_mclp

pytestmark = pytest.mark.shared_data

# (file, radius, p, optimum, cross-check)
SETTINGS = [
    ("swain55.txt", 5, 2, 366.0, "enumeration"),
    ("swain55.txt", 5, 3, 405.0, "enumeration"),
    ("swain55.txt", 7, 3, 472.0, "enumeration"),
    ("swain55.txt", 10, 3, 548.0, "enumeration"),
    ("swain55.txt", 5, 4, 433.0, "recount"),
    ("swain55.txt", 8, 8, 610.0, "recount"),
    ("swain55.txt", 10, 4, 581.0, "recount"),
    ("SJC/SJC324.txt", 150, 10, 4848.0, "recount"),
    ("SJC/SJC324.txt", 150, 20, 7302.0, "recount"),
    ("SJC/SJC324.txt", 250, 10, 8020.0, "recount"),
    ("SJC/SJC402.txt", 200, 20, 11761.0, "recount"),
    ("SJC/SJC500.txt", 200, 20, 12518.0, "recount"),
    ("SJC/SJC708.txt", 250, 30, 19974.0, "recount"),
    ("SJC/SJC818.txt", 200, 40, 21919.0, "recount"),
    ("SJC/SJC818.txt", 300, 20, 21820.0, "recount"),
]
IDS = [f"{f.split('/')[-1][:-4]}-R{r}-p{p}" for f, r, p, _, _ in SETTINGS]


def recount(inst: Instance, radius: float, chosen: tuple[str, ...]) -> float:
    at = [inst.ids.index(c) for c in chosen]
    d = np.hypot(*(inst.xy[:, None, :] - inst.xy[None, at, :]).transpose(2, 0, 1))
    return float(inst.demand[(d <= radius).any(axis=1)].sum())


def enumerate_best(inst: Instance, radius: float, p: int) -> float:
    d = np.hypot(*(inst.xy[:, None, :] - inst.xy[None, :, :]).transpose(2, 0, 1))
    cover = d <= radius
    best = 0.0
    for combo in itertools.combinations(range(len(inst.ids)), p):
        best = max(best, float(inst.demand[cover[:, combo].any(axis=1)].sum()))
    return best


@pytest.mark.parametrize(("name", "radius", "p", "optimum", "check"), SETTINGS, ids=IDS)
def test_exact_optimum_reproduced(
    shared_data: Path, name: str, radius: float, p: int, optimum: float, check: str
) -> None:
    inst = read_instance(shared_data / "mclp" / name)
    exact = solve_mclp(inst, radius, p, exact=True)
    assert exact.optimal
    assert exact.covered == optimum
    assert len(exact.chosen) == p
    assert recount(inst, radius, exact.chosen) == optimum
    assert exact.upper_bound == pytest.approx(optimum, rel=1e-6)
    if check == "enumeration":
        assert enumerate_best(inst, radius, p) == optimum


@pytest.mark.parametrize(("name", "radius", "p", "optimum", "check"), SETTINGS, ids=IDS)
def test_heuristic_gap(
    shared_data: Path, name: str, radius: float, p: int, optimum: float, check: str
) -> None:
    """Lazy greedy + swaps (+ LP rounding): at least 99.5% of the optimum, and its stated
    bound really is an upper bound."""
    inst = read_instance(shared_data / "mclp" / name)
    found = solve_mclp(inst, radius, p)
    assert len(found.chosen) <= p
    assert recount(inst, radius, found.chosen) == found.covered
    assert found.covered >= 0.995 * optimum
    assert found.covered <= optimum
    assert found.upper_bound >= optimum * (1 - 1e-9)
    assert found.upper_bound <= optimum * 1.005  # the LP bound is tight on these
    assert found.gap == pytest.approx(
        0.0 if found.optimal else 1 - found.covered / found.upper_bound, abs=1e-9
    )


def test_run_mclp_json(shared_data: Path) -> None:
    out = run_mclp(shared_data / "mclp" / "swain55.txt", 5, 2, exact=True).to_json()
    assert out["covered"] == 366.0
    assert out["optimal"] is True
    assert out["total"] == 640.0
    assert out["instance"] == "swain55"
    assert isinstance(out["chosen"], list)
    assert len(out["chosen"]) == 2


def test_both_formats_read(shared_data: Path) -> None:
    sw = read_instance(shared_data / "mclp" / "swain55.txt")
    assert len(sw.ids) == 55
    assert sw.demand.sum() == 640.0
    assert sw.ids[0] == "01"
    sjc = read_instance(shared_data / "mclp" / "SJC" / "SJC324.txt")
    assert len(sjc.ids) == 324
    assert sjc.ids[-1] == "324"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("3\n1 0 0 1\n2 1 1 1\n", "header says 3"),
        ("2\n1 0 0 1\n2 1 x 1\n", "not a number"),
        ("2\n1 0 0 1\n2 1 1 -4\n", "negative demand"),
        ("2 9999 p S\n0 0 1\n1 1\n", "expected x y demand"),
        ("2 9999 p\n0 0 1\n", "expected `n`"),
        ("2\n1 0 0 1\n2 1 nan 1\n", "not finite"),
    ],
)
def test_malformed_files_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        read_instance(path)


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("0123456789 .-\n\tpSe9xn")), max_size=120))
def test_any_text_reads_or_is_refused_clearly(text: str) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f.txt"
        path.write_text(text)
        try:
            inst = read_instance(path)
        except ValueError:
            return
        assert len(inst.ids) == len(inst.xy) == len(inst.demand) >= 1
        assert (inst.demand >= 0).all()
