"""Events (outbox): every filing, step and decision is a CloudEvent written with the change;
staff pull them by region; webhooks deliver them signed, retried with backoff, in order per
application, once per receiver however many workers run (a real local HTTP receiver)."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, select, update

from runtime import events, webhooks
from runtime.context import Context
from runtime.crypto import Cipher, load_keys
from runtime.db import make_engine, write
from runtime.package import Package
from runtime.settings import Settings
from tests.helpers import ID_A, Api, FrozenClock, file_ibr, ibr_data
from tests.receiver import Recorder, Request, serving

pytestmark = pytest.mark.anyio

KEY = b"webhook-test-key-0123456789abcdef"
SECRET = "whsec_" + base64.b64encode(KEY).decode()
SUBMIT = "/api/matters/ibr/applications"
POSTGRES = [pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture
def receiver() -> Iterator[Recorder]:
    with serving(Recorder()) as r:
        yield r


@pytest.fixture
def settings(settings: Settings, receiver: Recorder) -> Settings:
    return dataclasses.replace(
        settings,
        webhook_urls=(receiver.url + "/hook",),
        webhook_key=KEY,
        webhook_timeout=2.0,
        webhook_backoff=0.2,
    )


def context(db_url: str, package: Package, settings: Settings) -> Context:
    keys, _ = load_keys(settings.env)
    return Context(package, make_engine(db_url), settings, Cipher(keys))


async def step(api: Api, app_id: str, transition: str, role: str, sub: str, **body: Any) -> None:
    r = await api.post(
        f"/api/applications/{app_id}/actions/{transition}",
        json=body,
        headers=api.token(role, sub),
    )
    assert r.status_code == 200, r.text


async def pulled(api: Api, after: int = 0, **claims: Any) -> dict[str, Any]:
    r = await api.get(
        f"/api/staff/events?after={after}", headers=api.token("officer", "officer-1", **claims)
    )
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def verify(request: Request) -> dict[str, Any]:
    """The receiver's side of the signature, written from the Standard Webhooks text."""
    event_id = request.headers["webhook-id"]
    stamp = request.headers["webhook-timestamp"]
    mac = hmac.new(KEY, f"{event_id}.{stamp}.".encode() + request.body, hashlib.sha256)
    expected = "v1," + base64.b64encode(mac.digest()).decode()
    assert hmac.compare_digest(request.headers["webhook-signature"], expected)
    assert abs(time.time() - int(stamp)) < 60
    assert request.headers["content-type"].startswith("application/cloudevents+json")
    event: dict[str, Any] = json.loads(request.body)
    assert event["id"] == event_id
    return event


async def deliver_all(courier: webhooks.Courier, expected: int, limit_s: float = 20.0) -> None:
    """Run the courier's rounds until ``expected`` events were acknowledged."""
    t = courier.c.package.tables
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        await asyncio.to_thread(courier.round)
        with courier.c.engine.connect() as conn:
            row = conn.execute(
                select(t.event_receivers.c.delivered).where(
                    t.event_receivers.c.receiver == courier.receiver
                )
            ).one()
        if row.delivered >= expected:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"not delivered in {limit_s} s")


async def test_every_change_is_an_event_without_personal_data(api: Api) -> None:
    app_id = await file_ibr(api, "citizen-a")
    await step(api, app_id, "request_supplement", "officer", "officer-1", reason="经营面积有误")
    await step(api, app_id, "resubmit", "applicant", "citizen-a", data={"employees": 3})
    await step(api, app_id, "refuse", "officer", "officer-1", reason="经营范围不符合规定")

    page = await pulled(api)
    events = page["items"]
    assert [e["type"].removeprefix("cn.gov.govstd.") for e in events] == [
        "application.submitted",
        "application.transitioned",
        "application.transitioned",
        "application.decided",
    ]
    first = events[0]
    assert first["specversion"] == "1.0" and first["source"] == "urn:govstd:region:nanshan"
    assert first["subject"] == app_id and first["datacontenttype"] == "application/json"
    assert first["data"]["application"] == app_id and first["data"]["matter"] == "ibr"
    assert first["data"]["number"].startswith("440305-")
    assert events[3]["data"]["from"] == "submitted" and events[3]["data"]["to"] == "refused"
    sequence = [int(e["sequence"]) for e in events]
    assert sequence == sorted(sequence) and page["next"] == sequence[-1]
    assert len({e["id"] for e in events}) == 4

    text = json.dumps(page, ensure_ascii=False)
    for secret in (ID_A, "张三", "13812345678", "桃园路", "经营面积有误", "经营范围不符合规定"):
        assert secret not in text
    assert "citizen-a" not in text  # nor the applicant's login

    assert (await pulled(api, after=page["next"]))["items"] == []
    assert len((await pulled(api, after=sequence[1]))["items"]) == 2


async def test_events_are_scoped_and_checked(api: Api) -> None:
    await file_ibr(api, "citizen-a")
    assert len((await pulled(api))["items"]) == 1
    assert (await pulled(api, region="shenzhen"))["items"] == []  # an officer: own region
    r = await api.get("/api/staff/events", headers=api.token("supervisor", "sup-1"))
    assert len(r.json()["items"]) == 1  # a supervisor: the subtree of nanshan
    r = await api.get("/api/staff/events", headers=api.token("applicant", "citizen-a"))
    assert r.status_code == 403
    assert (await api.get("/api/staff/events")).status_code == 401
    officer = api.token("officer", "officer-1")
    for query in ("after=-1", "after=x", "limit=0", "limit=501", "after=99999999999999999999"):
        r = await api.get(f"/api/staff/events?{query}", headers=officer)
        assert r.status_code == 422, query
        assert r.json()["error"]["fields"][0]["path"] == query.split("=")[0]


async def test_a_refused_change_writes_no_event(api: Api) -> None:
    r = await api.post(
        SUBMIT,
        json={"region": "nanshan", "data": ibr_data(citizen_id_number="440305199003070015")},
        headers=api.token("applicant", "citizen-a"),
    )
    assert r.status_code == 422
    app_id = await file_ibr(api, "citizen-a")
    r = await api.post(
        f"/api/applications/{app_id}/actions/approve",
        json={},
        headers=api.token("approver", "approver-1"),
    )
    assert r.status_code == 409  # not from 'submitted'
    r = await api.post(
        f"/api/applications/{app_id}/actions/accept",
        json={},
        headers=api.token("officer", "officer-1"),
    )
    assert r.status_code == 409  # materials missing
    assert [e["type"] for e in (await pulled(api))["items"]] == [
        "cn.gov.govstd.application.submitted"
    ]


async def test_webhooks_are_signed_retried_with_backoff_and_in_order(
    api: Api, db_url: str, package: Package, settings: Settings, receiver: Recorder
) -> None:
    c = context(db_url, package, settings)
    webhooks.register(c)
    a = await file_ibr(api, "citizen-a")
    b = await file_ibr(api, "citizen-b")
    await step(api, a, "withdraw", "applicant", "citizen-a")
    await step(api, b, "refuse", "officer", "officer-1", reason="不符合")

    tries: dict[str, int] = {}

    def answer(request: Request) -> tuple[int, dict[str, str], bytes]:
        event = json.loads(request.body)
        tries[event["id"]] = tries.get(event["id"], 0) + 1
        if event["subject"] == a and tries[event["id"]] <= 2:
            return (503, {}, b"busy")  # application a's receiver side fails twice
        return (204, {}, b"")

    receiver.answer = answer
    courier = webhooks.Courier(c, settings.webhook_urls[0])
    await deliver_all(courier, 4)
    courier.close()
    taken = receiver.taken()
    events = [verify(r) for r in taken]
    assert all(r.path == "/hook" for r in taken)
    by_subject: dict[str, list[tuple[int, float]]] = {}
    for request, event in zip(taken, events, strict=True):
        by_subject.setdefault(event["subject"], []).append((int(event["sequence"]), request.at))
    # b is not held up by a's failures: both its events went before a's first retry
    assert len(by_subject[b]) == 2
    assert max(at for _, at in by_subject[b]) < by_subject[a][1][1]
    # a: each event three times (two failures), the second only once the first got through
    s1, s2 = by_subject[a][0][0], by_subject[a][3][0]
    assert [s for s, _ in by_subject[a]] == [s1] * 3 + [s2] * 3 and s2 > s1
    first, second, third = (at for _, at in by_subject[a][:3])
    assert second - first >= 0.2 * 0.9 and third - second >= 0.4 * 0.9  # 0.2 s, then doubled
    with c.engine.connect() as conn:
        t = package.tables
        assert conn.execute(select(t.event_deliveries)).all() == []  # all acknowledged
    c.engine.dispose()


async def test_one_courier_at_a_time_per_receiver(
    api: Api, db_url: str, package: Package, settings: Settings, receiver: Recorder
) -> None:
    c = context(db_url, package, settings)
    webhooks.register(c)
    for n in range(6):
        await file_ibr(api, f"citizen-{n}")
    url = settings.webhook_urls[0]
    one, two = webhooks.Courier(c, url, "worker-1"), webhooks.Courier(c, url, "worker-2")
    await asyncio.gather(deliver_all(one, 6), deliver_all(two, 6))
    ids = [json.loads(r.body)["id"] for r in receiver.taken()]
    assert len(ids) == 6 == len(set(ids))  # each once: the two never sent side by side

    # the holder stops without giving the lease up (killed): the other waits for the lease
    holder = one if await asyncio.to_thread(one.claim) else two
    other = two if holder is one else one
    await file_ibr(api, "citizen-late")
    assert await asyncio.to_thread(other.round) is None
    r = package.tables.event_receivers
    with write(c.engine) as conn:  # the lease runs out
        conn.execute(update(r).values(lease_until=r.c.lease_until - timedelta(hours=1)))
    done = await asyncio.to_thread(other.round)
    assert done is not None and len(done.delivered) == 1
    assert len(receiver.taken()) == 7
    one.close()
    two.close()
    c.engine.dispose()


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"GOVSTD_WEBHOOK_URLS": "http://127.0.0.1:9/x"}, "GOVSTD_WEBHOOK_SECRET"),
        ({"GOVSTD_WEBHOOK_URLS": "ftp://x/", "GOVSTD_WEBHOOK_SECRET": SECRET}, "URLS"),
        ({"GOVSTD_WEBHOOK_SECRET": "whsec_c2hvcnQ="}, "GOVSTD_WEBHOOK_SECRET"),
        ({"GOVSTD_WEBHOOK_SECRET": "not base64!"}, "GOVSTD_WEBHOOK_SECRET"),
        ({"GOVSTD_WEBHOOK_TIMEOUT": "0"}, "GOVSTD_WEBHOOK_TIMEOUT"),
        ({"GOVSTD_WEBHOOK_BACKOFF": "soon"}, "GOVSTD_WEBHOOK_BACKOFF"),
    ],
)
def test_bad_webhook_settings_are_refused_by_name(env: dict[str, str], named: str) -> None:
    from runtime.settings import SettingsError

    with pytest.raises(SettingsError, match=named):
        Settings.from_env(env)
    good = Settings.from_env(
        {"GOVSTD_WEBHOOK_URLS": "http://a/x, http://b/y http://a/x"}
        | {"GOVSTD_WEBHOOK_SECRET": SECRET}
    )
    assert good.webhook_urls == ("http://a/x", "http://b/y") and good.webhook_key == KEY


@pytest.fixture
def held_event(db_url: str, package: Package, clock: FrozenClock) -> Iterator[Connection]:
    """A transaction (another worker's group, say) that wrote an event and stays open
    until the test commits it: its event has the smaller id."""
    engine = make_engine(db_url)
    conn = engine.connect()
    conn.begin()
    events.emit(conn, package.tables, events.SUBMITTED, region="nanshan", at=clock(), data={})
    yield conn
    conn.close()
    engine.dispose()


@pytest.mark.parametrize("db_url", POSTGRES, indirect=True)
async def test_event_writers_do_not_wait_for_each_other_and_a_reader_skips_none(
    api: Api, db_url: str, held_event: Connection
) -> None:
    # With one lock per event writer (before) this filing waited for the held commit.
    filed = await asyncio.wait_for(file_ibr(api, "citizen-a"), 10)
    reader = asyncio.create_task(pulled(api))  # the filing's event is committed …
    await asyncio.sleep(0.5)
    assert not reader.done(), "a reader went past an event still being written"
    await asyncio.to_thread(held_event.commit)  # … the held one (a smaller id) commits later
    items = (await asyncio.wait_for(reader, 10))["items"]
    assert [e.get("subject") for e in items] == [None, filed]  # both, in the order of ids
    assert int(items[0]["sequence"]) < int(items[1]["sequence"])


@pytest.mark.parametrize("db_url", POSTGRES, indirect=True)
async def test_a_reader_gives_up_on_a_stuck_event_writer_and_filings_go_on(
    api: Api, db_url: str, held_event: Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events, "SETTLE_TIMEOUT", "300ms")
    r = await api.get("/api/staff/events", headers=api.token("officer", "officer-1"))
    assert r.status_code == 503  # not a page that may skip the stuck writer's event
    assert r.json()["error"]["code"] == "unavailable"
    await asyncio.wait_for(file_ibr(api, "citizen-a"), 10)  # writers no longer queue behind it
    await asyncio.to_thread(held_event.commit)
    assert len((await pulled(api))["items"]) == 2
