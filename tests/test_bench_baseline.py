"""The load benchmark's baseline is written by hand: it uses none of this project's code.

``bench/baseline_app.py`` is what ``bench/load_bench.py`` measures the generated server
against; a baseline that imported the product's validation, crypto or database tuning
would measure our extra layers over a shared core, not the product against a developer's
own app. The app is run in a fresh interpreter on the committed nanshan package: after
it has filed and read an application, no module of ``runtime`` or ``generator`` is loaded,
and it refuses a citizen ID number with a wrong check digit by itself.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

from runtime.migrate import upgrade

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from load_bench import BODY, SUBMIT_PATH  # noqa: E402

DATA_KEY = "a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s="  # base64url of 32 × "k"
BASELINE = ROOT / "bench" / "baseline_app.py"
PACKAGE = ROOT / "generated" / "nanshan"

SCRIPT = """
import json, sys, time
sys.path.insert(0, {bench!r})
import jwt
from starlette.testclient import TestClient
import baseline_app

BODY, PATH = json.loads({body!r}), {path!r}

app = baseline_app.create_app(baseline_app.Path({package!r}), {db!r})
now = int(time.time())
claims = {{"sub": "s1", "role": "applicant", "aud": "govstd", "exp": now + 600, "iat": now}}
auth = {{"Authorization": "Bearer " + jwt.encode(claims, {secret!r}, algorithm="HS256")}}
out = {{}}
with TestClient(app) as client:
    good = client.post(PATH, json=BODY, headers=auth)
    out["filed"] = good.status_code
    out["read"] = client.get("/api/applications/" + good.json()["id"], headers=auth).json()
    body = json.loads(json.dumps(BODY))
    body["data"]["citizen_id_number"] = "440305199003070015"
    bad = client.post(PATH, json=body, headers=auth)
    out["bad_check_digit"] = [bad.status_code, json.dumps(bad.json(), ensure_ascii=False)]
    out["catalogue"] = client.get("/api/matters").status_code
ours = sorted(m for m in sys.modules if m.split(".")[0] in ("runtime", "generator"))
out["loaded"] = ours
print(json.dumps(out))
"""


def test_the_baseline_imports_nothing_of_the_project() -> None:
    tree = ast.parse(BASELINE.read_text(encoding="utf-8"))
    imported = {
        name.split(".")[0]
        for node in ast.walk(tree)
        for name in (
            [a.name for a in node.names]
            if isinstance(node, ast.Import)
            else [node.module or ""]
            if isinstance(node, ast.ImportFrom)
            else []
        )
    }
    assert not imported & {"runtime", "generator", "tests"}, imported


def test_the_baseline_files_reads_and_checks_by_itself(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'baseline.db'}"
    upgrade(PACKAGE, db)
    script = SCRIPT.format(
        bench=str(ROOT / "bench"),
        package=str(PACKAGE),
        db=db,
        secret="s" * 40,
        body=json.dumps(BODY),
        path=SUBMIT_PATH,
    )
    env = {"GOVSTD_SECRET": "s" * 40, "GOVSTD_DATA_KEY": DATA_KEY}
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**env, "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["filed"] == 201
    assert out["read"]["data"]["citizen_id_number"] == "440305199003070014"
    assert out["read"]["data"]["members"][0]["person_name"] == "张小三"
    status, body = out["bad_check_digit"]
    assert status == 422 and "校验位" in body
    assert out["catalogue"] == 200
    assert out["loaded"] == []
