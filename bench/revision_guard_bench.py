"""What the database-revision guard costs on the normal path (runtime/revision_guard.py).

Serves the committed 南山区 package on a fresh SQLite database through the ASGI app
(httpx, in process, no sockets) and times two requests — ``GET /api/matters`` (no
query: where the middleware's share is largest) and ``GET /api/applications/{id}``
(the applicant's case: several queries) — on two apps built alike, one with
:class:`runtime.revision_guard.RevisionGuardMiddleware` and one without, in
alternating rounds, and prints the median time per request of each.

    python bench/revision_guard_bench.py [--requests 500] [--rounds 7]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from starlette.applications import Starlette  # noqa: E402

from runtime.app import create_app  # noqa: E402
from runtime.auth import issue_token  # noqa: E402
from runtime.migrate import upgrade  # noqa: E402
from runtime.revision_guard import RevisionGuardMiddleware  # noqa: E402
from runtime.settings import Settings  # noqa: E402

APP_DIR = ROOT / "generated" / "nanshan"
SECRET = "bench-secret-0123456789abcdef-0123456789"


def build(url: str, uploads: Path, guarded: bool) -> Starlette:
    key = base64.urlsafe_b64encode(b"b" * 32).decode()
    env = {"GOVSTD_SECRET": SECRET, "GOVSTD_DATA_KEY": key}
    settings = Settings(secret=SECRET, secret_is_dev=False, upload_dir=uploads, env=env)
    app = create_app(APP_DIR, url, settings)
    if not guarded:  # the middleware stack is built on the first request
        app.user_middleware = [
            m for m in app.user_middleware if m.cls is not RevisionGuardMiddleware
        ]
    return app


async def timed(client: httpx.AsyncClient, path: str, headers: dict[str, str], n: int) -> float:
    started = time.perf_counter()
    for _ in range(n):
        r = await client.get(path, headers=headers)
        assert r.status_code == 200, r.text
    return (time.perf_counter() - started) / n * 1e6


async def main(requests: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(APP_DIR, url)
        apps = {g: build(url, Path(tmp) / "uploads", g) for g in (True, False)}
        settings = apps[True].state.settings
        token = issue_token(settings, role="applicant", sub="bench-citizen", region=None)
        h = {"Authorization": f"Bearer {token}"}
        clients = {
            g: httpx.AsyncClient(transport=httpx.ASGITransport(app=a), base_url="http://b")
            for g, a in apps.items()
        }
        body = {
            "region": "nanshan",
            "data": {
                "person_name": "赵六",
                "citizen_id_number": "310115197806150038",
                "sex": "1",
                "education_level": "21",
                "household_type": "3",
                "household_division": "440305",
                "household_address": "深圳市南山区蛇口 3 号",
                "residence_division": "440305",
                "residence_address": "深圳市南山区蛇口 3 号",
                "mobile_phone": "13700001111",
                "unemployment_date": "2026-02-20",
                "unemployment_reason": "5",
            },
        }
        r = await clients[True].post(
            "/api/matters/unemployment_registration/applications", json=body, headers=h
        )
        assert r.status_code == 201, r.text
        paths = {
            "GET /api/matters": ("/api/matters", {}),
            "GET /api/applications/{id}": (
                f"/api/applications/{r.json()['id']}",
                h,
            ),
        }
        for name, (path, headers) in paths.items():
            times: dict[bool, list[float]] = {True: [], False: []}
            for g in (True, False):  # warm up
                await timed(clients[g], path, headers, requests // 5 or 1)
            for _ in range(rounds):
                for g in (False, True):
                    times[g].append(await timed(clients[g], path, headers, requests))
            with_guard, without = statistics.median(times[True]), statistics.median(times[False])
            print(
                f"{name}: with guard {with_guard:.0f} µs, without {without:.0f} µs "
                f"({(with_guard - without) / without * 100:+.1f} %), median of {rounds} "
                f"rounds × {requests} requests"
            )
        for client in clients.values():
            await client.aclose()
        for app in apps.values():
            app.state.ctx.engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.rounds))
