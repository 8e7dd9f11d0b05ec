"""Load benchmark: the generated runtime against a hand-written baseline, in one run.

    .venv/bin/python bench/load_bench.py [--duration 16] [--connections 16] [--workers 1,2]
    .venv/bin/python bench/load_bench.py --runtime /tmp/before   # another runtime/ (before/after)

For 1 and 2 uvicorn workers, on a fresh SQLite database each time, it starts
``govstd serve`` (the generated nanshan package) and then ``bench/baseline_app.py``
(written by hand for the one form, without this project's code: its own pydantic
model, ``cryptography``, SQLAlchemy Core, its own SQLite tuning) on 127.0.0.1, and
measures three endpoints for a fixed time at a fixed number of connections:

| endpoint | request |
|---|---|
| ``submit`` | ``POST /api/matters/ibr/applications`` (one valid body, one applicant token) |
| ``read`` | ``GET /api/applications/{id}`` (the applicant's own, filed before) |
| ``catalogue`` | ``GET /api/matters`` |

The load generator is ``wrk`` (``apt-get install wrk``; one thread, a Lua script for
the POST body and the figures). Both apps run side by side (idle
while the other is measured) and each figure is taken in slices that alternate between
them (A B, B A, …), so a machine whose load drifts during the run (a shared one)
weighs on both alike (16 s a figure in 8 slices: on a 2-core machine shared with
other virtual machines, one app's rate moved by a third from one second to the next,
and 4 slices of 2 s left the ratio ±10 % from run to run); a short warm-up before is
not counted. Before measuring, one
answer of each endpoint from both apps is compared (ids, numbers and timestamps
aside): every key the baseline answers must have the same value in the generated
app's answer, else the run stops. Only 2xx answers count. The table gives 2xx
answers per second, the ratio generated/baseline and the 99th percentile latency of
each; the run exits 1 when a ratio is below its target (:data:`TARGETS`: submit
1.5, reads 1.0) or the generated submit's p99 is above the baseline's.

Everything is bounded: fixed durations, a fixed number of servers, start-up
timeouts; servers run in their own process group and are stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from runtime.auth import issue_token  # noqa: E402
from runtime.settings import Settings  # noqa: E402

HOST = "127.0.0.1"
SECRET = "bench-secret-0123456789abcdef-0123456789"
DATA_KEY = "a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s="  # base64url of 32 × "k"
START_TIMEOUT_S = 60.0
BODY = {
    "region": "nanshan",
    "data": {
        "person_name": "张三",
        "citizen_id_number": "440305199003070014",
        "mobile_phone": "13812345678",
        "residence_address": "深圳市南山区桃园路 1 号",
        "organization_form": "2",
        "business_scope": "零售：日用百货",
        "business_address": "深圳市南山区南头街 8 号",
        "business_division": "440305",
        "premises_ownership": "2",
        "registered_capital": 5,
        "employees": 3,
        "members": [
            {"person_name": "张小三", "citizen_id_number": "310115197806150038", "kinship": "20"}
        ],
        "agent_used": False,
    },
}
SUBMIT_PATH = "/api/matters/ibr/applications"
VOLATILE = {"id", "number", "created_at", "updated_at", "clock_started_at", "at", "deadline"}
TARGETS = {"submit": 1.5, "read": 1.0, "catalogue": 1.0}  # generated / baseline, 2xx per second


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def govstd() -> list[str]:
    script = Path(sys.executable).with_name("govstd")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "generator.cli"]


def run(cmd: list[str], **kw: Any) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, **kw)
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd[:3])} … failed:\n{done.stdout}\n{done.stderr}")


def generate_nanshan(app_dir: Path) -> None:
    run([*govstd(), "generate", str(ROOT / "standards"), "--region", "nanshan",
         "--out", str(app_dir)])  # fmt: skip


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


# --- servers ----------------------------------------------------------------------


@dataclass
class Server:
    kind: str  # generated | baseline
    workers: int
    app_dir: Path
    db_url: str
    folder: Path
    runtime: Path | None = None
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def command(self) -> list[str]:
        listen = ["--host", HOST, "--port", str(self.port), "--workers", str(self.workers)]
        if self.kind == "generated":
            app = ["--app", str(self.app_dir), "--db", self.db_url]
            return [*govstd(), "serve", *app, *listen]
        return [sys.executable, str(ROOT / "bench" / "baseline_app.py"), *listen]

    def start(self) -> None:
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("GOVSTD_")}
        env.update(
            GOVSTD_SECRET=SECRET,
            GOVSTD_DATA_KEY=DATA_KEY,
            GOVSTD_UPLOAD_DIR=str(self.folder / "uploads"),
            BASELINE_APP_DIR=str(self.app_dir),
            BASELINE_DB_URL=self.db_url,
            PYTHONPATH=os.pathsep.join(
                filter(
                    None,
                    [
                        str(self.runtime) if self.runtime and self.kind == "generated" else "",
                        str(ROOT),
                        str(ROOT / "bench"),
                        env.get("PYTHONPATH"),
                    ],
                )
            ),
        )
        log = (self.folder / "server.log").open("ab")
        self.proc = subprocess.Popen(
            self.command(),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=self.folder,
            env=env,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        with httpx.Client(base_url=self.url, timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    sys.exit(f"{self.kind} server exited:\n{self.logs()[-3000:]}")
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
            else:
                self.stop()
                sys.exit(f"{self.kind} server not ready in {START_TIMEOUT_S:.0f} s")
        while time.monotonic() < deadline:  # every worker up, not just the first
            if self.logs().count("Application startup complete") >= self.workers:
                break
            time.sleep(0.1)

    def logs(self) -> str:
        return (self.folder / "server.log").read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.proc is None:
            return
        for sig, wait in ((signal.SIGTERM, 15.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.proc.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                continue
        self.proc = None


@contextmanager
def serving(server: Server) -> Iterator[Server]:
    server.start()
    try:
        yield server
    finally:
        server.stop()


# --- load generators --------------------------------------------------------------


@dataclass
class Result:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int

    @property
    def rps(self) -> float:
        """2xx answers per second (wrk's ``requests`` count every answer)."""
        return (self.requests - self.non_2xx) / self.seconds if self.seconds else 0.0


@dataclass
class Endpoint:
    name: str
    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None = None


LUA = """
wrk.method = "{method}"
wrk.path = "{path}"
{headers}
{body}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCHJSON {{\\"requests\\":%d,\\"duration_us\\":%d,\\"status\\":%d,\\"connect\\":%d," ..
    "\\"read\\":%d,\\"write\\":%d,\\"timeout\\":%d,\\"p50_us\\":%d,\\"p99_us\\":%d}}\\n",
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def _lua(ep: Endpoint) -> str:
    def quote(text: str) -> str:
        assert "]==]" not in text
        return f"[==[{text}]==]"

    headers = "\n".join(f"wrk.headers[ {quote(k)} ] = {quote(v)}" for k, v in ep.headers.items())
    body = f"wrk.body = {quote(ep.body.decode())}" if ep.body is not None else ""
    return LUA.format(method=ep.method, path=ep.path, headers=headers, body=body)


def merge(parts: list[Result]) -> Result:
    """Slices of one measurement: requests and time add up; p50/p99 are the slices' mean."""
    return Result(
        requests=sum(p.requests for p in parts),
        seconds=sum(p.seconds for p in parts),
        p50_ms=sum(p.p50_ms for p in parts) / len(parts),
        p99_ms=sum(p.p99_ms for p in parts) / len(parts),
        non_2xx=sum(p.non_2xx for p in parts),
        socket_errors=sum(p.socket_errors for p in parts),
    )


def wrk(url: str, ep: Endpoint, seconds: float, connections: int, folder: Path) -> Result:
    script = folder / f"{ep.name}.lua"
    script.write_text(_lua(ep), encoding="utf-8")
    cmd = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        url,
    ]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    except subprocess.TimeoutExpired:  # run() has killed it
        print(f"  warning: wrk did not finish {ep.name} in time; slice counted as 0")
        return Result(0, seconds, 0.0, 0.0, 0, 1)
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCHJSON ")), None)
    if line is None:
        sys.exit(f"wrk gave no figures:\n{done.stdout}\n{done.stderr}")
    f = json.loads(line.removeprefix("BENCHJSON "))
    return Result(
        requests=f["requests"],
        seconds=f["duration_us"] / 1e6,
        p50_ms=f["p50_us"] / 1000,
        p99_ms=f["p99_us"] / 1000,
        non_2xx=f["status"],
        socket_errors=f["connect"] + f["read"] + f["write"] + f["timeout"],
    )


# --- the run ----------------------------------------------------------------------


def _mask(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: "…" if k in VOLATILE else _mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v) for v in value]
    return value


def _diff(a: Any, b: Any, path: str = "") -> list[str]:
    """Where ``a`` (generated) differs from ``b`` (baseline) on what ``b`` answers; keys only
    ``a`` answers are more it does, not a difference (a ``data`` object must be equal)."""
    if isinstance(a, dict) and isinstance(b, dict):
        only = set(a) ^ set(b) if path.endswith("data") else set(b) - set(a)
        out = [f"{path}.{k}: only in one" for k in sorted(only)]
        for k in sorted(set(a) & set(b)):
            out += _diff(a[k], b[k], f"{path}.{k}")
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        pairs = enumerate(zip(a, b, strict=True))
        return [d for i, (x, y) in pairs for d in _diff(x, y, f"{path}[{i}]")]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


def endpoints(token: str, app_id: str) -> list[Endpoint]:
    auth = {"Authorization": f"Bearer {token}"}
    return [
        Endpoint(
            "submit",
            "POST",
            SUBMIT_PATH,
            {**auth, "Content-Type": "application/json"},
            json.dumps(BODY, ensure_ascii=False).encode(),
        ),
        Endpoint("read", "GET", f"/api/applications/{app_id}", auth),
        Endpoint("catalogue", "GET", "/api/matters", {}),
    ]


def endpoint(token: str, app_id: str, name: str) -> Endpoint:
    return next(e for e in endpoints(token, app_id) if e.name == name)


def measure(server: Server, ep: Endpoint, seconds: float, connections: int) -> Result:
    return wrk(server.url, ep, seconds, connections, server.folder)


def seed(server: Server, token: str) -> tuple[str, dict[str, Any]]:
    """File one application (the one ``read`` reads) and keep one answer of each endpoint."""
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server.url, timeout=10.0) as client:
        r = client.post(SUBMIT_PATH, json=BODY, headers=auth)
        if r.status_code != 201:
            sys.exit(f"{server.kind}: seeding failed: {r.status_code} {r.text[:500]}")
        app_id = r.json()["id"]
        answers = {
            "submit": r.json(),
            "read": client.get(f"/api/applications/{app_id}", headers=auth).json(),
            "catalogue": client.get("/api/matters").json(),
        }
    return app_id, answers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--app", type=Path, help="a generated package (default: generate nanshan)")
    parser.add_argument("--duration", type=float, default=16.0, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up, uncounted")
    parser.add_argument("--rounds", type=int, default=8, help="alternating slices per figure")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", default="1", help="comma-separated worker counts")
    parser.add_argument("--endpoints", default="submit,read,catalogue")
    parser.add_argument("--only", choices=["generated", "baseline"], help="run one app only")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--runtime",
        type=Path,
        help="a folder holding another 'runtime' package for the generated app (before/after)",
    )
    args = parser.parse_args()
    if not (
        1 <= args.duration <= 60
        and 0 <= args.warmup <= 30
        and 1 <= args.connections <= 256
        and 1 <= args.rounds <= 10
    ):
        sys.exit("--duration 1..60, --warmup 0..30, --connections 1..256, --rounds 1..10")
    if shutil.which("wrk") is None:
        sys.exit("wrk is not on the PATH (apt-get install wrk)")
    wanted = args.endpoints.split(",")
    worker_counts = [int(w) for w in args.workers.split(",")]
    kinds = [args.only] if args.only else ["generated", "baseline"]
    settings = Settings(secret=SECRET, secret_is_dev=False)
    token = issue_token(settings, role="applicant", sub="bench-applicant", ttl=3600)

    with tempfile.TemporaryDirectory(prefix="govstd-bench-") as tmp:
        work = Path(tmp)
        app_dir = args.app
        if app_dir is None:
            app_dir = work / "nanshan"
            generate_nanshan(app_dir)
        print(
            f"load bench: wrk, {args.connections} connections, {args.duration:g} s per "
            f"measurement in {args.rounds} alternating slices (+{args.warmup:g} s warm-up), "
            f"SQLite, {os.cpu_count()} CPUs, load average "
            f"{load_average()}"
            + (f", generated app on the runtime in {args.runtime}" if args.runtime else ""),
            flush=True,
        )
        results: dict[tuple[str, int, str], Result] = {}
        answers: dict[str, dict[str, Any]] = {}
        slice_s = args.duration / args.rounds
        for workers in worker_counts:
            with ExitStack() as stack:
                servers: dict[str, Server] = {}
                app_ids: dict[str, str] = {}
                for kind in kinds:
                    folder = work / f"{kind}-{workers}"
                    folder.mkdir()
                    db_url = f"sqlite:///{folder / 'bench.db'}"
                    run([*govstd(), "migrate", "--app", str(app_dir), "--db", db_url])
                    server = stack.enter_context(
                        serving(Server(kind, workers, app_dir, db_url, folder, args.runtime))
                    )
                    servers[kind] = server
                    app_ids[kind], seen = seed(server, token)
                    answers.setdefault(kind, seen)
                if len(answers) == 2:
                    compare(answers)
                for name in ("submit", "read", "catalogue"):
                    if name not in wanted:
                        continue
                    eps = {k: endpoint(token, app_ids[k], name) for k in kinds}
                    if args.warmup > 0:
                        for kind in kinds:
                            measure(servers[kind], eps[kind], args.warmup, args.connections)
                    rounds: dict[str, list[Result]] = {kind: [] for kind in kinds}
                    for i in range(args.rounds):  # A B, B A, …: drift hits both alike
                        for kind in kinds if i % 2 == 0 else kinds[::-1]:
                            rounds[kind].append(
                                measure(servers[kind], eps[kind], slice_s, args.connections)
                            )
                    for kind in kinds:
                        r = merge(rounds[kind])
                        results[(kind, workers, name)] = r
                        print(
                            f"  {kind:9} workers={workers} {name:9} {r.rps:8.0f} req/s  "
                            f"p99 {r.p99_ms:7.1f} ms"
                            + (f"  non-2xx {r.non_2xx}" if r.non_2xx else "")
                            + (f"  socket errors {r.socket_errors}" if r.socket_errors else ""),
                            flush=True,
                        )
                for kind, server in servers.items():
                    if "database is locked" in server.logs():
                        print(f"  warning: 'database is locked' in the {kind} server's log")
        print(f"load average at the end: {load_average()}")

    header = (
        f"{'endpoint':10} {'workers':>7} {'generated':>10} {'baseline':>10} {'ratio':>6} "
        f"{'gen p99':>9} {'base p99':>9}  (2xx answers per second)"
    )
    print()
    print(header)
    print("-" * len(header))
    table = []
    for name in ("submit", "read", "catalogue"):
        for workers in worker_counts:
            g = results.get(("generated", workers, name))
            b = results.get(("baseline", workers, name))
            if g is None and b is None:
                continue
            ratio = g.rps / b.rps if g and b and b.rps else float("nan")
            table.append(
                {
                    "endpoint": name,
                    "workers": workers,
                    "generated_rps": g.rps if g else None,
                    "baseline_rps": b.rps if b else None,
                    "ratio": ratio,
                    "generated_p99_ms": g.p99_ms if g else None,
                    "baseline_p99_ms": b.p99_ms if b else None,
                }
            )
            print(
                f"{name:10} {workers:>7} {(g.rps if g else 0):>10.0f} {(b.rps if b else 0):>10.0f} "
                f"{ratio:>6.2f} {(g.p99_ms if g else 0):>7.1f}ms {(b.p99_ms if b else 0):>7.1f}ms"
            )
    if args.json:
        args.json.write_text(json.dumps(table, indent=2), encoding="utf-8")
    if len(kinds) == 2:
        misses = below_target(table)
        print("\n".join(["", *misses]) if misses else "\nevery target met")
        if misses:
            sys.exit(1)


def compare(answers: dict[str, dict[str, Any]]) -> None:
    """Stop unless the baseline's answers are the generated app's (see the module doc)."""
    for name in ("submit", "read", "catalogue"):
        generated, baseline = _mask(answers["generated"][name]), _mask(answers["baseline"][name])
        diff = _diff(generated, baseline)
        extra = sorted(set(generated) - set(baseline)) if isinstance(generated, dict) else []
        if diff:
            sys.exit(f"answers of {name} differ, nothing measured: {diff[:5]}")
        more = f" (the generated app answers more: {', '.join(extra)})" if extra else ""
        print(f"answers of {name}: the same{more}", flush=True)


def below_target(table: list[dict[str, Any]]) -> list[str]:
    """The targets missed: a ratio below :data:`TARGETS`, the submit p99 above the baseline's."""
    misses = []
    for row in table:
        name, ratio = row["endpoint"], row["ratio"]
        if not ratio >= TARGETS[name]:  # NaN misses too
            misses.append(
                f"BELOW TARGET: {name} workers={row['workers']} {ratio:.2f}x < {TARGETS[name]}x"
            )
        if name == "submit" and not row["generated_p99_ms"] <= row["baseline_p99_ms"]:
            misses.append(
                f"BELOW TARGET: submit workers={row['workers']} p99 "
                f"{row['generated_p99_ms']:.1f} ms > baseline {row['baseline_p99_ms']:.1f} ms"
            )
    return misses


if __name__ == "__main__":
    main()
