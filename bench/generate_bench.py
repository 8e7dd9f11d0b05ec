"""Generator benchmark: synthetic trees of 500, 1,000 and 2,000 matters.

Each matter has its own form of 20 fields over its own data elements
(bench/synth.py). For each size, ``--repeat`` times (default 2; the best run
counts, as timeit does, since other jobs on the machine only ever add time), each
in a fresh process into an empty folder: wall time of
``govstd generate`` (validate → resolve → build → render → format → write),
peak memory (max RSS of the largest process, and the peak of the summed
proportional set size of the command's processes: it forks, generator/parallel.py)
and files written. Then the ratio of the largest size to
the one half its size (linear would be 2.0; the target is ≤ 2.2), and a
regeneration after a one-matter change, which must rewrite only that matter's
files. Targets on a 2-core machine: 2,000 matters in under 30 s.

    python bench/generate_bench.py [--sizes 500 1000 2000] [--repeat 2]
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
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


def _tree_pss_kb(root: int) -> int:
    """Proportional set size of ``root`` and its descendants (Linux; 0 elsewhere)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parents[int(stat.parent.name)] = int(fields[1])
        except (OSError, IndexError, ValueError):
            continue
    family, grew = {root}, True
    while grew:
        more = {pid for pid, ppid in parents.items() if ppid in family} - family
        family |= more
        grew = bool(more)
    total = 0
    for pid in family:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except (OSError, ValueError):
            continue
    return total


def run_child(tree: Path, out: Path) -> dict[str, object]:
    """One generation in a fresh process; its processes' summed memory sampled meanwhile."""
    cmd = [sys.executable, __file__, "--child", str(tree), str(out)]
    peak_pss = 0
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        done = threading.Event()
        reader = threading.Thread(target=lambda: (proc.wait(), done.set()))
        reader.start()
        while not done.wait(0.2):  # sampling costs the kernel time: not too often
            peak_pss = max(peak_pss, _tree_pss_kb(proc.pid))
        stdout, stderr = proc.communicate()
        reader.join()
    if proc.returncode != 0:
        raise SystemExit(f"generate failed:\n{stderr[-3000:]}")
    figures: dict[str, object] = json.loads(stdout.strip().splitlines()[-1])
    figures["total_mb"] = peak_pss / 1024
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 1000, 2000])
    parser.add_argument(
        "--repeat", type=int, default=2, help="runs per size; the best counts (less noise)"
    )
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
            runs = []
            for _ in range(args.repeat):  # each into an empty folder: a first generation
                shutil.rmtree(out, ignore_errors=True)
                runs.append(run_child(tree, out))
            figures = min(runs, key=lambda f: float(f["wall"]))  # type: ignore[arg-type]
            walls = ", ".join(f"{float(f['wall']):.2f}" for f in runs)  # type: ignore[arg-type]
            rows.append((size, figures))
            print(
                f"{size:>6} matters: {figures['wall']:6.2f} s (best of {walls}), "
                f"peak {figures['peak_mb']:5.0f} MB "
                f"(largest process; {figures['total_mb']:5.0f} MB its processes together), "
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
