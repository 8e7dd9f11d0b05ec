"""Benchmark of ``govstd validate`` on synthetic trees of 500, 1000 and 2000 matters.

Run: ``.venv/bin/python bench/validate_bench.py`` (about a minute).

For each size a tree is written by :mod:`bench.synth` into a temporary folder and
:func:`generator.pipeline.check_tree` (what ``govstd validate`` runs) is timed
in this process, with the validator's caches cleared first so that each size
starts cold. Printed: wall time, matters per second, files, and the ratio of the
time at the largest size to the one at half of it (about 2 when validation is
linear). The CLI is then timed once, by subprocess, on the largest tree
(interpreter start and imports included). Target: 2,000 matters in < 15 s.

Options: ``--sizes 500 1000 2000``, ``--repeat N`` (best of N), ``--no-cli``,
``--profile SIZE`` (cProfile of one run at SIZE, top functions by cumulative
and by own time).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.synth import write_tree  # noqa: E402
from generator.pipeline import check_tree  # noqa: E402

TARGET_SECONDS = 15.0


def clear_caches() -> None:
    """Empty every functools cache of the validator, so a run starts cold."""
    for name, module in list(sys.modules.items()):
        if not name.startswith(("generator", "runtime")) or module is None:
            continue
        for value in list(vars(module).values()):
            clear = getattr(value, "cache_clear", None)
            if callable(clear) and getattr(value, "__module__", None) == name:
                clear()


def time_check(root: Path, repeat: int) -> tuple[float, float, int, int, int]:
    """Best wall and CPU time of ``check_tree`` over ``repeat`` runs; files, errors, warnings.

    CPU time (of this process) is less disturbed than wall time by other work on
    the machine.
    """
    best = best_cpu = float("inf")
    files = errors = warnings = 0
    for _ in range(repeat):
        clear_caches()
        gc.collect()
        start, start_cpu = time.perf_counter(), time.process_time()
        tree, diagnostics, _ = check_tree([root])
        elapsed, cpu = time.perf_counter() - start, time.process_time() - start_cpu
        best, best_cpu = min(best, elapsed), min(best_cpu, cpu)
        files = len(tree.files)
        errors, warnings = len(diagnostics.errors), len(diagnostics.warnings)
        if errors:
            for d in diagnostics.sorted()[:10]:
                print(f"  {d}", file=sys.stderr)
        del tree, diagnostics
    return best, best_cpu, files, errors, warnings


def time_cli(root: Path) -> tuple[float, int, str]:
    govstd = Path(sys.executable).with_name("govstd")
    cmd = [str(govstd)] if govstd.exists() else [sys.executable, "-m", "generator.cli"]
    start = time.perf_counter()
    done = subprocess.run(
        [*cmd, "validate", str(root)], capture_output=True, text=True, cwd=ROOT, check=False
    )
    elapsed = time.perf_counter() - start
    last = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ""
    return elapsed, done.returncode, last


def profile(root: Path, top: int = 25) -> None:
    clear_caches()
    profiler = cProfile.Profile()
    profiler.enable()
    check_tree([root])
    profiler.disable()
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(top)
        print(out.getvalue())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="time govstd validate on synthetic trees")
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 1000, 2000])
    parser.add_argument("--fields", type=int, default=20, help="fields per form")
    parser.add_argument("--repeat", type=int, default=1, help="best of N runs per size")
    parser.add_argument("--no-cli", action="store_true", help="skip the subprocess run")
    parser.add_argument("--profile", type=int, metavar="SIZE", help="cProfile one run")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="govstd-bench-") as tmp:
        base = Path(tmp)
        # Warm-up: imports and first-use initialisation are not part of the figures.
        write_tree(base / "warmup", 3, args.fields)
        check_tree([base / "warmup"])

        if args.profile:
            root = base / f"profile_{args.profile}"
            write_tree(root, args.profile, args.fields)
            profile(root)
            return 0

        print(
            f"{'matters':>8} {'files':>7} {'write s':>8} {'check s':>8} {'cpu s':>7} "
            f"{'matters/s':>10} {'errors':>6} {'warnings':>8}"
        )
        times: dict[int, float] = {}
        cpus: dict[int, float] = {}
        failed = False
        for size in args.sizes:
            root = base / f"tree_{size}"
            start = time.perf_counter()
            write_tree(root, size, args.fields)
            written = time.perf_counter() - start
            elapsed, cpu, files, errors, warnings = time_check(root, args.repeat)
            times[size], cpus[size] = elapsed, cpu
            failed |= errors > 0
            print(
                f"{size:>8} {files:>7} {written:>8.2f} {elapsed:>8.2f} {cpu:>7.2f} "
                f"{size / elapsed:>10.0f} {errors:>6} {warnings:>8}",
                flush=True,
            )

        largest = max(args.sizes)
        if largest // 2 in times:
            ratio = times[largest] / times[largest // 2]
            cpu_ratio = cpus[largest] / cpus[largest // 2]
            print(
                f"time({largest}) / time({largest // 2}) = {ratio:.2f} wall, {cpu_ratio:.2f} cpu "
                "(2.00 is linear)"
            )
        verdict = "ok" if times[largest] < TARGET_SECONDS else "SLOWER THAN TARGET"
        print(
            f"{largest} matters in {times[largest]:.2f} s (target < {TARGET_SECONDS:.0f} s): "
            f"{verdict}"
        )

        if not args.no_cli:
            elapsed, code, last = time_cli(base / f"tree_{largest}")
            print(f"CLI: govstd validate ({largest} matters) {elapsed:.2f} s, exit {code}: {last}")
            failed |= code != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
