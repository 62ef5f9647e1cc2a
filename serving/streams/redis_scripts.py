"""The Redis store's server side: its key layout and Lua scripts, and the commits it sends.

No I/O here. The Redis store (serving.streams.redis_store) decides every change in Python with
serving.streams.rules, then sends a Commit: a list of checks and writes that one Lua script
applies atomically inside Redis, *only if* every check still holds (optimistic concurrency: a
compare-and-set on each stream's version). Scripts run one at a time in Redis, so no writer from
any process can slip between the checks and the writes; a failed check writes nothing and the
store decides again on fresh state. Lua scripts were chosen over WATCH/MULTI/EXEC because they
need no connection of their own per transaction and send checks and writes in one round trip.

Keys, under a prefix (default ``ds:``)::

    {prefix}path:{path}   string   the id of the stream at this path
    {prefix}meta:{id}     hash     p path, m StreamMeta JSON (serving.streams.codec), v version,
                                   a accessed_at, t seconds of idleness allowed, e expires_at
    {prefix}log:{id}      stream   one entry per record: id "{seq}-{position}" (its end offset),
                                   fields d (the bytes), v (the version that wrote it)
    {prefix}producers:{id} hash    producer id -> "epoch seq"
    {prefix}ids           string   the last stream id handed out (ids are never reused)
    {prefix}deadlines     zset     stream id -> when it expires, for the sweep

Every commit that changes a stream publishes ``"{id} {tail} {state}"`` (state ``open``,
``closed`` or ``gone``) on the channel ``{prefix}news:{path}`` inside the same script, so
waiting readers in every process learn of it (serving.streams.redis_watch).

Stream ids grow (INCR), so of two states of one path the one with the larger id is newer.
A version is an opaque token, new for each commit; the log entries a commit writes carry it,
so after a lost reply the store can tell whether its commit was applied.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from serving.streams.offsets import Offset

NEW_ID = "*"
"""In a commit that creates a stream: the id the script allocates."""

OPEN, CLOSED, GONE = "open", "closed", "gone"
"""Stream states announced on a path's news channel."""

# A helper both reading scripts share: whole records of one log, oldest first, after ``start``
# (an entry id or a bare seq, inclusive) up to ``stop`` (inclusive), within ``budget`` bytes but
# at least one record unless ``taken`` records were already collected by the caller.
_COLLECT = """
local function collect(log, start, stop, budget, taken, out)
  local size = 0
  while true do
    local batch = redis.call('XRANGE', log, start, stop, 'COUNT', 128)
    for _, entry in ipairs(batch) do
      local data = entry[2][2]
      if taken > 0 and size + #data > budget then return true end
      out[#out + 1] = entry[1]
      out[#out + 1] = data
      size = size + #data
      taken = taken + 1
    end
    if #batch < 128 then return false end
    start = '(' .. batch[#batch][1]
  end
end
"""

LOAD = """
-- ARGV: prefix, 'path' or 'id', the path or id, producer ids...
-- -> {} when there is no stream, else {id, path, m, v, a, producer states...} ('' = none)
local prefix = ARGV[1]
local id = ARGV[3]
if ARGV[2] == 'path' then
  id = redis.call('GET', prefix .. 'path:' .. ARGV[3])
  if not id then return {} end
end
local meta = redis.call('HMGET', prefix .. 'meta:' .. id, 'p', 'm', 'v', 'a')
if not meta[2] then return {} end
local out = {id, meta[1], meta[2], meta[3], meta[4]}
for i = 4, #ARGV do
  out[#out + 1] = redis.call('HGET', prefix .. 'producers:' .. id, ARGV[i]) or ''
end
return out
"""

READ = (
    _COLLECT
    + """
-- ARGV: prefix, path, now, first seq wanted, max bytes, '1' to read records
-- -> {} when there is no stream, else {id, m, v, a, truncated, entry id, data, ...}
-- A read renews the sliding TTL (accessed_at = now) unless the stream has already expired:
-- the same test as rules.is_expired, on the t and e fields the store keeps for it.
local prefix, now = ARGV[1], tonumber(ARGV[3])
local id = redis.call('GET', prefix .. 'path:' .. ARGV[2])
if not id then return {} end
local key = prefix .. 'meta:' .. id
local meta = redis.call('HMGET', key, 'm', 'v', 'a', 't', 'e')
if not meta[1] then return {} end
local accessed, idle, expires = tonumber(meta[3]), tonumber(meta[4]), tonumber(meta[5])
if idle and now > accessed and now < accessed + idle and (not expires or now < expires) then
  meta[3] = ARGV[3]
  redis.call('HSET', key, 'a', ARGV[3])
  local deadline = now + idle
  if expires and expires < deadline then deadline = expires end
  redis.call('ZADD', prefix .. 'deadlines', deadline, id)
end
local out = {id, meta[1], meta[2], meta[3], '0'}
if ARGV[6] == '1' then
  local full = collect(prefix .. 'log:' .. id, ARGV[4], '+', tonumber(ARGV[5]), 0, out)
  if full then out[5] = '1' end
end
return out
"""
)

RANGE = (
    _COLLECT
    + """
-- ARGV: prefix, stream id, first seq wanted, last seq wanted, budget, records taken so far
-- -> {truncated, entry id, data, ...}
local out = {'0'}
local log = ARGV[1] .. 'log:' .. ARGV[2]
if collect(log, ARGV[3], ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6]), out) then out[1] = '1' end
return out
"""
)

COMMIT = """
-- ARGV: prefix, number of checks, checks..., writes...
-- -> 0 when a check fails (nothing written), else 1, or the new stream's id.
-- A check: P path id ('' = no stream there) | V id version accessed ('' = any accessed_at)
local prefix = ARGV[1]
local i = 3
for _ = 1, tonumber(ARGV[2]) do
  if ARGV[i] == 'P' then
    if (redis.call('GET', prefix .. 'path:' .. ARGV[i + 1]) or '') ~= ARGV[i + 2] then
      return 0
    end
    i = i + 3
  else
    local current = redis.call('HMGET', prefix .. 'meta:' .. ARGV[i + 1], 'v', 'a')
    if (current[1] or '') ~= ARGV[i + 2] then return 0 end
    if ARGV[i + 3] ~= '' and current[2] ~= ARGV[i + 3] then return 0 end
    i = i + 4
  end
end
local new_id = nil
local function id_of(text)
  if text == '*' then return new_id end
  return text
end
while i <= #ARGV do
  local op = ARGV[i]
  if op == 'I' then  -- I: allocate the id of a new stream
    new_id = tostring(redis.call('INCR', prefix .. 'ids'))
    i = i + 1
  elseif op == 'M' then  -- M id path version meta accessed idle expires
    local id = id_of(ARGV[i + 1])
    local key = prefix .. 'meta:' .. id
    local accessed = ARGV[i + 5]
    local stored = redis.call('HGET', key, 'a')
    if stored and tonumber(stored) > tonumber(accessed) then accessed = stored end
    redis.call('HSET', key, 'p', ARGV[i + 2], 'v', ARGV[i + 3], 'm', ARGV[i + 4], 'a', accessed)
    for field, value in pairs({t = ARGV[i + 6], e = ARGV[i + 7]}) do
      if value == '' then
        redis.call('HDEL', key, field)
      else
        redis.call('HSET', key, field, value)
      end
    end
    redis.call('SET', prefix .. 'path:' .. ARGV[i + 2], id)
    i = i + 8
  elseif op == 'U' then  -- U id version meta accessed: an append's M (path, t and e unchanged)
    local key = prefix .. 'meta:' .. ARGV[i + 1]
    local accessed = ARGV[i + 4]
    local stored = redis.call('HGET', key, 'a')
    if stored and tonumber(stored) > tonumber(accessed) then accessed = stored end
    redis.call('HSET', key, 'v', ARGV[i + 2], 'm', ARGV[i + 3], 'a', accessed)
    i = i + 5
  elseif op == 'R' then  -- R id entry-id data version
    redis.call('XADD', prefix .. 'log:' .. id_of(ARGV[i + 1]), ARGV[i + 2],
      'd', ARGV[i + 3], 'v', ARGV[i + 4])
    i = i + 5
  elseif op == 'T' then  -- T id max-records: drop the oldest records beyond the limit
    local log = prefix .. 'log:' .. id_of(ARGV[i + 1])
    if redis.call('XLEN', log) > tonumber(ARGV[i + 2]) then
      redis.call('XTRIM', log, 'MAXLEN', ARGV[i + 2])
    end
    i = i + 3
  elseif op == 'S' then  -- S id producer state
    redis.call('HSET', prefix .. 'producers:' .. id_of(ARGV[i + 1]), ARGV[i + 2], ARGV[i + 3])
    i = i + 4
  elseif op == 'D' then  -- D id path: remove a stream and its records
    local id = ARGV[i + 1]
    redis.call('DEL', prefix .. 'meta:' .. id, prefix .. 'log:' .. id, prefix .. 'producers:' .. id)
    local path_key = prefix .. 'path:' .. ARGV[i + 2]
    if redis.call('GET', path_key) == id then redis.call('DEL', path_key) end
    redis.call('ZREM', prefix .. 'deadlines', id)
    i = i + 3
  elseif op == 'X' then  -- X id deadline ('' = none: a tombstone waits for its forks)
    if ARGV[i + 2] == '' then
      redis.call('ZREM', prefix .. 'deadlines', id_of(ARGV[i + 1]))
    else
      redis.call('ZADD', prefix .. 'deadlines', ARGV[i + 2], id_of(ARGV[i + 1]))
    end
    i = i + 3
  elseif op == 'N' then  -- N path id tail state: tell every process
    redis.call('PUBLISH', prefix .. 'news:' .. ARGV[i + 1],
      id_of(ARGV[i + 2]) .. ' ' .. ARGV[i + 3] .. ' ' .. ARGV[i + 4])
    i = i + 5
  else
    return redis.error_reply('unknown commit operation ' .. tostring(op))
  end
end
return new_id or 1
"""

VERIFY = """
-- ARGV: prefix, stream id, entry id, version -> 1 if that entry was written by that version
local entry = redis.call('XRANGE', ARGV[1] .. 'log:' .. ARGV[2], ARGV[3], ARGV[3])
if entry[1] and entry[1][2][4] == ARGV[4] then return 1 end
return 0
"""


def entry_id(end: Offset) -> str:
    """The log entry id of the record ending at ``end``: its seq, then its position."""
    return f"{end.seq}-{end.position}"


def parse_entry_id(text: bytes | str) -> Offset:
    seq, _, position = (text.decode() if isinstance(text, bytes) else text).partition("-")
    return Offset(int(seq), int(position))


def encode_producer(epoch: int, last_seq: int) -> str:
    return f"{epoch} {last_seq}"


def decode_producer(text: bytes | str) -> tuple[int, int] | None:
    if not text:
        return None
    epoch, last_seq = (text.decode() if isinstance(text, bytes) else text).split()
    return int(epoch), int(last_seq)


def news_channel(prefix: str, path: str) -> str:
    return f"{prefix}news:{path}"


@dataclass(frozen=True, slots=True)
class News:
    """What one message on a path's news channel says (or what a load found)."""

    stream_id: int
    tail: Offset | None
    """None when the stream is gone."""
    state: str

    @classmethod
    def parse(cls, payload: bytes) -> News:
        stream_id, tail, state = payload.decode().split(" ")
        return cls(int(stream_id), None if state == GONE else Offset.parse(tail), state)

    def is_news_after(self, offset: Offset) -> bool:
        """True for a reader at ``offset``: records beyond it, or the stream closed or gone."""
        return self.state != OPEN or (self.tail is not None and self.tail > offset)

    def merge(self, other: News | None) -> News:
        """The newer of two states of one path; the order they arrived in does not matter."""
        if other is None or self.stream_id > other.stream_id:
            return self
        if other.stream_id > self.stream_id:
            return other
        if GONE in (self.state, other.state):
            return self if self.state == GONE else other
        assert self.tail is not None and other.tail is not None
        return News(
            self.stream_id,
            max(self.tail, other.tail),
            CLOSED if CLOSED in (self.state, other.state) else OPEN,
        )


@dataclass
class Commit:
    """Checks and writes for the COMMIT script, built in the order they are applied."""

    checks: list[str] = field(default_factory=list)
    writes: list[str | bytes] = field(default_factory=list)  # bytes: a record's data
    check_count: int = 0

    def expect_path(self, path: str, stream_id: str | None) -> None:
        """The path must hold this stream (None: no stream at all)."""
        self.checks += ["P", path, stream_id or ""]
        self.check_count += 1

    def expect_version(self, stream_id: str, version: str, accessed: str | None = None) -> None:
        """The stream must still be at this version (and, if given, this accessed_at)."""
        self.checks += ["V", stream_id, version, accessed or ""]
        self.check_count += 1

    def new_id(self) -> None:
        self.writes.append("I")

    def put_meta(
        self,
        stream_id: str,
        path: str,
        version: str,
        meta_json: str,
        accessed_at: float,
        idle_seconds: float | None,
        expires_at: float | None,
    ) -> None:
        self.writes += [
            "M",
            stream_id,
            path,
            version,
            meta_json,
            repr(accessed_at),
            _optional(idle_seconds),
            _optional(expires_at),
        ]

    def update_meta(
        self, stream_id: str, version: str, meta_json: str, accessed_at: float
    ) -> None:
        """``put_meta`` for a commit that leaves the path and the expiry fields as they are
        (an append): three hash fields instead of six and the path key."""
        self.writes += ["U", stream_id, version, meta_json, repr(accessed_at)]

    def add_record(self, stream_id: str, end: Offset, data: bytes, version: str) -> None:
        self.writes += ["R", stream_id, entry_id(end), data, version]

    def trim(self, stream_id: str, max_records: int) -> None:
        self.writes += ["T", stream_id, str(max_records)]

    def put_producer(self, stream_id: str, producer_id: str, epoch: int, last_seq: int) -> None:
        self.writes += ["S", stream_id, producer_id, encode_producer(epoch, last_seq)]

    def remove(self, stream_id: str, path: str) -> None:
        self.writes += ["D", stream_id, path]

    def deadline(self, stream_id: str, deadline: float | None) -> None:
        self.writes += ["X", stream_id, _optional(deadline)]

    def announce(self, path: str, stream_id: str, tail: Offset | None, state: str) -> None:
        self.writes += ["N", path, stream_id, "-" if tail is None else str(tail), state]

    def arguments(self, prefix: str) -> Sequence[str | bytes]:
        return [prefix, str(self.check_count), *self.checks, *self.writes]


def _optional(value: float | None) -> str:
    return "" if value is None else repr(value)
