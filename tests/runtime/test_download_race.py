"""A download interleaved with a replacement of the same material never answers 500.

The download reads the material's row, then opens the file the row names; a replacement
committed in between removes that file. The download is held right after reading the
row (inside its worker thread, the event loop free), the replacement runs to its 201,
then the download goes on: it answers 200 with the file the row names now — the API's
``GET …/materials/{m}`` and the page ``/me/applications/{id}/materials/{m}`` alike.
"""

from __future__ import annotations

import threading
from typing import Any

import anyio
import httpx
import pytest

from runtime.routes import materials
from tests.helpers import Api, Browser, file_unemployment

pytestmark = pytest.mark.anyio
FIRST = b"%PDF-1.7\n" + b"1" * 200_000 + b"\n%%EOF\n"
SECOND = b"%PDF-1.7\n" + b"2" * 150_000 + b"\n%%EOF\n"
SUB = "citizen-race"


class Hold:
    """Holds a download after it first read the material's row, until ``released``."""

    def __init__(self) -> None:
        self.reached = threading.Event()
        self.released = threading.Event()
        self.real = materials._material_row

    def material_row(self, *args: Any) -> Any:
        row = self.real(*args)
        if not self.reached.is_set():
            self.reached.set()
            assert self.released.wait(timeout=60), "the test never released the download"
        return row

    async def until_reached(self) -> None:
        with anyio.fail_after(30):
            while not self.reached.is_set():
                await anyio.sleep(0.01)


async def _case_with_a_file(api: Api) -> tuple[str, str]:
    h = api.token("applicant", SUB)
    case = await file_unemployment(api, SUB)
    url = f"/api/applications/{case}/materials/commitment_letter"
    up = await api.put(url, files={"file": ("1.pdf", FIRST, "application/pdf")}, headers=h)
    assert up.status_code == 201, up.text
    return case, url


@pytest.mark.parametrize("route", ["api", "page"])
async def test_a_download_while_the_file_is_replaced(
    api: Api, monkeypatch: pytest.MonkeyPatch, route: str
) -> None:
    case, url = await _case_with_a_file(api)
    headers = api.token("applicant", SUB)
    if route == "page":
        await Browser(api.client, api.settings).sign_in("applicant", SUB)
        path, headers = f"/me/applications/{case}/materials/commitment_letter", {}
    else:
        path = url
    [first_file] = (api.settings.upload_dir / case).iterdir()
    hold = Hold()
    monkeypatch.setattr(materials, "_material_row", hold.material_row)
    answers: dict[str, httpx.Response] = {}

    async def download() -> None:
        answers["download"] = await api.get(path, headers=headers)

    async with anyio.create_task_group() as tg:
        tg.start_soon(download)
        await hold.until_reached()  # the row names the first file
        replaced = await api.put(
            url,
            files={"file": ("2.pdf", SECOND, "application/pdf")},
            headers=api.token("applicant", SUB),
        )
        assert replaced.status_code == 201, replaced.text
        assert not first_file.exists()  # the replacement removed the file the row named
        hold.released.set()
    got = answers["download"]
    assert got.status_code == 200, got.text
    assert got.content == SECOND
    again = await api.get(path, headers=headers)
    assert again.status_code == 200 and again.content == SECOND


async def test_a_download_under_endless_replacements_gives_up_with_503(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each time the download has read the row, another replacement commits: it tries a
    few times, then answers 503 ``material_busy`` (documented, zh/en), never 500."""
    _, url = await _case_with_a_file(api)
    h = api.token("applicant", SUB)
    real = materials._material_row
    replaced: list[int] = []

    def read_then_replace(*args: Any) -> Any:
        row = real(*args)
        pdf = SECOND + str(len(replaced)).encode()
        r = anyio.from_thread.run(
            lambda: api.put(url, files={"file": ("n.pdf", pdf, "application/pdf")}, headers=h)
        )
        replaced.append(r.status_code)
        return row

    monkeypatch.setattr(materials, "_material_row", read_then_replace)
    got = await api.get(url, headers={**h, "Accept-Language": "en"})
    assert got.status_code == 503, got.text
    assert got.json()["error"]["code"] == "material_busy"
    assert "replaced again and again" in got.json()["error"]["message"]
    assert replaced == [201] * materials.OPEN_ATTEMPTS
    monkeypatch.setattr(materials, "_material_row", real)
    calm = await api.get(url, headers=h)
    assert calm.status_code == 200 and calm.content.startswith(SECOND)


async def test_a_lost_file_is_404_and_logged(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    case, url = await _case_with_a_file(api)
    for stored in (api.settings.upload_dir / case).iterdir():
        stored.unlink()
    got = await api.get(url, headers=api.token("applicant", SUB))
    assert got.status_code == 404 and got.json()["error"]["code"] == "unknown_material"
    assert "missing from the upload folder" in caplog.text
