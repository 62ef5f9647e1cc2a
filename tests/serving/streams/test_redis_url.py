"""parse_redis_url reads a Redis URL exactly as redis-py's (undocumented) parse_url does.

The store used redis-py's ``parse_url`` until a redis-py release could change it unannounced;
now it has its own parser, and this test holds the two together on every URL the store
accepts, drawn at random from the pieces a URL is made of, and on the redis-py installed,
whichever version that is (the lowest-versions CI run checks the oldest one allowed).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from redis.asyncio.connection import SSLConnection, UnixDomainSocketConnection, parse_url

from serving.streams.redis_link import RedisLink, parse_redis_url

SCHEMES = {SSLConnection: "rediss", UnixDomainSocketConnection: "unix", None: "redis"}

text = st.text(st.sampled_from("abcXYZ019-._~%:@/?#& =+"), max_size=8)
numbers = st.one_of(st.integers(0, 70000).map(str), st.sampled_from(["", "-1", "x", "1.5"]))
options = st.dictionaries(
    st.sampled_from(
        ["db", "socket_timeout", "socket_connect_timeout", "ssl_check_hostname", "ssl_ca_certs"]
    ),
    st.one_of(numbers, st.sampled_from(["0", "1", "true", "False", "no", "Y", "n"]), text),
    max_size=3,
)


@st.composite
def redis_urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["redis", "rediss", "unix"]))
    login = draw(st.sampled_from(["", "user@", ":secret@", "user:p%40ss@", "%75ser:@", "@"]))
    host = draw(st.sampled_from(["", "localhost", "127.0.0.1", "[::1]", "Redis.Example", "h%41"]))
    port = draw(st.one_of(st.just(""), numbers.map(lambda number: f":{number}")))
    path = draw(st.sampled_from(["", "/", "/0", "/15", "/x", "/run/redis%20x.sock", "/1/2"]))
    query = "&".join(f"{name}={value}" for name, value in draw(options).items())
    return f"{scheme}://{login}{host}{port}{path}" + (f"?{query}" if query else "")


def redis_py(url: str) -> dict[str, Any]:
    options: dict[str, Any] = dict(parse_url(url))
    options["scheme"] = SCHEMES[options.pop("connection_class", None)]
    if options.get("port") == 0:  # redis-py 5.0 drops a zero port, newer ones keep it: 6379 both
        del options["port"]
    return options


@given(redis_urls())
@example("redis://127.0.0.1:6379/0?socket_timeout=0.2")
@example("rediss://user:p%40ss@redis.example:6380/2?ssl_cert_reqs=none&ssl_check_hostname=0")
@example("unix:///run/redis.sock?db=2")
@example("redis://localhost/3?db=5")
@example("redis://:secret@localhost:70000")
@example("redis://:0")
def test_a_url_reads_as_redis_py_reads_it(url: str) -> None:
    try:
        expected = redis_py(url)
    except ValueError:
        with pytest.raises(ValueError):
            parse_redis_url(url)
        return
    assert parse_redis_url(url) == expected


def test_a_url_of_another_scheme_is_refused_with_the_schemes_to_use() -> None:
    with pytest.raises(ValueError, match=r"redis://, rediss:// \(TLS\) or unix://"):
        parse_redis_url("http://127.0.0.1:6379")
    with pytest.raises(ValueError, match="socket_timeout='soon'"):
        parse_redis_url("redis://127.0.0.1?socket_timeout=soon")


def test_the_link_takes_what_the_url_says() -> None:
    link = RedisLink.from_url("rediss://ann:p%40ss@Redis.Example:6380/4?socket_timeout=0.5")
    address = link.address
    assert (address.host, address.port, address.db) == ("redis.example", 6380, 4)
    assert (address.username, address.password) == ("ann", "p@ss")
    assert address.tls is not None and address.unix_path is None
    assert link.timeout == 0.5
    unix = RedisLink.from_url("unix:///run/redis%20x.sock?db=2").address
    assert (unix.unix_path, unix.db, unix.tls) == ("/run/redis x.sock", 2, None)
