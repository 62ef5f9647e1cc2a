"""The ``serving`` command: run the server, or mint a token for it.

serving [serve] [--host H] [--port P] [--store URL] [--instance NAME] [--models DIR]
                [--train-default-model] [--open] [--long-poll-timeout S] [--lease-seconds S]
                [--no-append-lane] [--lan [ADDRESS]] [--session-ttl DURATION]
serving token --scope read,write --stream NAME [--ttl SECONDS]
serving gc [--dry-run] [--store URL] [--data-dir DIR] [--session-ttl DURATION]
serving secret rotate [--grace-days DAYS] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import re
import socket
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from serving.config import DATA_DIR, DEFAULT_STORE_URL, MODELS_DIR, ServerConfig
from serving.lane_switch import LANE_ENV
from serving.sessions.settings import SessionSettings
from serving.streams.protocol import Limits
from serving.streams.stores import STORE_URLS
from serving.tokens import (
    DEFAULT_GRACE_SECONDS,
    SECRET_ENV,
    TokenSigner,
    check_scopes,
    load_or_create_secret,
    load_secrets,
    rotate_secret,
)

if TYPE_CHECKING:
    from serving.models import ModelRegistry

SHARED_STORES = ("redis://", "rediss://", "unix://")
"""Store URLs that several server processes share, each under its own instance name."""
TOKEN_SCOPES = ("control", "create", "operate", "read", "write")
"""Every scope the server checks: serving.streams.http's READ and WRITE, and
serving.sessions.commands.Scope (tests/serving/test_cli.py holds them together)."""
OPEN_WARNING = (
    "WARNING: --open: no token is needed under /v1/stream/; anyone who can reach {url} can "
    "read, write and delete every stream, and that includes the web browsers on this "
    "computer: a page of another site may try. Such requests are refused unless you allow "
    "that site with --cors-origin. Use --open only for local experiments and tests."
)


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def default_instance(store_url: str, port: int) -> str:
    """``main`` for a store of one process; for a shared store, ``<host name>-<port>``: stable
    across restarts, and different for every process of a machine (they listen on different
    ports). Processes on machines with the same host name must be given --instance."""
    if not store_url.startswith(SHARED_STORES):
        return SessionSettings.instance
    name = re.sub(r"[^A-Za-z0-9._-]", "-", socket.gethostname())
    return f"{name[:57]}-{port}"


def _serve_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="serving",
        description="Run the durable streaming server. "
        "Use 'serving token --help' to mint access tokens.",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="interface to listen on (default: %(default)s)"
    )
    parser.add_argument("--port", type=int, default=8000, help="TCP port (default: %(default)s)")
    parser.add_argument(
        "--store",
        default=DEFAULT_STORE_URL,
        metavar="URL",
        help=f"where streams are kept: {STORE_URLS} (default: %(default)s)",
    )
    parser.add_argument(
        "--instance",
        metavar="NAME",
        help="this process's name on a shared store (Redis): it names the ledger of its open "
        "runs and its lease, so it must differ between processes and stay the same when one "
        "restarts; 1 to 64 letters, digits or . _ - (default: 'main', or HOSTNAME-PORT with a "
        "redis:// store)",
    )
    parser.add_argument(
        "--lease-seconds",
        type=_positive,
        default=SessionSettings.lease_seconds,
        metavar="SECONDS",
        help="when a process dies, a surviving one ends its open runs with run.interrupted "
        "within about twice this (at least 1; default: %(default)s)",
    )
    parser.add_argument(
        "--session-ttl",
        type=_duration,
        default=SessionSettings.session_ttl_seconds,
        metavar="DURATION",
        help="a session nobody reads or writes for this long expires, with its uploads and "
        "batch results (3d, 12h, 90m, 600 seconds; 'none': never; default: 3d). "
        "'serving gc --dry-run' lists what has expired",
    )
    parser.add_argument(
        "--models",
        type=Path,
        default=MODELS_DIR,
        metavar="DIR",
        help="the exported models to serve (models/<name>/<version>/, as course.export writes "
        "them); a tampered or unsafe one stops the start (default: %(default)s)",
    )
    parser.add_argument(
        "--train-default-model",
        action="store_true",
        help="first train and export the course's default model (penguin species) into "
        "--models, if no version of it is there yet (what 'make serve' does)",
    )
    parser.add_argument(
        "--open",
        action="store_true",
        help="serve /v1/stream/ without tokens (prints a warning; for local experiments and "
        "the conformance suite)",
    )
    parser.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="a web origin (https://app.example) whose pages may use /v1/stream/ from a "
        "browser; repeat for several (default: any, with tokens; with --open, only this "
        "server's own page)",
    )
    parser.add_argument(
        "--long-poll-timeout",
        type=_positive,
        default=30.0,
        metavar="SECONDS",
        help="how long a live=long-poll read waits for new data before answering 204 "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=DATA_DIR,
        metavar="DIR",
        help=f"where the token secret is kept unless ${SECRET_ENV} is set (default: %(default)s)",
    )
    parser.add_argument(
        "--max-request-bytes",
        type=int,
        default=Limits().max_request_bytes,
        metavar="N",
        help="largest request body accepted; larger ones get 413 (default: %(default)s)",
    )
    parser.add_argument(
        "--max-message-bytes",
        type=int,
        default=Limits().max_message_bytes,
        metavar="N",
        help="largest single message (one JSON message, or a whole binary/text body); "
        "larger ones get 413 (default: %(default)s)",
    )
    parser.add_argument(
        "--no-append-lane",
        action="store_true",
        help="serve plain appends through uvicorn's ASGI path too, not the append lane "
        f"(same answers, a little more CPU; also {LANE_ENV}=0). Without it the lane still "
        "steps aside, with a warning, if uvicorn's internals are not the ones it builds on",
    )
    parser.add_argument(
        "--access-log",
        action="store_true",
        help="log one line per request (tokens in URLs are redacted: docs/PROTOCOL.md)",
    )
    parser.add_argument(
        "--lan",
        nargs="?",
        const="auto",
        metavar="ADDRESS",
        help="serve your local network: listen on every interface, create a session and print "
        "its link with this computer's network address and a QR code for a phone's camera "
        "(ADDRESS: the address to put in the link, if the one found is not the phone's network)",
    )
    return parser


def _duration(text: str) -> float | None:
    from serving.retention import parse_duration

    try:
        return parse_duration(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _gc_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="serving gc",
        description="Remove the sessions nobody used for --session-ttl, with their uploads and "
        "batch results, and interrupted .part files (a running server does this by itself "
        "every 10 minutes; this is for a stopped server, or to see what would go).",
    )
    parser.add_argument("--dry-run", action="store_true", help="only list what would be removed")
    parser.add_argument("--store", default=DEFAULT_STORE_URL, metavar="URL")
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR, metavar="DIR")
    parser.add_argument(
        "--session-ttl",
        type=_duration,
        default=SessionSettings.session_ttl_seconds,
        metavar="DURATION",
        help="as the server's (default: 3d)",
    )
    return parser


def collect_garbage(argv: Sequence[str]) -> int:
    """``serving gc``: what serving.retention's sweep does, once, from the command line."""
    import asyncio

    from serving.retention import Retention
    from serving.startup import store_in_use
    from serving.streams import open_store
    from serving.streams.errors import StreamError
    from serving.streams.sqlite import StoreInUse

    args = _gc_parser().parse_args(argv)
    if args.session_ttl is None:
        print("serving gc: --session-ttl none: nothing expires", file=sys.stderr)
        return 0
    try:
        store = open_store(args.store)
    except StoreInUse as error:
        print(
            f"serving gc: {store_in_use(error.path)}\nA running server removes what expired "
            "by itself every 10 minutes; stop it to run 'serving gc' now.",
            file=sys.stderr,
        )
        return 1
    except ValueError as error:
        print(f"serving gc: {error}", file=sys.stderr)
        return 2

    async def sweep() -> int:
        retention = Retention(store, ttl_seconds=args.session_ttl, data_dir=args.data_dir)
        try:
            collected = await retention.collect(dry_run=args.dry_run)
        except StreamError as error:
            print(f"serving gc: {error.message}", file=sys.stderr)
            return 1
        finally:
            await store.aclose()
        for session_id in collected.sessions:
            print(f"session {session_id}")
        for path in collected.files:
            print(f"file    {path}")
        print(collected.summary(), file=sys.stderr)
        return 0

    return asyncio.run(sweep())


def _token_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="serving token",
        description="Mint a bearer token signed with this server's secret "
        f"(${SECRET_ENV}, or DATA_DIR/secret.key).",
    )
    parser.add_argument(
        "--scope",
        default="read",
        help=f"comma-separated scopes among {', '.join(TOKEN_SCOPES)}: read and write on "
        "streams and sessions, control (cancel, steer) and create (sessions/*) on sessions, "
        "operate (retrain a shared model: --stream 'sessions/*'; promote or roll back a "
        "model's live version: --stream 'models/*'; open a workshop's classroom, as course "
        "classroom start --token does: --scope operate --stream 'classrooms/*'); "
        "e.g. read or read,write (default: %(default)s)",
    )
    parser.add_argument(
        "--stream",
        required=True,
        metavar="NAME",
        help="stream name after /v1/stream/; 'chat/*' for a prefix, '*' for all streams",
    )
    parser.add_argument(
        "--ttl", type=_positive, default=None, metavar="SECONDS", help="expire after this long"
    )
    parser.add_argument("--subject", default="", help="who the token is for (informational)")
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR, metavar="DIR")
    return parser


def mint_token(argv: Sequence[str]) -> int:
    args = _token_parser().parse_args(argv)
    try:
        scopes = check_scopes(args.scope.split(","), TOKEN_SCOPES)
    except ValueError as error:
        print(f"serving token: {error}", file=sys.stderr)
        return 2
    signer = TokenSigner(load_or_create_secret(args.data_dir))  # the newest secret signs
    print(signer.mint(args.stream, scopes, ttl_seconds=args.ttl, subject=args.subject))
    return 0


def _secret_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="serving secret",
        description="Rotate the token secret in DATA_DIR/secret.key: a new secret signs from the "
        "next start on; the previous ones still check tokens for a grace period, so nobody is "
        "logged out (docs/STREAMS.md, 'Rotating the secret').",
    )
    parser.add_argument("action", choices=["rotate"])
    parser.add_argument(
        "--grace-days",
        type=float,
        default=DEFAULT_GRACE_SECONDS / 86400,
        metavar="DAYS",
        help="how long tokens signed with the previous secrets keep working; 0 revokes them at "
        "the next start (default: %(default)g)",
    )
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR, metavar="DIR")
    return parser


def secret_command(argv: Sequence[str], environ: Mapping[str, str] | None = None) -> int:
    import os
    import time

    args = _secret_parser().parse_args(argv)
    if (os.environ if environ is None else environ).get(SECRET_ENV):
        print(
            f"serving secret: ${SECRET_ENV} is set, so the server does not read "
            f"{args.data_dir / 'secret.key'}: rotate by putting a new secret first in the comma "
            f"list ({SECRET_ENV}=NEW,OLD), restarting, and dropping OLD after the grace period",
            file=sys.stderr,
        )
        return 2
    if args.grace_days < 0:
        print("serving secret: --grace-days must be 0 or more", file=sys.stderr)
        return 2
    try:
        rotation = rotate_secret(args.data_dir, grace_seconds=args.grace_days * 86400)
    except (ValueError, PermissionError) as error:
        print(f"serving secret: {error}", file=sys.stderr)
        return 2
    ends = [until for until in rotation.kept[1:] if until is not None]
    print(
        f"New signing secret in {args.data_dir / 'secret.key'}; {len(ends)} previous secret(s) "
        + (
            f"check tokens until {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(max(ends)))}"
            if ends
            else "kept"
        )
        + (f", {rotation.dropped} past their grace period removed" if rotation.dropped else "")
        + ". Restart every server process to use it.",
    )
    return 0


def serve(argv: Sequence[str]) -> int:
    args = _serve_parser().parse_args(argv)
    lan = None
    if args.lan is not None:
        from serving.lan import NoLanAddress, lan_address

        try:
            lan = lan_address() if args.lan == "auto" else args.lan
        except NoLanAddress as error:
            print(f"serving: {error}", file=sys.stderr)
            return 2
        if args.host == "127.0.0.1":  # the default: a LAN address must be reachable
            args.host = "0.0.0.0"
    from serving.startup import port_problem, quiet_tensorflow, redis_problem, store_in_use

    quiet_tensorflow()  # before any Keras model loads (the user's own settings win)
    problem = port_problem(args.host, args.port)  # before a default model trains for nothing
    if problem is not None:
        print(f"serving: {problem}", file=sys.stderr)
        return 1
    from serving.app import create_app
    from serving.launch import ListeningServer, ensure_default_model
    from serving.uvicorn_config import uvicorn_config

    try:
        ring = () if args.open else load_secrets(args.data_dir)
    except ValueError as error:
        print(f"serving: {error}", file=sys.stderr)
        return 2
    secret = ring[0] if ring else None
    try:
        config = ServerConfig(
            host=args.host,
            port=args.port,
            store_url=args.store,
            open_access=args.open,
            secret=secret,
            previous_secrets=ring[1:],
            data_dir=args.data_dir,
            long_poll_timeout=args.long_poll_timeout,
            cors_origins=tuple(args.cors_origin),
            limits=Limits(args.max_request_bytes, args.max_message_bytes),
            sessions=SessionSettings(
                instance=args.instance or default_instance(args.store, args.port),
                lease_seconds=args.lease_seconds,
                session_ttl_seconds=args.session_ttl,
            ),
            append_lane=not args.no_append_lane,
            access_log=args.access_log,
        )
        if args.train_default_model:
            ensure_default_model(args.models)
        models = _load_models(args.models)
        app = create_app(config, models=models)
        served = uvicorn_config(app, config)  # with the append lane, if it can run
    except ValueError as error:
        from serving.streams.sqlite import StoreInUse

        if isinstance(error, StoreInUse):
            print(f"serving: {store_in_use(error.path)}", file=sys.stderr)
            return 1
        print(f"serving: {error}", file=sys.stderr)
        return 2
    problem = redis_problem(args.store) if args.store.startswith(SHARED_STORES) else None
    if problem is not None:
        print(f"serving: {problem}", file=sys.stderr)
        return 1
    url = f"http://{args.host}:{args.port}"
    if args.open:
        print(OPEN_WARNING.format(url=url), file=sys.stderr)
    else:
        print(
            f"Streams at {url}/v1/stream/ need a bearer token. Mint one with:\n"
            "  serving token --scope read,write --stream 'NAME'",
            file=sys.stderr,
        )
    on_listening = None
    if lan is not None:
        app.state.lan_address = lan  # the page's share links and QR code use it (web/page.py)
        on_listening = _lan_announcer(app, lan)
    server = ListeningServer(served, on_listening)  # prints the page's address once it listens
    try:
        server.run()
    except KeyboardInterrupt:  # Ctrl-C: uvicorn has shut down cleanly, then re-raised it
        pass
    except SystemExit:  # uvicorn could not start, and logged why (the checks above passed)
        print(f"serving: could not start on {args.host}:{args.port} (why: above)", file=sys.stderr)
        return 1
    print("Stopped.", file=sys.stderr)
    return 0


def _lan_announcer(app: Any, address: str) -> Callable[[int], Awaitable[None]]:
    """What --lan prints once the server listens: a new session's link and its QR code."""

    async def announce(port: int) -> None:
        from serving.lan import qr_text, share_link
        from serving.sessions import Scope
        from serving.sessions.session import PREFIX

        sessions = app.state.sessions
        token = None
        if sessions.signer is not None:
            token = sessions.signer.mint(PREFIX + "*", [Scope.CREATE], ttl_seconds=60)
        created = await sessions.create(token)
        link = share_link(address, port, created.id, created.tokens)
        print(
            f"On your network: {link.split('#')[0]}\n"
            "Scan this with a phone's camera (on the same Wi-Fi) to open this session, or open "
            f"the link on any device; anyone with it can ask, stop and steer:\n{link}\n"
            f"{qr_text(link)}",
            flush=True,
        )

    return announce


def _load_models(models_dir: Path) -> ModelRegistry | None:
    """The registry of ``models_dir``, or None when it holds no artifact (then scikit-learn is
    not even imported). ValueError names every artifact refused."""
    if not any(models_dir.glob("*/*/card.json")):
        print(
            f"No exported models in {models_dir}: serving sessions only (export one with "
            "course.export.export_model, or course.recipes.train_penguin_model).",
            file=sys.stderr,
        )
        return None
    from serving.models import ModelRegistry, RegistryError
    from serving.models.served import tensorflow_note

    try:
        registry = ModelRegistry.open(models_dir)
    except RegistryError as error:
        raise ValueError(str(error)) from None
    served = ", ".join(f"{model.name} (version {model.version})" for model in registry)
    print(f"Models from {models_dir}: {served}", file=sys.stderr)
    note = tensorflow_note(registry)
    if note is not None:
        print(f"Note: {note}.", file=sys.stderr)
    return registry


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["token"]:
        return mint_token(arguments[1:])
    if arguments[:1] == ["gc"]:
        return collect_garbage(arguments[1:])
    if arguments[:1] == ["secret"]:
        return secret_command(arguments[1:])
    if arguments[:1] == ["serve"]:
        arguments = arguments[1:]
    return serve(arguments)
