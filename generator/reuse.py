"""Taking unchanged files from the package being regenerated, instead of rendering them again.

A form module's banner carries the fingerprint of its ``FormIR``. When the
package in DIR was written by this very generator (same code, same ruff: the
digest kept in ``DIR/.govstd/render.json``, outside the package and its
manifest) and a form's file there is as the manifest recorded it (not edited
by hand) and has the banner the form would get, its text is what rendering
and formatting would produce again: it is taken as it is. Anything else is
rendered. Regenerating after a change to a few forms renders a few forms.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import sys
import unicodedata
from importlib import metadata
from pathlib import Path

MANIFEST = "package.json"
RENDER_STATE = ".govstd/render.json"
_GENERATOR = Path(__file__).resolve().parent
_ALSO = (_GENERATOR.parent / "runtime" / "formspec.py",)  # default values decide the literals


@functools.cache
def generator_digest() -> str:
    """sha256 of the generator's code and templates, the form spec, Python's, ruff's and
    jinja's versions."""
    digest = hashlib.sha256()
    files = sorted(p for p in _GENERATOR.rglob("*") if p.suffix in {".py", ".jinja"})
    for path in (*files, *_ALSO):
        digest.update(path.relative_to(_GENERATOR.parent).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    # str.isprintable() decides escapes in literals: it follows Python's Unicode version
    digest.update(f"python {sys.version_info[:2]} unicode {unicodedata.unidata_version}\0".encode())
    for tool in ("ruff", "jinja2"):  # dependencies: they format and template the files
        with contextlib.suppress(metadata.PackageNotFoundError):
            digest.update(f"{tool} {metadata.version(tool)}\0".encode())
    return digest.hexdigest()


class Previous:
    """The files of the package in ``out_dir`` that can be taken over unchanged."""

    def __init__(self, out_dir: Path | None) -> None:
        self.out_dir = out_dir
        self.recorded: dict[str, str] = {}  # path -> sha256 from package.json
        if out_dir is None:
            return
        try:
            state = json.loads((out_dir / RENDER_STATE).read_text(encoding="utf-8"))
            manifest_text = (out_dir / MANIFEST).read_text(encoding="utf-8")
            if state != _state(manifest_text):  # another generator, or a manifest since
                return
            files = json.loads(manifest_text).get("files", {})
        except (OSError, ValueError, AttributeError):
            return
        if isinstance(files, dict):
            self.recorded = {str(k): str(v) for k, v in files.items()}

    def text(self, path: str, banner: str) -> str | None:
        """The file's text when it is as recorded and starts with ``banner``; else None."""
        sha = self.recorded.get(path)
        if sha is None or self.out_dir is None:
            return None
        try:
            content = (self.out_dir / path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None
        if not content.startswith(banner):
            return None
        if hashlib.sha256(content.encode()).hexdigest() != sha:
            return None
        return content


def _state(manifest_text: str) -> dict[str, str]:
    return {
        "generator": generator_digest(),
        "manifest": hashlib.sha256(manifest_text.encode()).hexdigest(),
    }


def record(out_dir: Path) -> None:
    """Note that this generator wrote the package in ``out_dir`` (after its manifest)."""
    path = out_dir / RENDER_STATE
    try:
        state = _state((out_dir / MANIFEST).read_text(encoding="utf-8"))
    except OSError:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(state, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)
