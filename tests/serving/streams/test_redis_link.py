"""The pipelined Redis connection: replies reach their callers, failures are clear, it recovers."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from redis.exceptions import AuthenticationError, ConnectionError, ResponseError, TimeoutError

from benchmarks.redis_server import RedisServer, redis_server_path
from benchmarks.servers import free_port
from serving.streams import redis_link
from serving.streams.redis_link import RedisLink, Script, Subscriber

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(redis_server_path() is None, reason="redis-server is not installed"),
]


@pytest.fixture
async def link(redis_server: RedisServer) -> AsyncIterator[RedisLink]:
    opened = RedisLink.from_url(redis_server.url)
    yield opened
    await opened.aclose()


async def test_concurrent_callers_each_get_their_own_reply(link: RedisLink) -> None:
    key = f"link-{uuid.uuid4().hex}"
    replies = await asyncio.gather(*(link.call("ECHO", f"n{n}") for n in range(500)))
    assert replies == [f"n{n}".encode() for n in range(500)]
    counts = await asyncio.gather(*(link.call("INCR", key) for _ in range(100)))
    assert counts == list(range(1, 101))  # sent in the order they were called
    await link.call("DEL", key)


async def test_commands_wait_for_the_replies_due_then_share_one_write_and_a_lone_one_never_waits(
    link: RedisLink, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(redis_link, "LINGER_SECONDS", 5.0)  # the cap, out of the way here
    assert await link.call("PING") == b"PONG"  # connected
    protocol = link._protocol
    assert protocol is not None and protocol._transport is not None
    writes: list[bytes] = []
    write = protocol._transport.write
    monkeypatch.setattr(
        protocol._transport, "write", lambda data: (writes.append(data), write(data))[1]
    )
    # A reply is due (Redis holds this one for 0.3 s): commands issued meanwhile, on turns of
    # their own, wait for it, then go out together.
    due = asyncio.ensure_future(link.call("BLPOP", f"link-{uuid.uuid4().hex}", 0.3))
    await asyncio.sleep(0.05)
    first = asyncio.ensure_future(link.call("ECHO", "a"))
    await asyncio.sleep(0.01)
    second = asyncio.ensure_future(link.call("ECHO", "b"))
    assert await asyncio.gather(due, first, second) == [None, b"a", b"b"]
    assert len(writes) == 2 and writes[1].count(b"ECHO") == 2
    # Nothing due: a command goes out on the next turn, and each of a caller's sequential
    # commands in a write of its own, without waiting.
    for text in ("c", "d"):
        call = asyncio.ensure_future(link.call("ECHO", text))
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert writes[-1].count(text.encode()) == 1
        assert await call == text.encode()
    assert len(writes) == 4


async def test_a_caller_that_gives_up_does_not_shift_the_replies_of_the_others(
    link: RedisLink,
) -> None:
    calls = [asyncio.ensure_future(link.call("ECHO", f"n{n}")) for n in range(20)]
    calls[7].cancel()
    results = await asyncio.gather(*calls, return_exceptions=True)
    assert isinstance(results[7], asyncio.CancelledError)
    assert [r for i, r in enumerate(results) if i != 7] == [
        f"n{n}".encode() for n in range(20) if n != 7
    ]
    assert await link.call("ECHO", "after") == b"after"


async def test_a_script_is_sent_whole_when_redis_does_not_know_it(link: RedisLink) -> None:
    script = Script("return ARGV[1] .. ARGV[2]")
    assert await link.run(script, "a", "b") == b"ab"
    await link.call("SCRIPT", "FLUSH")  # as after a restart without the script cache
    assert await link.run(script, "c", "d") == b"cd"
    assert await link.call("SCRIPT", "EXISTS", script.sha) == [1]  # cached again


async def test_an_error_reply_is_raised_and_the_link_stays_usable(link: RedisLink) -> None:
    key = f"link-{uuid.uuid4().hex}"
    await link.call("SET", key, "text")
    with pytest.raises(ResponseError, match="WRONGTYPE"):
        await link.call("LPUSH", key, "x")
    with pytest.raises(ResponseError, match="boom"):
        await link.run(Script("return redis.error_reply('boom')"))
    assert await link.call("GET", key) == b"text"
    await link.call("DEL", key)


async def test_a_dropped_connection_fails_what_was_in_flight_and_the_next_call_reconnects(
    link: RedisLink, redis_server: RedisServer
) -> None:
    await link.call("PING")
    own_id = await link.call("CLIENT", "ID")
    blocked = asyncio.ensure_future(link.call("BLPOP", f"link-{uuid.uuid4().hex}", 10))
    await asyncio.sleep(0.05)
    async with _other(redis_server) as other:
        await other.call("CLIENT", "KILL", "ID", own_id)
    with pytest.raises(ConnectionError, match="lost the connection"):
        await blocked
    assert await link.call("ECHO", "again") == b"again"
    assert await link.call("CLIENT", "ID") != own_id


async def test_nothing_listening_is_a_connection_error_naming_the_address() -> None:
    port = free_port()
    link = RedisLink.from_url(f"redis://127.0.0.1:{port}/0")
    with pytest.raises(ConnectionError, match=f"cannot connect to Redis at 127\\.0\\.0\\.1:{port}"):
        await link.call("PING")
    await link.aclose()


async def test_a_redis_that_stops_answering_is_a_timeout_not_a_hang() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # accepts, reads, never answers

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    link = RedisLink.from_url(f"redis://127.0.0.1:{port}/0?socket_timeout=0.2")
    try:
        with pytest.raises(TimeoutError, match=r"did not answer for 0\.2 s"):
            await asyncio.wait_for(link.call("PING"), 5)
    finally:
        await link.aclose()
        server.close()


async def test_the_url_selects_the_database_and_logs_in(redis_server: RedisServer) -> None:
    user = f"link-{uuid.uuid4().hex[:8]}"
    async with _other(redis_server) as admin:
        await admin.call("ACL", "SETUSER", user, "on", ">secret", "~*", "+@all")
        try:
            base = f"127.0.0.1:{redis_server.port}"
            async with _other(redis_server, f"redis://{user}:secret@{base}/3") as logged_in:
                assert await logged_in.call("ACL", "WHOAMI") == user.encode()
                assert b" db=3 " in await logged_in.call("CLIENT", "INFO")
            async with _other(redis_server, f"redis://{user}:wrong@{base}/0") as refused:
                with pytest.raises(AuthenticationError, match="WRONGPASS"):
                    await refused.call("PING")
        finally:
            await admin.call("ACL", "DELUSER", user)


async def test_a_subscriber_gets_its_channels_messages_and_resubscribes_after_a_drop(
    link: RedisLink,
) -> None:
    channel = f"link-{uuid.uuid4().hex}"
    events: asyncio.Queue[tuple[str, ...]] = asyncio.Queue()
    subscriber = Subscriber(
        link.address,
        on_message=lambda name, data: events.put_nowait(("message", name, data.decode())),
        on_subscribed=lambda name: events.put_nowait(("subscribed", name)),
        on_lost=lambda error: events.put_nowait(("lost", str(error))),
    )
    try:
        subscriber.subscribe(channel)  # before connecting: subscribed by connect()
        await subscriber.connect()
        assert await asyncio.wait_for(events.get(), 5) == ("subscribed", channel)
        await link.call("PUBLISH", channel, "one")
        await link.call("PUBLISH", f"{channel}-other", "not ours")
        assert await asyncio.wait_for(events.get(), 5) == ("message", channel, "one")
        await link.call("CLIENT", "KILL", "TYPE", "pubsub")
        kind, reason = await asyncio.wait_for(events.get(), 5)
        assert kind == "lost" and "lost the connection" in reason and not subscriber.connected
        await subscriber.connect()
        assert await asyncio.wait_for(events.get(), 5) == ("subscribed", channel)
        await link.call("PUBLISH", channel, "two")
        assert await asyncio.wait_for(events.get(), 5) == ("message", channel, "two")
        subscriber.unsubscribe(channel)
        await asyncio.sleep(0.05)
        assert await link.call("PUBLISH", channel, "three") == 0  # nobody listens any more
        assert events.empty()
    finally:
        subscriber.close()


def test_unsupported_url_options_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match="health_check_interval"):
        RedisLink.from_url("redis://127.0.0.1:6379/0?health_check_interval=3")
    with pytest.raises(ValueError, match="rediss://"):
        RedisLink.from_url("redis://127.0.0.1:6379/0?ssl_cert_reqs=none")
    tls = RedisLink.from_url("rediss://redis.example:6380/0?ssl_cert_reqs=none")
    assert tls.address.tls is not None and str(tls.address) == "redis.example:6380"
    unix = RedisLink.from_url("unix:///run/redis.sock?db=2")
    assert unix.address.unix_path == "/run/redis.sock" and unix.address.db == 2


@asynccontextmanager
async def _other(redis_server: RedisServer, url: str | None = None) -> AsyncIterator[RedisLink]:
    """A second link (another client of the same Redis), closed after."""
    link = RedisLink.from_url(url or redis_server.url)
    try:
        yield link
    finally:
        await link.aclose()
