"""Province scale: ``govstd generate`` of 10,000 to 50,000 matters, and ``govstd serve`` of
the 10,000-matter package.

The trees come from bench/synth.py with ``--shared`` (12-field forms over shared data
element sets, as a province's forms share its data dictionary). For each size, in a
fresh process into an empty folder: wall time of the whole ``govstd generate``
(validate → resolve → build → render → format → write) and its peak memory, all its
processes together: the largest summed proportional set size of the process tree
(sampled every 0.2 s: generate, ``ruff format``, and the forks of an earlier generator)
plus what the system's in-memory files (tmpfs: /dev/shm) grew by meanwhile, and never
less than the generate process's own peak resident set (getrusage; a child's maxrss
would count the pages it shares with its parent after the fork). With
``--before DIR`` (a checkout of an earlier revision) the smallest size is generated
with that code too, side by side, and the ratios printed. Then the ratio of the time
at twice the size (linear would be 2.00), a regeneration after a one-matter change,
and the server on the first package: time from start to ``/healthz`` answering, the
service guide (``GET /api/matters/{id}``) of many matters one after the other
(median and p99), and the worker's resident memory — with ``--before DIR`` also those of
the earlier checkout's server on the package it generates from the same tree, side by side.
``--serve-only`` measures the server alone (the smallest size); with ``--work DIR`` the
tree, the packages and the databases are kept there and reused by the next run (only what
is missing is generated).

Exits 1 when a target of issue 13 is missed; prints every figure first.

    /work/bin/heavy .venv/bin/python bench/generate_bench.py [--sizes 10000 20000 50000]
        [--before DIR] [--no-serve | --serve-only [--work DIR]]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
if os.environ.get("GENBENCH_CODE"):  # --before: the generator of another checkout
    sys.path.insert(0, os.environ["GENBENCH_CODE"])

FIELDS = 12
# issue 13 items 3 and 4
TARGET_S = {10_000: 20.0, 50_000: 100.0}
TARGET_PEAK_MB = {10_000: 1024.0}
TARGET_DOUBLING = 2.2
TARGET_START_S = 3.0
TARGET_GUIDE_MS = 5.0
TARGET_RSS_MB = 300.0
START_TIMEOUT_S = 300.0


def child(tree: Path, out: Path) -> None:
    """Run one generation in this process and print its figures as JSON."""
    from generator.pipeline import generate

    start = time.perf_counter()
    result, diagnostics = generate([tree], "province", out)
    wall = time.perf_counter() - start
    if result is None:
        for d in diagnostics.errors[:20]:
            print(d, file=sys.stderr)
        raise SystemExit(1)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    written = len(result.written)  # the first paths only: a pipe holds 64 KiB
    figures = {"wall": wall, "own_mb": own, "written": written}
    print(json.dumps({**figures, "paths": result.written[:20]}))


def _shmem_kb() -> int:
    """Memory the system's in-memory files hold (``Shmem`` of /proc/meminfo: tmpfs such as
    /dev/shm, where a generate may stage files): not in any process's set size, but
    memory all the same; a run's peak counts what it added."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("Shmem:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


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


@dataclass(frozen=True)
class Run:
    wall: float
    own_mb: float  # the generate process's max RSS
    pss_mb: float  # sampled peak of the process tree's proportional set size + tmpfs added
    written: int  # files written
    paths: list[str]  # the first 20 of them

    @property
    def peak_mb(self) -> float:
        return max(self.own_mb, self.pss_mb)


def run_child(tree: Path, out: Path, code: Path | None = None) -> Run:
    """One generation in a fresh process (with the generator in ``code``, if given); its
    processes' summed memory sampled meanwhile."""
    here, tree, out = Path(__file__).resolve(), tree.resolve(), out.resolve()
    code = code.resolve() if code else None
    cmd = [sys.executable, str(here), "--child", str(tree), str(out)]
    env = {**os.environ, "GENBENCH_CODE": str(code)} if code else None
    # in the checkout's own folder: an older generator's helpers (``python -m``, before
    # generator/children.py added -P) take the ``generator`` of the working folder
    cwd = code or here.parent.parent
    peak_pss = 0
    shmem_before = _shmem_kb()
    with subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=cwd
    ) as proc:
        done = threading.Event()
        outputs: list[str] = []

        def wait() -> None:  # reads both pipes meanwhile, so the child never blocks on them
            outputs.extend(proc.communicate())
            done.set()

        waiter = threading.Thread(target=wait)
        waiter.start()
        while not done.wait(0.2):  # sampling costs the kernel time: not too often
            added = max(0, _shmem_kb() - shmem_before)
            peak_pss = max(peak_pss, _tree_pss_kb(proc.pid) + added)
        waiter.join()
    stdout, stderr = outputs
    if proc.returncode != 0:
        raise SystemExit(f"generate failed:\n{stderr[-3000:]}")
    f = json.loads(stdout.strip().splitlines()[-1])
    return Run(f["wall"], f["own_mb"], peak_pss / 1024, f["written"], f["paths"])


# --- the server ------------------------------------------------------------------------


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def serve_figures(
    app: Path, folder: Path, matters: list[str], code: Path = ROOT
) -> dict[str, float]:
    """Start-up time, guide latency (ms) and the worker's RSS serving ``app`` with the
    ``govstd`` of the checkout ``code``."""
    import httpx
    from load_bench import DATA_KEY, SECRET, free_port

    govstd = [sys.executable, "-m", "generator.cli"]
    folder.mkdir(parents=True, exist_ok=True)
    db = f"sqlite:///{folder / 'serve.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVSTD_")}
    env.update(
        GOVSTD_SECRET=SECRET,
        GOVSTD_DATA_KEY=DATA_KEY,
        GOVSTD_UPLOAD_DIR=str(folder / "uploads"),
    )
    migrate = time.perf_counter()
    subprocess.run(
        [*govstd, "migrate", "--app", str(app), "--db", db],
        check=True,
        capture_output=True,
        cwd=code,
        env=env,
    )
    migrate_s = time.perf_counter() - migrate
    port = free_port()
    log = (folder / "serve.log").open("ab")
    started = time.perf_counter()
    proc = subprocess.Popen(
        [*govstd, "serve", "--app", str(app), "--db", db, "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=code,
        env=env,
        start_new_session=True,
    )
    log.close()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30.0) as client:
            deadline = time.monotonic() + START_TIMEOUT_S
            while True:
                if proc.poll() is not None or time.monotonic() > deadline:
                    text = (folder / "serve.log").read_text(errors="replace")
                    raise SystemExit(f"the server did not start:\n{text[-3000:]}")
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.02)
            start_s = time.perf_counter() - started
            times = []
            for matter in matters:
                t = time.perf_counter()
                r = client.get(f"/api/matters/{matter}")
                times.append((time.perf_counter() - t) * 1000)
                if r.status_code != 200:
                    raise SystemExit(f"guide of {matter}: {r.status_code} {r.text[:300]}")
            times.sort()
            rss = _rss_mb(proc.pid)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    return {
        "migrate_s": migrate_s,
        "start_s": start_s,
        "guide_p50_ms": statistics.median(times),
        "guide_p99_ms": times[int(len(times) * 0.99) - 1],
        "rss_mb": rss,
    }


def serve_size(
    size: int, folder: Path, before: Path | None, missed: list[str], *, fresh: bool
) -> None:
    """Serve the package of ``size`` matters in ``folder`` (generated, and with ``before``
    the package the earlier checkout generates from the same tree, served by it too, side
    by side) and print the figures; ``fresh``: generate the packages even if they exist."""
    from synth import matter_id, write_tree

    tree = folder / f"tree{size}"
    if not (tree / "regions").is_dir():
        write_tree(tree, size, FIELDS, shared=True)
    step = max(1, size // 500)
    matters = [matter_id(i, size) for i in range(0, size, step)]
    runs = [("now", ROOT, folder / f"out{size}")]
    if before:
        runs.insert(0, (f"before ({before})", before, folder / f"before{size}"))
    figures = {}
    for label, code, out in runs:
        if fresh or not (out / "package.json").is_file():
            shutil.rmtree(out, ignore_errors=True)
            run = run_child(tree, out, None if code == ROOT else code)
            print(
                f"{size:>6} matters, {label}: generated in {run.wall:.2f} s, peak "
                f"{run.peak_mb:.0f} MB, {run.written} files",
                flush=True,
            )
        served = figures[label] = serve_figures(out, folder / f"serve-{out.name}", matters, code)
        print(
            f"serve {size} matters, {label}: started in {served['start_s']:.2f} s "
            f"(migrate before it {served['migrate_s']:.1f} s); guide of {len(matters)} "
            f"matters p50 {served['guide_p50_ms']:.2f} ms, p99 "
            f"{served['guide_p99_ms']:.2f} ms; worker RSS {served['rss_mb']:.0f} MB",
            flush=True,
        )
    served = figures["now"]
    if before:
        old = figures[f"before ({before})"]
        print(
            "serve now / before: start "
            f"{served['start_s'] / old['start_s']:.3f}×, guide p50 "
            f"{served['guide_p50_ms'] / old['guide_p50_ms']:.2f}×, p99 "
            f"{served['guide_p99_ms'] / old['guide_p99_ms']:.2f}×, RSS "
            f"{served['rss_mb'] / old['rss_mb']:.2f}×"
        )
    if served["start_s"] >= TARGET_START_S:
        missed.append(f"serve start {served['start_s']:.1f} s (target < 3 s)")
    if served["guide_p99_ms"] >= TARGET_GUIDE_MS:
        missed.append(f"guide p99 {served['guide_p99_ms']:.1f} ms (target < 5 ms)")
    if served["rss_mb"] >= TARGET_RSS_MB:
        missed.append(f"worker RSS {served['rss_mb']:.0f} MB (target < 300 MB)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 20_000, 50_000])
    parser.add_argument("--no-serve", action="store_true", help="generate figures only")
    parser.add_argument(
        "--serve-only",
        action="store_true",
        help="only the server, on the package of the smallest size (generated unless --work "
        "holds it)",
    )
    parser.add_argument(
        "--work",
        type=Path,
        help="with --serve-only: keep the tree, the packages and the databases in this folder "
        "and reuse them in the next run (default: a temporary folder)",
    )
    parser.add_argument(
        "--before",
        type=Path,
        help="a checkout of an earlier revision (its generator/ and runtime/): the smallest "
        "size is generated with it too, side by side, and the ratios printed; so is its "
        "server on the package it generates",
    )
    parser.add_argument("--child", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return 0
    from synth import matter_id, write_tree

    missed: list[str] = []
    rows: dict[int, Run] = {}
    sizes = sorted(args.sizes)
    if args.serve_only:
        if args.work:
            args.work.mkdir(parents=True, exist_ok=True)
            serve_size(sizes[0], args.work.resolve(), args.before, missed, fresh=False)
        else:
            with tempfile.TemporaryDirectory(prefix="govstd-genbench-") as tmp:
                serve_size(sizes[0], Path(tmp), args.before, missed, fresh=True)
        return _verdict(missed)
    with tempfile.TemporaryDirectory(prefix="govstd-genbench-") as tmp:
        for size in sizes:
            tree, out = Path(tmp) / f"tree{size}", Path(tmp) / f"out{size}"
            write_tree(tree, size, FIELDS, shared=True)
            run = rows[size] = run_child(tree, out)
            print(
                f"{size:>6} matters: {run.wall:6.2f} s, peak {run.peak_mb:5.0f} MB all processes "
                f"(generate process {run.own_mb:.0f}, processes' sampled PSS "
                f"{run.pss_mb:.0f}), {run.written} files written "
                f"({size / run.wall:.0f} matters/s)",
                flush=True,
            )
            if size in TARGET_S and run.wall >= TARGET_S[size]:
                missed.append(
                    f"{size} matters in {run.wall:.1f} s (target < {TARGET_S[size]:.0f} s)"
                )
            if size in TARGET_PEAK_MB and run.peak_mb >= TARGET_PEAK_MB[size]:
                missed.append(f"{size} matters peak {run.peak_mb:.0f} MB (target < 1 GB)")
            if size == sizes[0] and args.before:
                old = run_child(tree, Path(tmp) / "before", args.before)
                print(
                    f"{size:>6} matters with {args.before}: {old.wall:6.2f} s, peak "
                    f"{old.peak_mb:5.0f} MB (generate process {old.own_mb:.0f}, processes' "
                    f"sampled PSS {old.pss_mb:.0f}) — now / before: time "
                    f"{run.wall / old.wall:.2f}×, memory {run.peak_mb / old.peak_mb:.2f}×",
                    flush=True,
                )
                shutil.rmtree(Path(tmp) / "before")
            if size != sizes[0]:
                shutil.rmtree(tree)
                shutil.rmtree(out)
        for size in sizes:
            if size * 2 in rows:
                ratio = rows[size * 2].wall / rows[size].wall
                print(f"time ratio {size * 2} / {size} matters: {ratio:.2f} (linear 2.00)")
                if ratio > TARGET_DOUBLING:
                    missed.append(f"doubling {ratio:.2f}× (target ≤ {TARGET_DOUBLING})")
        size = sizes[0]
        tree, out = Path(tmp) / f"tree{size}", Path(tmp) / f"out{size}"
        form = tree / "forms" / f"{matter_id(7, size)}.yaml"
        text = form.read_text(encoding="utf-8")
        form.write_text(text.replace("name: {zh: ", "name: {zh: 改", 1), encoding="utf-8")
        again = run_child(tree, out)
        print(
            f"after a one-matter change at {size} matters: {again.wall:.2f} s, "
            f"{again.written} files rewritten: {', '.join(again.paths)}"
        )
        if not args.no_serve:
            serve_size(size, Path(tmp), args.before, missed, fresh=False)
    return _verdict(missed)


def _verdict(missed: list[str]) -> int:
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (1, 5 min)")
    if missed:
        print("MISSED: " + "; ".join(missed))
        return 1
    print("every target met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
