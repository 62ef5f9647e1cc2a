"""Signed tokens: genuine ones grant exactly what they say; anything else is refused."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from serving.tokens import (
    SECRET_ENV,
    Grant,
    TokenError,
    TokenSigner,
    bearer_token,
    check_scopes,
    load_or_create_secret,
    resource_matches,
)

SECRET = b"0123456789abcdef-secret"


def test_round_trip_grants_the_scopes_on_the_resource() -> None:
    signer = TokenSigner(SECRET)
    token = signer.mint("chat/42", ["write", "read"], ttl_seconds=60, subject="ana", now=1000)
    grant = signer.verify(token, now=1030)
    assert grant == Grant("chat/42", frozenset({"read", "write"}), "ana", 1060.0)
    assert grant.allows("read", "chat/42")
    assert not grant.allows("control", "chat/42")
    assert not grant.allows("read", "chat/43")


def test_expired_token_is_refused() -> None:
    signer = TokenSigner(SECRET)
    token = signer.mint("s", ["read"], ttl_seconds=10, now=1000)
    with pytest.raises(TokenError, match="expired"):
        signer.verify(token, now=1010)


def test_tampered_or_foreign_tokens_are_refused() -> None:
    token = TokenSigner(SECRET).mint("s", ["read"])
    prefix, payload, signature = token.split(".")
    other = TokenSigner(b"another-secret-0123456").mint("*", ["read", "write"])
    forged_payload = other.split(".")[1]
    for candidate in (
        f"{prefix}.{forged_payload}.{signature}",
        other,
        f"{prefix}.{payload}.{signature[:-2]}AA",
        "v2." + payload + "." + signature,
        "garbage",
    ):
        with pytest.raises(TokenError):
            TokenSigner(SECRET).verify(candidate)


def test_resource_patterns() -> None:
    assert resource_matches("*", "anything/at/all")
    assert resource_matches("chat/*", "chat/1") and not resource_matches("chat/*", "chats")
    assert resource_matches("a", "a") and not resource_matches("a", "a/b")


def test_short_secrets_and_empty_scopes_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 16 bytes"):
        TokenSigner(b"short")
    with pytest.raises(ValueError, match="scope"):
        TokenSigner(SECRET).mint("s", [])


def test_secret_is_created_once_with_owner_only_permissions(tmp_path: Path) -> None:
    first = load_or_create_secret(tmp_path, environ={})
    assert len(first) >= 32
    assert stat.S_IMODE((tmp_path / "secret.key").stat().st_mode) == 0o600
    assert load_or_create_secret(tmp_path, environ={}) == first


def test_secret_from_the_environment_wins(tmp_path: Path) -> None:
    assert load_or_create_secret(tmp_path, environ={SECRET_ENV: "x" * 20}) == b"x" * 20
    assert not (tmp_path / "secret.key").exists()
    with pytest.raises(ValueError, match=SECRET_ENV):
        load_or_create_secret(tmp_path, environ={SECRET_ENV: "short"})


def test_a_secret_file_others_can_read_is_refused(tmp_path: Path) -> None:
    load_or_create_secret(tmp_path, environ={})
    (tmp_path / "secret.key").chmod(0o644)
    with pytest.raises(PermissionError, match="chmod 600"):
        load_or_create_secret(tmp_path, environ={})


@pytest.mark.parametrize(
    ("authorization", "access_token", "expected"),
    [
        ("Bearer abc", None, "abc"),
        ("bearer abc", None, "abc"),
        ("  BEARER   abc  ", None, "abc"),
        ("Bearer abc", "xyz", "abc"),  # the header wins
        ("Basic dXNlcjpwdw==", "xyz", "xyz"),  # another scheme: look in the query
        (None, "xyz", "xyz"),
        (None, " xyz ", "xyz"),
        ("Bearer", None, None),
        ("Bearer    ", None, None),
        ("abc", None, None),  # a bare token is not a bearer token
        ("", "", None),
        (None, "   ", None),
        (None, None, None),
    ],
)
def test_bearer_token_reads_the_header_then_the_query(
    authorization: str | None, access_token: str | None, expected: str | None
) -> None:
    assert bearer_token(authorization, access_token) == expected


def test_check_scopes_keeps_known_scopes_in_order_and_names_every_unknown_one() -> None:
    known = ("read", "write", "control")
    assert check_scopes([" write", "read", "write", ""], known) == ["write", "read"]
    with pytest.raises(ValueError) as refused:
        check_scopes(["raed", "xyz", "read"], known)
    assert str(refused.value) == (
        "unknown scopes 'raed' (did you mean read?), 'xyz': the scopes are control, read, "
        "write (comma-separated, e.g. --scope read,write)"
    )
    with pytest.raises(ValueError, match="name at least one scope: control, read, write"):
        check_scopes([" ", ""], known)
