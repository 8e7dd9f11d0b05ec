"""The writer's formatting helper: ``python -m generator.formatter OUT READY NEW CHECK``.

Started by :meth:`generator.writer.PackageWriter.format_ahead`, beside the renderers. Each
line it reads names a batch (a JSON file in the staging folder: the folder its Python
waits in, whether that is on disk, the ``ruff format`` command, each file's path and
number of pieces, and where to write the findings); for each it runs ``ruff format`` in
that folder, settles every file as the writer's own commit would
(:meth:`generator.writer.Placer.formatted`: long lines marked, compared with the
package's copy in OUT, staged in READY when it differs), writes its findings (path,
sha256, written) and removes the batch's folder. It stops at the end of its input; on an
error it writes the error as its findings and stops.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import orjson

from generator.writer import Placer, _ruff_format


def main(argv: list[str]) -> int:
    out_dir, ready_root = Path(argv[0]), Path(argv[1])
    place = Placer(out_dir, ready_root, new=argv[2] == "1", check=argv[3] == "1", made=set())
    try:
        for line in sys.stdin:
            listing = Path(line.strip())
            order = orjson.loads(listing.read_bytes())
            root, on_disk = Path(order["root"]), order["on_disk"]
            findings = Path(order["findings"])
            try:
                _ruff_format(root, order["ruff"])
                files = [
                    [path, *place.formatted(root, path, pieces, on_disk)]
                    for path, pieces in order["files"]
                ]
            except subprocess.CalledProcessError as exc:  # the writer raises it again
                findings.write_bytes(orjson.dumps({"returncode": exc.returncode, "cmd": exc.cmd}))
                return 1
            except Exception as exc:  # reported to the writer, which raises it
                findings.write_bytes(orjson.dumps({"error": f"{type(exc).__name__}: {exc}"}))
                return 1
            findings.write_bytes(orjson.dumps({"files": files}))
            shutil.rmtree(root, ignore_errors=True)
    except KeyboardInterrupt:  # Ctrl-C reaches the whole process group: the writer stops
        return 130
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
