"""Signed tokens: genuine ones grant exactly what they say; anything else is refused."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from serving.tokens import (
    SECRET_ENV,
    DuplicateTokenParameter,
    Grant,
    TokenError,
    TokenSigner,
    bearer_token,
    check_scopes,
    load_or_create_secret,
    load_secrets,
    query_token,
    resource_matches,
    rotate_secret,
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


def test_the_newest_secret_signs_and_every_listed_one_verifies() -> None:
    old, new = b"o" * 20, b"n" * 20
    before = TokenSigner(old).mint("s", ["read"])
    ring = TokenSigner(new, [old])
    after = ring.mint("s", ["read"])
    assert ring.verify(before).allows("read", "s")  # nobody logged out by the rotation
    assert TokenSigner(new).verify(after).allows("read", "s")  # signed with the newest
    with pytest.raises(TokenError, match="signature"):
        TokenSigner(new).verify(before)  # the old secret removed: its tokens are refused


def test_the_environment_gives_a_comma_list_newest_first(tmp_path: Path) -> None:
    environ = {SECRET_ENV: f"{'n' * 20}, {'o' * 20}"}
    assert load_secrets(tmp_path, environ=environ) == (b"n" * 20, b"o" * 20)
    assert load_or_create_secret(tmp_path, environ=environ) == b"n" * 20
    with pytest.raises(ValueError, match="comma list"):
        load_secrets(tmp_path, environ={SECRET_ENV: f"{'n' * 20},short"})


def test_rotation_keeps_the_previous_secret_for_its_grace_period(tmp_path: Path) -> None:
    first = load_or_create_secret(tmp_path, environ={})
    rotation = rotate_secret(tmp_path, grace_seconds=100, now=1000)
    assert rotation.kept == (None, 1100) and rotation.dropped == 0
    assert stat.S_IMODE((tmp_path / "secret.key").stat().st_mode) == 0o600
    new, old = load_secrets(tmp_path, environ={}, now=1099)
    assert old == first and new != first
    assert load_secrets(tmp_path, environ={}, now=1100) == (new,)  # the grace period is over
    again = rotate_secret(tmp_path, grace_seconds=100, now=1200)  # drops the expired one
    assert again.dropped == 1 and again.kept == (None, 1300)
    assert load_secrets(tmp_path, environ={}, now=1200)[1] == new


def test_a_secret_file_line_that_is_not_a_secret_says_what_is_expected(tmp_path: Path) -> None:
    load_or_create_secret(tmp_path, environ={})
    with (tmp_path / "secret.key").open("a") as file:
        file.write("x" * 20 + " retire=soon\n")
    with pytest.raises(ValueError, match="line 2: expected"):
        load_secrets(tmp_path, environ={})


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


# --- fuzz: the parser refuses anything but a genuine token, and only with TokenError ----------

_GENUINE = TokenSigner(SECRET).mint("sessions/s", ["read"], subject="ana")


def _mutations() -> st.SearchStrategy[str]:
    """Genuine tokens with one part replaced, characters spliced in, or cut short."""
    prefix, payload, signature = _GENUINE.split(".")
    part = st.text(max_size=60) | st.text(alphabet=st.characters(codec="ascii"), max_size=60)
    return st.one_of(
        part.map(lambda text: f"{prefix}.{payload}.{text}"),
        part.map(lambda text: f"{prefix}.{text}.{signature}"),
        part.map(lambda text: f"{text}.{payload}.{signature}"),
        st.tuples(st.integers(0, len(_GENUINE)), st.text(min_size=1, max_size=3)).map(
            lambda cut: _GENUINE[: cut[0]] + cut[1] + _GENUINE[cut[0] :]
        ),
        st.integers(0, len(_GENUINE) - 1).map(lambda end: _GENUINE[:end]),
    )


@settings(max_examples=300, deadline=None)
@given(st.text() | st.text(alphabet=st.characters(codec="ascii")) | _mutations())
def test_the_parser_refuses_any_other_text_with_a_token_error(text: str) -> None:
    """Arbitrary text (any Unicode, surrogates aside: HTTP cannot carry them) is either the
    genuine token or refused with TokenError: never TypeError (hmac.compare_digest on
    non-ASCII text), never UnicodeError, never a grant it does not carry."""
    signer = TokenSigner(SECRET)
    try:
        grant = signer.verify(text)
    except TokenError:
        return
    assert text == _GENUINE and grant.resource == "sessions/s"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=20), max_size=4))
def test_query_token_takes_one_parameter_and_refuses_several(values: list[str]) -> None:
    if len(values) > 1:
        with pytest.raises(DuplicateTokenParameter, match="more than one 'access_token'"):
            query_token(values)
    else:
        assert query_token(values) == (values[0] if values else None)
