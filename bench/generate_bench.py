"""Generator benchmark: synthetic trees of 500, 1,000 and 2,000 matters.

Each matter has its own form of 20 fields over its own data elements
(bench/synth.py). For each size, in a fresh process: wall time of
``govstd generate`` (validate → resolve → build → render → format → write),
peak memory (max RSS) and files written. Then the ratio of the largest size to
the one half its size (linear would be 2.0; the target is ≤ 2.2), and a
regeneration after a one-matter change, which must rewrite only that matter's
files. Targets on a 2-core machine: 2,000 matters in under 30 s.

    python bench/generate_bench.py [--sizes 500 1000 2000]
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def child(tree: Path, out: Path) -> None:
    """Run one generation in this process and print its figures as JSON."""
    from generator.pipeline import generate

    gc.disable()  # as the govstd command does for generate (generator/cli.py)
    start = time.perf_counter()
    result, diagnostics = generate([tree], "province", out)
    wall = time.perf_counter() - start
    if result is None:
        for d in diagnostics.errors[:20]:
            print(d, file=sys.stderr)
        raise SystemExit(1)
    peak_kb = max(  # this process, or the render process it forks (generator/parallel.py)
        resource.getrusage(who).ru_maxrss
        for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    peak_mb = peak_kb / 1024
    figures = {"wall": wall, "peak_mb": peak_mb, "written": len(result.written)}
    figures["written_files"] = result.written if len(result.written) < 20 else []
    print(json.dumps(figures))


def run_child(tree: Path, out: Path) -> dict[str, object]:
    cmd = [sys.executable, __file__, "--child", str(tree), str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"generate failed:\n{done.stderr[-3000:]}")
    figures: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 1000, 2000])
    parser.add_argument("--child", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    from synth import matter_id, write_tree

    rows = []
    with tempfile.TemporaryDirectory(prefix="govstd-genbench-") as tmp:
        for size in args.sizes:
            tree, out = Path(tmp) / f"tree{size}", Path(tmp) / f"out{size}"
            write_tree(tree, size)
            figures = run_child(tree, out)
            rows.append((size, figures))
            print(
                f"{size:>6} matters: {figures['wall']:6.2f} s, peak {figures['peak_mb']:6.0f} MB, "
                f"{figures['written']:>5} files written "
                f"({size / float(figures['wall']):.0f} matters/s)",
                flush=True,
            )
        size, _ = rows[-1]
        tree, out = Path(tmp) / f"tree{size}", Path(tmp) / f"out{size}"
        form = tree / "forms" / f"{matter_id(7, size)}.yaml"
        text = form.read_text(encoding="utf-8")
        form.write_text(text.replace("name: {zh: ", "name: {zh: 改", 1), encoding="utf-8")
        again = run_child(tree, out)
    print()
    by_size = dict(rows)
    largest = rows[-1][0]
    if largest // 2 in by_size:
        big, half = by_size[largest]["wall"], by_size[largest // 2]["wall"]
        ratio = float(big) / float(half)  # type: ignore[arg-type]
        print(
            f"time ratio {largest} / {largest // 2} matters: {ratio:.2f}"
            " (linear 2.00, target ≤ 2.20)"
        )
    print(
        f"after a one-matter change at {largest} matters: {again['wall']:.2f} s, "
        f"{again['written']} files rewritten: {', '.join(again['written_files'])}"
    )  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
