"""A ``govstd serve`` worker, once loaded, keeps what start-up built out of the cyclic
collector's way and collects its youngest generation rarely (runtime/server.py): with
16 requests in flight the default threshold (700) ran a collection every few requests."""

from __future__ import annotations

import json
import subprocess
import sys

from runtime.server import GC_YOUNG

SCRIPT = """
import gc
import json
from runtime.server import ServeConfig
from runtime.settings import Settings

async def app(scope, receive, send):
    pass

before = gc.get_threshold()
ServeConfig(app, settings=Settings(secret="s" * 40, secret_is_dev=False)).load()
print(json.dumps([before, gc.get_threshold(), gc.get_freeze_count() > 0]))
"""


def test_a_loaded_worker_freezes_start_up_and_collects_young_objects_rarely() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    before, after, frozen = json.loads(done.stdout.strip().splitlines()[-1])
    assert before == [700, 10, 10]  # Python's default
    assert after == [GC_YOUNG, 10, 10]
    assert frozen
