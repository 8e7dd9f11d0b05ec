"""The deployment package: fresh in generated/, deterministic, clean, atomic, incremental."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from generator import pipeline, writer
from generator.pipeline import generate
from generator.render import GeneratedFile, GenerateError
from generator.render import forms as forms_renderer
from generator.writer import write_package
from runtime.packs import RULES, SCHEMAS, pack_name
from tests.helpers import (
    GENERATED,
    REGIONS,
    ROOT,
    STANDARDS,
    edited_standards,
    govstd,
    pack_documents,
    replace_once,
)


def tree_digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


@pytest.mark.parametrize("region", REGIONS)
def test_committed_package_is_fresh(region: str) -> None:
    result, diagnostics = generate([STANDARDS], region, GENERATED / region, check=True)
    assert result is not None, [str(d) for d in diagnostics.errors]
    stale = result.written + result.removed
    assert not stale, f"generated/{region} is stale ({stale[:5]}); run scripts/regenerate"


def test_same_bytes_under_different_hash_seeds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outs = []
    for seed in ("1", "4242"):
        out = tmp_path / f"seed{seed}"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = govstd("generate", str(STANDARDS), "--region", "nanshan", "--out", str(out), env=env)
        assert done.returncode == 0, done.stderr
        outs.append(tree_digest(out))
    assert outs[0] == outs[1]
    assert len(outs[0]) > 15
    # and the same bytes from generate() called in this process, into a fresh folder
    assert generate([STANDARDS], "nanshan", tmp_path / "in-process")[0] is not None
    assert tree_digest(tmp_path / "in-process") == outs[0]


def test_the_helpers_run_this_generator_whatever_the_working_folder(tmp_path: Path) -> None:
    """``govstd generate`` run from a folder that holds another ``generator`` package (a
    checkout of another version, say): its helper processes (the formatter, which every
    package with Python uses) still run this checkout's code: the same package."""
    other = tmp_path / "elsewhere" / "generator"
    other.mkdir(parents=True)
    (other / "__init__.py").write_text("raise SystemExit('the wrong generator ran')\n")
    out = tmp_path / "out"
    done = govstd(
        "generate", str(STANDARDS), "--region", "nanshan", "--out", str(out), cwd=other.parent
    )
    assert done.returncode == 0, done.stderr
    assert generate([STANDARDS], "nanshan", tmp_path / "in-process")[0] is not None
    assert tree_digest(out) == tree_digest(tmp_path / "in-process")


def test_a_formatting_helper_that_stopped_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The helper gone before the writer hands it a batch (it failed to start, it was
    killed): an error that says so and what it wrote, never a silent exit (a broken pipe
    is what the command line takes for its own output closed)."""

    def stopped(
        out_dir: Path, ready_root: Path, new: bool, check: bool, log: Path
    ) -> subprocess.Popen[bytes]:
        command = [sys.executable, "-c", "import sys; sys.exit('the helper broke')"]
        with open(log, "wb") as errors:
            helper = subprocess.Popen(command, stdin=subprocess.PIPE, stderr=errors)
        helper.wait()
        return helper

    monkeypatch.setattr(writer, "_start_formatter", stopped)
    out = tmp_path / "out"
    with (
        pytest.raises(RuntimeError, match="the helper broke"),
        writer.PackageWriter(out, ahead=True) as w,
    ):
        w.add_all(_UNFORMATTED)
        w.format_ahead()
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_failing_formatter_publishes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``ruff format`` failing fails the generate: no package, no staging folder."""
    fails = [sys.executable, "-c", "import sys, time; time.sleep(0.2); sys.exit(2)"]
    monkeypatch.setattr(writer, "_ruff_command", lambda: fails)
    with pytest.raises(subprocess.CalledProcessError):
        generate([STANDARDS], "nanshan", tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def _passes(cwd: Path, *args: str) -> None:
    """``python -m *args`` in ``cwd`` exits 0 (its output is the failure message)."""
    done = subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, cwd=cwd)
    assert done.returncode == 0, done.stdout + done.stderr


def test_generated_code_passes_ruff_and_mypy() -> None:
    packages = [str(GENERATED / r) for r in REGIONS]
    _passes(ROOT, "ruff", "check", "--no-cache", *packages)
    _passes(ROOT, "ruff", "format", "--check", "--no-cache", "--line-length", "100", *packages)
    strict = ["--strict", "--no-incremental", "--cache-dir", os.devnull, "--ignore-missing-imports"]
    _passes(GENERATED, "mypy", *strict, str(GENERATED / "nanshan"))


def test_banner_on_every_python_file() -> None:
    for path in (GENERATED / "nanshan").rglob("*.py"):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert "do not edit" in first and "Sources:" in first, path


UNEMPLOYMENT_FORM = "national/forms/unemployment_registration_form.yaml"


def test_failed_run_leaves_the_package_as_it_was(tmp_path: Path) -> None:
    root = edited_standards(tmp_path / "standards")
    out = tmp_path / "out"
    result, _ = generate([root], "nanshan", out)
    assert result is not None
    before = tree_digest(out)
    # a YAML error: nothing written
    replace_once(root / "national/matters/ibr.yaml", "case_type:", "case_typ:")
    result, diagnostics = generate([root], "nanshan", out)
    assert result is None and diagnostics.has_errors()
    assert tree_digest(out) == before
    # a migration that would lose data: refused, nothing written
    shutil.rmtree(root)
    root = edited_standards(tmp_path / "standards")
    form = root / "national/forms/ibr_form.yaml"
    lines = form.read_text(encoding="utf-8").splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if "element: business_scope" in line)
    del lines[index]
    form.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(GenerateError, match="business_scope"):
        generate([root], "nanshan", out)
    assert tree_digest(out) == before


def test_check_errors_come_first_even_when_rendering_would_fail(tmp_path: Path) -> None:
    """Kind checks run beside the render (generator/pipeline.py): their errors win."""
    root = edited_standards(tmp_path / "standards")
    out = tmp_path / "out"
    assert generate([root], "nanshan", out)[0] is not None
    before = tree_digest(out)
    form = root / "national/forms/ibr_form.yaml"
    text = replace_once(form, "element: business_scope", "element: business_scop")
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "element: business_scope" in row)
    result, diagnostics = generate([root], "nanshan", out)  # no GenerateError, no traceback
    assert result is None
    errors = [str(d) for d in diagnostics.sorted() if d.severity == "error"]
    assert any(
        e.startswith(f"{form.as_posix()}:{line}:") and "did you mean 'business_scope'" in e
        for e in errors
    ), errors
    assert tree_digest(out) == before
    # the command (one thread: the checks and the render halves run in forked processes)
    done = govstd("generate", str(root), "--region", "nanshan", "--out", str(out))
    assert done.returncode == 1, done.stderr
    assert f"{form.as_posix()}:{line}:" in done.stderr and "Traceback" not in done.stderr
    assert tree_digest(out) == before


def test_one_matter_change_rewrites_only_what_changed(tmp_path: Path) -> None:
    root = edited_standards(tmp_path / "standards")
    out = tmp_path / "out"
    assert generate([root], "nanshan", out)[0] is not None
    matter = root / "national/matters/unemployment_registration.yaml"
    replace_once(matter, "complaint_phone:", "# changed\n  complaint_phone:")
    result, _ = generate([root], "nanshan", out)
    assert result is not None
    # a comment changes the sources' hash only: the manifest, nothing else
    assert result.written == ["package.json"]
    replace_once(root / UNEMPLOYMENT_FORM, "个人基本信息", "申请人基本信息")
    result, _ = generate([root], "nanshan", out)
    assert result is not None
    assert result.written, "a changed form must be rewritten"
    changed = "unemployment_registration_form"
    assert pack_name(SCHEMAS, "ibr_form") != pack_name(SCHEMAS, changed)
    untouched = {"models.py", "forms/ibr_form.py", pack_name(SCHEMAS, "ibr_form"), "schema.json"}
    assert not untouched & set(result.written), result.written
    assert pack_name(SCHEMAS, changed) in result.written


def test_a_tree_with_errors_is_not_rendered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rendered: list[str] = []
    monkeypatch.setattr(pipeline, "build_package", lambda *a: rendered.append("built"))
    root = edited_standards(tmp_path / "standards")
    replace_once(
        root / "national/forms/ibr_form.yaml", "element: business_scope", "element: business_scop"
    )
    result, diagnostics = generate([root], "nanshan", tmp_path / "out")
    assert result is None and diagnostics.has_errors()
    assert rendered == []  # the kind checks ran first and found the error
    assert not (tmp_path / "out").exists()


def test_a_render_that_fails_half_way_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Files stream to a staging folder as they render (generator/writer.py); a failure
    after half of them leaves the package as it was, and no staging folder behind."""
    root = edited_standards(tmp_path / "standards")
    out = tmp_path / "out"
    assert generate([root], "nanshan", out)[0] is not None
    before = tree_digest(out)
    replace_once(root / UNEMPLOYMENT_FORM, "个人基本信息", "申请人基本信息")
    from generator.render import openapi

    def fail(pkg: object) -> list[object]:
        raise GenerateError(["渲染失败 / render failed"])

    monkeypatch.setattr(openapi, "render_openapi", fail)  # after models, forms and schemas
    with pytest.raises(GenerateError):
        generate([root], "nanshan", out)
    assert tree_digest(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "standards"]
    with pytest.raises(GenerateError):
        generate([root], "nanshan", tmp_path / "new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "standards"]


def test_regenerating_takes_unchanged_form_modules_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """generator/reuse.py: only changed forms are rendered again, with the same bytes."""
    root = edited_standards(tmp_path / "standards")
    out = tmp_path / "out"
    assert generate([root], "nanshan", out)[0] is not None
    rendered: list[str] = []
    real = forms_renderer.form_literal
    monkeypatch.setattr(forms_renderer, "form_literal", lambda f: rendered.append(f.id) or real(f))
    replace_once(root / UNEMPLOYMENT_FORM, "个人基本信息", "申请人基本信息")
    result, _ = generate([root], "nanshan", out)
    assert result is not None
    assert rendered == ["unemployment_registration_form"]
    fresh = tmp_path / "fresh"
    assert generate([root], "nanshan", fresh)[0] is not None
    assert _without_kept_rules(out, fresh) == tree_digest(fresh)

    # a form module edited by hand (banner kept) is rendered again, not taken over
    edited = out / "forms/ibr_form.py"
    edited.write_text(edited.read_text(encoding="utf-8") + "# tweak\n", encoding="utf-8")
    rendered.clear()
    result, _ = generate([root], "nanshan", out)
    assert result is not None and result.written == ["forms/ibr_form.py"]
    assert rendered == ["ibr_form"]

    # files another generator wrote (its record differs) are all rendered again
    state = out / ".govstd/render.json"
    state.write_text(state.read_text(encoding="utf-8").replace('"generator": "', '"generator": "0'))
    rendered.clear()
    assert generate([root], "nanshan", out)[0] is not None
    modules = [p for p in (out / "forms").glob("*.py") if p.name != "__init__.py"]
    assert len(rendered) == len(modules) > 3
    assert _without_kept_rules(out, fresh) == tree_digest(fresh)


def _without_kept_rules(out: Path, fresh: Path) -> dict[str, str]:
    """``out``'s files but the rules versions it keeps for earlier cases (runtime/rules.py),
    which a fresh folder has not: one (the changed form's matter), in a rules pack."""
    ours, theirs = pack_documents(out, RULES), pack_documents(fresh, RULES)
    kept = set(ours) - set(theirs)
    assert len(kept) == 1 and {k: ours[k] for k in theirs} == theirs, kept
    listed = json.loads((out / "package.json").read_text(encoding="utf-8"))["files"]
    fresh_listed = json.loads((fresh / "package.json").read_text(encoding="utf-8"))["files"]
    assert pack_name(RULES, next(iter(kept))) in listed

    def others(files: dict[str, str]) -> dict[str, str]:
        return {k: v for k, v in files.items() if not k.startswith("rules/")}

    assert others(listed) == others(fresh_listed)
    # these list the kept version: taken from the fresh folder
    fresh_digest = tree_digest(fresh)
    skip = {"package.json", ".govstd/render.json"}
    return {
        **{k: v for k, v in others(tree_digest(out)).items() if k not in skip},
        **{k: v for k, v in fresh_digest.items() if k in skip or k.startswith("rules/")},
    }


def _ctrl_c_not_ignored() -> None:
    """In the child before it runs: SIGINT as a terminal's program has it. A suite started
    as a background job of a script has SIGINT ignored, the child would inherit that, and
    Python raises no KeyboardInterrupt for an ignored signal (the generate would finish)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.skipif(not hasattr(os, "killpg"), reason="sends Ctrl-C to a process group")
def test_an_interrupted_generate_writes_nothing_and_leaves_no_staging(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    from synth import write_tree

    tree, out, scratch = tmp_path / "tree", tmp_path / "out", tmp_path / "tmp"
    write_tree(tree, 600)
    scratch.mkdir()
    cmd = [sys.executable, "-m", "generator.cli", "generate", str(tree), "--region", "province"]
    with subprocess.Popen(
        [*cmd, "--out", str(out)],
        cwd=ROOT,
        env={**os.environ, "TMPDIR": str(scratch)},
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_ctrl_c_not_ignored,
    ) as proc:
        deadline = time.monotonic() + 60
        # Interrupt it as soon as a file is staged, and stopped first: the interrupt then
        # comes while it renders, however busy the machine (no race with its last steps).
        staged: list[Path] = []
        while not staged and proc.poll() is None and time.monotonic() < deadline:
            staging = [p for p in tmp_path.iterdir() if p.name.startswith(".out.govstd-")]
            staged = [f for d in staging for f in d.rglob("*") if f.is_file()]
            time.sleep(0.005)
        os.killpg(proc.pid, signal.SIGSTOP)
        try:
            assert staged and proc.poll() is None and not out.exists(), "stop it as it renders"
            os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        finally:
            os.killpg(proc.pid, signal.SIGCONT)
        _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tmp", "tree"]  # staging removed
    assert list(scratch.iterdir()) == []  # ruff's scratch folders removed


def test_a_new_package_folder_is_published_whole_with_ordinary_permissions(
    tmp_path: Path,
) -> None:
    """A new folder is the staged one renamed (one step); it and its files get the
    permissions any folder and file made here get, not the staging folder's private 0700."""
    out = tmp_path / "new" / "pkg"
    files = [GeneratedFile("a.json", b"{}\n"), GeneratedFile("rules/b.json", "[]\n")]
    result = write_package(out, files)
    assert sorted(result.written) == ["a.json", "rules/b.json"]
    assert (out / "rules" / "b.json").read_text() == "[]\n"
    made = tmp_path / "made"
    made.mkdir()
    (made / "f").write_bytes(b"")
    for folder in (out, out / "rules"):
        assert folder.stat().st_mode & 0o777 == made.stat().st_mode & 0o777
    assert (out / "a.json").stat().st_mode & 0o777 == (made / "f").stat().st_mode & 0o777
    assert [p.name for p in (tmp_path / "new").iterdir()] == ["pkg"]  # no staging left
    again = write_package(out, files)
    assert not again.written and again.unchanged == 2


_UNFORMATTED = [
    GeneratedFile("a.py", "x = {'a':1,\n'b':[1,2,\n3]}\n"),
    GeneratedFile("tables/b.py", "def f( a ):\n  return a\n"),
    GeneratedFile("c.json", b"{}\n"),
]
_FORMATTED = {
    "a.py": 'x = {"a": 1, "b": [1, 2, 3]}\n',
    "tables/b.py": "def f(a):\n    return a\n",
    "c.json": "{}\n",
}


def _package(out: Path) -> dict[str, str]:
    return {p.relative_to(out).as_posix(): p.read_text() for p in out.rglob("*") if p.is_file()}


@pytest.mark.parametrize("memory", ["absent", "roomy", "full at once", "full before ruff"])
def test_python_is_formatted_in_memory_or_on_disk_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, memory: str
) -> None:
    """Python waiting for ``ruff format`` is staged in a folder in memory (generator/writer.py
    ``_memory_folder``) or, without one or when it is full, beside the package: the same
    package either way, and no folder left behind in either place."""
    shm = tmp_path / "shm"
    monkeypatch.setattr(writer, "MEMORY", shm if memory != "absent" else tmp_path / "none")
    shm.mkdir()
    if memory == "full at once":
        stage_file = writer.PackageWriter._stage_file

        def full(self: writer.PackageWriter, target: Path, data: bytes) -> None:
            if target.is_relative_to(shm):
                raise OSError(errno.ENOSPC, "No space left on device")
            stage_file(self, target, data)

        monkeypatch.setattr(writer.PackageWriter, "_stage_file", full)
    if memory == "full before ruff":
        monkeypatch.setattr(writer, "_free", lambda folder: 0)
    formatted_in: list[Path] = []
    ruff_format = writer._ruff_format

    def seen(root: Path) -> None:
        formatted_in.append(root)
        ruff_format(root)

    monkeypatch.setattr(writer, "_ruff_format", seen)
    out = tmp_path / "out"
    result = write_package(out, _UNFORMATTED)
    assert sorted(result.written) == sorted(_FORMATTED)
    assert _package(out) == _FORMATTED
    assert formatted_in[0].is_relative_to(shm) == (memory == "roomy")
    assert list(shm.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "shm"]


@pytest.mark.parametrize("memory", ["absent", "roomy", "full before the second batch"])
def test_python_formatted_ahead_by_the_helper_is_the_same_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, memory: str
) -> None:
    """Python handed to the writer's helper process (``format_ahead``, in batches, while
    other files are added) is formatted, marked and staged as ``commit`` would: the same
    package, unchanged files counted, nothing left in memory or beside the package; also
    when memory fills after the first batch (the rest is formatted on disk)."""
    shm = tmp_path / "shm"
    shm.mkdir()
    monkeypatch.setattr(writer, "MEMORY", shm if memory != "absent" else tmp_path / "none")
    out = tmp_path / "out"
    long_name = "x" * 120
    first = [_UNFORMATTED[0], GeneratedFile("d.py", f"{long_name} = 1\n")]
    last = GeneratedFile("e.py", "y=( 2 )\n")  # formatted by commit itself
    expected = {**_FORMATTED, "d.py": f"{long_name} = 1  # noqa: E501\n", "e.py": "y = 2\n"}
    for round_ in ("new", "again"):
        with writer.PackageWriter(out) as w:
            w.add_all(first)
            w.format_ahead()
            if memory == "full before the second batch":
                monkeypatch.setattr(writer, "_free", lambda folder: 0)
            w.add_all(_UNFORMATTED[1:])
            w.format_ahead()
            w.add(last)
            result = w.commit()
        monkeypatch.undo()
        monkeypatch.setattr(writer, "MEMORY", shm if memory != "absent" else tmp_path / "none")
        assert _package(out) == expected
        if round_ == "new":
            assert sorted(result.written) == sorted(expected)
        else:
            assert result.written == [] and result.unchanged == len(expected)
        assert list(shm.iterdir()) == []
        assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "shm"]


def test_a_writer_ahead_hands_python_over_in_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``PackageWriter(ahead=True)`` (as generate uses it) hands every ``AHEAD_BATCH``
    Python files to the helper as they come: the same package, its folders gone."""
    monkeypatch.setattr(writer, "AHEAD_BATCH", 1)
    handed: list[int] = []
    format_ahead = writer.PackageWriter.format_ahead

    def counted(self: writer.PackageWriter) -> None:
        handed.append(len(self._unformatted))
        format_ahead(self)

    monkeypatch.setattr(writer.PackageWriter, "format_ahead", counted)
    out = tmp_path / "out"
    with writer.PackageWriter(out, ahead=True) as w:
        w.add_all(_UNFORMATTED)
        result = w.commit()
    assert handed == [1, 1]  # a.py, then tables/b.py: each on its own
    assert sorted(result.written) == sorted(_FORMATTED)
    assert _package(out) == _FORMATTED
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_file_in_pieces_is_written_and_compared_as_its_bytes(tmp_path: Path) -> None:
    """A file rendered in pieces (a pack, openapi.json) is never joined by the writer: it is
    written piece after piece, hashed and compared with the package's copy the same way."""
    out = tmp_path / "out"
    pieces = GeneratedFile("p.jsonl", (b'{"a"', memoryview(b":1}\n[2]"), b"\n"))
    assert write_package(out, [pieces]).written == ["p.jsonl"]
    assert (out / "p.jsonl").read_bytes() == pieces.data == b'{"a":1}\n[2]\n'
    same = GeneratedFile("p.jsonl", b'{"a":1}\n[2]\n')
    assert write_package(out, [same]).unchanged == 1
    assert write_package(out, [pieces]).unchanged == 1
    other = GeneratedFile("p.jsonl", (b'{"a"', b":1}\n[3]", b"\n"))
    assert write_package(out, [other]).written == ["p.jsonl"]
    assert (out / "p.jsonl").read_bytes() == b'{"a":1}\n[3]\n'


def test_a_ctrl_c_that_orjson_turned_into_a_type_error_is_still_a_ctrl_c(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """orjson turns any exception of its ``default`` (the catalog's dataclasses) into a
    TypeError: a Ctrl-C there is still an interrupt, not an error (exit 130, not 1)."""
    import orjson

    from generator.render import catalog

    def interrupted_in_orjson(pkg: object, pinyin: object = None) -> list[object]:
        def default(value: object) -> object:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(1)  # the handler runs here
            return None

        orjson.dumps(object(), default=default)
        return []

    monkeypatch.setattr(catalog, "render_catalog", interrupted_in_orjson)
    # SIGINT as a terminal's Python has it: a suite started as a background job of a script
    # runs with SIGINT ignored, which generate rightly leaves ignored (_ctrl_c)
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            generate([STANDARDS], "nanshan", tmp_path / "out")
    finally:
        signal.signal(signal.SIGINT, before)
    assert list(tmp_path.iterdir()) == []
