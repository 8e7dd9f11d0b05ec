"""Data resource catalogue benchmark: ``govstd catalogue`` on a synthetic tree of 10,000
matters (bench/synth.py: each matter its own form of 20 fields over its own elements).

Side by side in one run, best of ``--repeat`` (default 2; other jobs only add time):

* baseline — a hand-written script that reads the tree's YAML with PyYAML's C loader
  and joins matters, forms and elements into the same resources, checking nothing (what
  a data office would write in an afternoon);
* validate — ``govstd validate`` (load, check, resolve every region): what any command
  on the tree pays first;
* catalogue json — ``govstd catalogue --format json``: validate, build the package's
  intermediate model, the resources (generator/catalogue.py) and the JSON text;
* catalogue xlsx — the same, the workbook written by openpyxl instead.

Printed: seconds, resources and items, and the ratios to the baseline and to validate.

    python bench/catalogue_bench.py [--matters 10000] [--repeat 2]
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from synth import write_tree  # noqa: E402

from generator.build import build_package  # noqa: E402
from generator.catalogue import resources, write_workbook  # noqa: E402
from generator.pipeline import check_tree, checked_region  # noqa: E402

Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def baseline(tree: Path) -> list[dict[str, Any]]:
    """Read every YAML document and join them into resources of every region: no checks,
    and every region taken to implement every matter as written (the synthetic city
    inherits all of the province's; its overrides are ignored here)."""
    elements: dict[str, Any] = {}
    forms: dict[str, Any] = {}
    matters: list[Any] = []
    regions: list[str] = []
    for path in sorted(tree.rglob("*.yaml")):
        with path.open(encoding="utf-8") as fh:
            for doc in yaml.load_all(fh, Loader=Loader):
                kind = doc.get("kind") if isinstance(doc, dict) else None
                if kind == "DataElement":
                    elements[doc["id"]] = doc
                elif kind == "Form":
                    forms[doc["id"]] = doc
                elif kind == "Matter":
                    matters.append(doc)
                elif kind == "Region":
                    regions.append(doc["id"])
    out = []
    for region, m in ((r, m) for r in regions for m in sorted(matters, key=lambda m: m["id"])):
        form = forms[m["form"]]
        items: dict[str, dict[str, Any]] = {}
        for section in form["sections"]:
            for f in section["fields"]:
                e = elements[f["element"]]
                items.setdefault(
                    e["id"],
                    {
                        "element": e["id"],
                        "name": e["name"],
                        "sensitive": bool(e.get("sensitive")),
                        "share_type": e.get("share") or "conditional",
                    },
                )
        out.append(
            {
                "id": form["id"],
                "region": region,
                "provider": m["agency"]["name"],
                "items": list(items.values()),
            }
        )
    return out


def validate(tree: Path) -> None:
    _, diagnostics, _ = check_tree([tree])
    assert not diagnostics.has_errors()


def catalogue(tree: Path, region: str) -> list[dict[str, Any]]:
    built, diagnostics, resolved = checked_region([tree], region)
    assert resolved, [str(d) for d in diagnostics.errors[:5]]
    return resources(build_package(built, resolved, region))


def best(run: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        gc.collect()
        gc.disable()  # as the govstd command does (generator/cli.py)
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
        gc.enable()
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--matters", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="govstd-catalogue-") as scratch:
        tree = Path(scratch) / "tree"
        start = time.perf_counter()
        write_tree(tree, args.matters)
        print(f"tree of {args.matters} matters written in {time.perf_counter() - start:.1f} s")
        region = "province"
        t_base, base = best(lambda: baseline(tree), args.repeat)
        t_validate, _ = best(lambda: validate(tree), args.repeat)

        def as_json() -> str:
            return json.dumps({"region": region, "items": catalogue(tree, region)})

        t_json, text = best(as_json, args.repeat)
        found = json.loads(text)["items"]
        out = Path(scratch) / "catalogue.xlsx"
        t_xlsx, rows = best(lambda: write_workbook(catalogue(tree, region), out), args.repeat)
    items = sum(len(r["items"]) for r in found)
    assert len(found) == len(base) and items == sum(len(r["items"]) for r in base)
    print(f"resources {len(found)}, items {items}, workbook rows {rows}")
    print(f"{'':22}{'seconds':>9}{'× baseline':>12}{'× validate':>12}")
    for name, t in (
        ("baseline (PyYAML C)", t_base),
        ("validate", t_validate),
        ("catalogue json", t_json),
        ("catalogue xlsx", t_xlsx),
    ):
        print(f"{name:22}{t:9.2f}{t / t_base:12.2f}{t / t_validate:12.2f}")


if __name__ == "__main__":
    main()
