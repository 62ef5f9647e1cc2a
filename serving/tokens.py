"""Signed bearer tokens: who may do what to which resource, until when.

A token is ``v1.<payload>.<signature>``: the payload is base64url JSON (resource, scopes,
subject, expiry), the signature is HMAC-SHA256 of it under the server's secret, checked in
constant time. Tokens are self-contained, so any server process with the secret can check them.
The streams layer uses the scopes ``read`` and ``write`` on stream names; later layers add their
own (e.g. ``control``) on their own resources.

Several secrets, for rotation without a logout: the first signs, every one verifies. They come
from ``$SERVING_SECRET`` as a comma list (newest first) or from ``data/secret.key``, one a line
(newest first; ``serving secret rotate`` writes a new first line and gives the previous ones an
``until=<unix time>`` after which they are ignored). A token signed with a secret that is no
longer listed is refused (401) like any forged one: removing a secret is how every token it
signed, share links included, is revoked. Verifying tries the secrets in order, newest first:
measured, a verify takes 9 µs with one secret, 9 µs for a token of the newest of three, 15 µs
for one of the oldest (a rotation's grace period), against a ~140 µs append.

A resource pattern is an exact name (``chat/42``), a prefix ending in ``*`` (``chat/*``) or
``*`` for everything.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
import stat
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

PREFIX = "v1"
SECRET_ENV = "SERVING_SECRET"
SECRET_FILE = "secret.key"
MIN_SECRET_BYTES = 16


class TokenError(Exception):
    """A token that cannot be trusted; the message says why."""


ACCESS_TOKEN_PARAMETER = "access_token"


class DuplicateTokenParameter(ValueError):
    """A request with more than one ``access_token`` query parameter: refused (400) by every
    layer, rather than each layer picking one (the streams read the first, Starlette's
    ``query_params`` the last, so one URL could be two identities)."""

    message = (
        "the request has more than one 'access_token' query parameter: send exactly one "
        "(or 'Authorization: Bearer <token>')"
    )


@dataclass(frozen=True, slots=True)
class Grant:
    """What a verified token allows."""

    resource: str
    scopes: frozenset[str]
    subject: str = ""
    expires_at: float | None = None

    def allows(self, scope: str, resource: str) -> bool:
        return scope in self.scopes and resource_matches(self.resource, resource)


def resource_matches(pattern: str, resource: str) -> bool:
    if pattern.endswith("*"):
        return resource.startswith(pattern[:-1])
    return pattern == resource


def bearer_token(authorization: str | None, access_token: str | None = None) -> str | None:
    """The token a request carries, or None: ``Authorization: Bearer <token>`` (the scheme in
    any case), else the query parameter ``access_token`` (browsers cannot set headers on a
    WebSocket or an EventSource). The one parser for every layer, so the streams and the
    sessions accept exactly the same requests."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    if access_token and access_token.strip():
        return access_token.strip()
    return None


BEARER_SUBPROTOCOL = "bearer"
"""A browser's WebSocket cannot set ``Authorization``, but it can offer subprotocols:
``new WebSocket(url, ["bearer", token])`` sends ``Sec-WebSocket-Protocol: bearer, <token>``
(a token is base64url and dots: valid there), and the server answers ``bearer``. The token
then travels in a header, which access logs and proxies do not record, not in the URL."""


def subprotocol_token(offered: Sequence[str] | None) -> str | None:
    """The token offered as a WebSocket subprotocol next to ``bearer``, or None."""
    if not offered or BEARER_SUBPROTOCOL not in offered:
        return None
    others = [value.strip() for value in offered if value.strip() != BEARER_SUBPROTOCOL]
    return others[0] if others and others[0] else None


def query_token(values: Sequence[str] | None) -> str | None:
    """The one ``access_token`` query parameter's value, None without one, and
    DuplicateTokenParameter with several (whatever the values: the rule is the same in the
    append lane, the streams and the sessions)."""
    if not values:
        return None
    if len(values) > 1:
        raise DuplicateTokenParameter(DuplicateTokenParameter.message)
    return values[0]


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenSigner:
    """Mints tokens with ``secret`` and verifies them with it or any of ``previous`` (older
    secrets kept through a rotation's grace period)."""

    def __init__(self, secret: bytes, previous: Iterable[bytes] = ()) -> None:
        ring = (secret, *previous)
        for each in ring:
            if len(each) < MIN_SECRET_BYTES:
                raise ValueError(f"the token secret must be at least {MIN_SECRET_BYTES} bytes")
        self._secret = secret
        self._ring = tuple(dict.fromkeys(ring))

    def _sign(self, payload: str, secret: bytes | None = None) -> str:
        key = self._secret if secret is None else secret
        digest = hmac.new(key, f"{PREFIX}.{payload}".encode(), hashlib.sha256).digest()
        return _b64encode(digest)

    def mint(
        self,
        resource: str,
        scopes: Iterable[str],
        *,
        ttl_seconds: float | None = None,
        subject: str = "",
        now: float | None = None,
    ) -> str:
        """A token granting ``scopes`` on ``resource``; ``ttl_seconds=None`` never expires."""
        scope_list = sorted(set(scopes))
        if not scope_list:
            raise ValueError("a token needs at least one scope")
        claims: dict[str, object] = {"res": resource, "scp": scope_list}
        if subject:
            claims["sub"] = subject
        if ttl_seconds is not None:
            claims["exp"] = int((time.time() if now is None else now) + ttl_seconds)
        payload = _b64encode(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
        return f"{PREFIX}.{payload}.{self._sign(payload)}"

    def verify(self, token: str, *, now: float | None = None) -> Grant:
        """The grant of a genuine, unexpired token; TokenError otherwise."""
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != PREFIX or not token.isascii():
            # Tokens are ASCII (base64url): anything else is refused here, since
            # hmac.compare_digest raises TypeError on non-ASCII text (a 500 with a traceback
            # for one wrong character, before this check).
            raise TokenError("malformed token: expected v1.<payload>.<signature> in ASCII")
        _, payload, signature = parts
        given = signature.encode()
        signed = (self._sign(payload, key).encode() for key in self._ring)
        if not any(hmac.compare_digest(expected, given) for expected in signed):
            raise TokenError("invalid token signature (wrong server secret, or altered token)")
        try:
            claims = json.loads(_b64decode(payload))
            grant = Grant(
                resource=str(claims["res"]),
                scopes=frozenset(str(scope) for scope in claims["scp"]),
                subject=str(claims.get("sub", "")),
                expires_at=float(claims["exp"]) if "exp" in claims else None,
            )
        except (ValueError, KeyError, TypeError, OverflowError, binascii.Error):
            raise TokenError("malformed token payload") from None
        if (
            grant.expires_at is not None
            and (time.time() if now is None else now) >= grant.expires_at
        ):
            raise TokenError("token expired; mint a new one")
        return grant


def check_scopes(scopes: Iterable[str], known: Iterable[str]) -> list[str]:
    """``scopes`` in order, without repeats, if each is one of ``known``; else ValueError with
    one line naming the unknown ones, the nearest known one, and the list to choose from.

    A token with a misspelt scope (``reed``) is valid and signed, yet every request made with
    it is refused: ``serving token`` used to mint one without a word."""
    import difflib

    valid = sorted(set(known))
    wanted = list(dict.fromkeys(scope.strip() for scope in scopes if scope.strip()))
    unknown = [scope for scope in wanted if scope not in valid]
    if not wanted:
        raise ValueError(f"name at least one scope: {', '.join(valid)} (e.g. --scope read,write)")
    if unknown:
        guesses = [difflib.get_close_matches(scope, valid, n=1) for scope in unknown]
        nearest = [
            f"{scope!r} (did you mean {guess[0]}?)" if guess else repr(scope)
            for scope, guess in zip(unknown, guesses, strict=True)
        ]
        raise ValueError(
            f"unknown scope{'s' if len(unknown) > 1 else ''} {', '.join(nearest)}: the scopes "
            f"are {', '.join(valid)} (comma-separated, e.g. --scope read,write)"
        )
    return wanted


def load_or_create_secret(data_dir: Path, environ: Mapping[str, str] = os.environ) -> bytes:
    """The server's signing secret: the first of ``load_secrets``."""
    return load_secrets(data_dir, environ)[0]


def load_secrets(
    data_dir: Path, environ: Mapping[str, str] = os.environ, *, now: float | None = None
) -> tuple[bytes, ...]:
    """The server's secrets, newest (the signing one) first: ``$SERVING_SECRET`` (a comma
    list), else the lines of ``data_dir/secret.key`` still in their grace period (the file is
    created 0600 with one new secret if missing)."""
    from_env = environ.get(SECRET_ENV)
    if from_env:
        ring = tuple(part.strip().encode() for part in from_env.split(",") if part.strip())
        for secret in ring:
            if len(secret) < MIN_SECRET_BYTES:
                raise ValueError(
                    f"each secret in {SECRET_ENV} (a comma list, newest first) must be at "
                    f"least {MIN_SECRET_BYTES} characters long"
                )
        if not ring:
            raise ValueError(f"{SECRET_ENV} names no secret: unset it, or give one")
        return ring
    path = data_dir / SECRET_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        secret = _new_secret()
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(secret + b"\n")
        return (secret,)
    lines = _read_secret_file(path)
    clock = time.time() if now is None else now
    ring = tuple(secret for secret, until in lines if until is None or until > clock)
    if not ring:
        raise ValueError(
            f"every secret in {path} is past its grace period: run 'serving secret rotate' "
            "for a new one (tokens signed before are refused)"
        )
    return ring


def _new_secret() -> bytes:
    return secrets.token_urlsafe(32).encode()


def _read_secret_file(path: Path) -> list[tuple[bytes, float | None]]:
    """(secret, until) per line of a secret file; ``until`` None for a secret in use."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise PermissionError(
            f"{path} is readable by other users (mode {mode:o}); run: chmod 600 {path}"
        )
    lines: list[tuple[bytes, float | None]] = []
    for number, line in enumerate(path.read_bytes().splitlines(), start=1):
        secret, _, rest = line.strip().partition(b" ")
        if not secret:
            continue
        until: float | None = None
        if rest.strip():
            key, _, value = rest.strip().partition(b"=")
            try:
                if key != b"until":
                    raise ValueError
                until = float(value)
            except ValueError:
                raise ValueError(
                    f"{path}, line {number}: expected '<secret>' or '<secret> until=<unix "
                    "time>' (as 'serving secret rotate' writes)"
                ) from None
        if len(secret) < MIN_SECRET_BYTES:
            raise ValueError(
                f"{path}, line {number}: a secret must be at least {MIN_SECRET_BYTES} characters"
            )
        lines.append((secret, until))
    if not lines:
        raise ValueError(f"{path} holds no secret: delete it to have a new one made")
    return lines


DEFAULT_GRACE_SECONDS = 7 * 24 * 3600.0
"""How long ``serving secret rotate`` keeps the previous secrets verifying: a week covers a
term's weekly sessions; tokens signed before and used after it are refused (401)."""


@dataclass(frozen=True, slots=True)
class Rotation:
    """What ``rotate_secret`` did: secrets kept (with their end), and how many it dropped."""

    kept: tuple[float | None, ...]
    dropped: int


def rotate_secret(
    data_dir: Path, *, grace_seconds: float = DEFAULT_GRACE_SECONDS, now: float | None = None
) -> Rotation:
    """Put a new signing secret first in ``data_dir/secret.key``; the previous ones verify
    until ``now + grace_seconds`` (or their own earlier end); ones already past it are
    dropped. Written to a temporary file and renamed, so a server starting meanwhile reads
    the old file or the new one, never half of one."""
    clock = time.time() if now is None else now
    path = data_dir / SECRET_FILE
    old = _read_secret_file(path) if path.exists() else []
    end = clock + grace_seconds
    kept = [(s, end if until is None else min(until, end)) for s, until in old]
    live = [(s, until) for s, until in kept if until > clock]
    lines = [(_new_secret(), None), *live]
    data_dir.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".new")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        for secret, until in lines:
            file.write(secret + (b"" if until is None else f" until={until:.0f}".encode()) + b"\n")
    os.replace(temporary, path)
    return Rotation(tuple(until for _, until in lines), len(old) - len(live))
