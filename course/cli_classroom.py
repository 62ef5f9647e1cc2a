"""``course classroom start``: the instructor opens a classroom on a running server.

It asks the server (``POST /v1/classrooms``) for a new room and prints what the room needs: the
join code for the projector, the line learners set (``COURSE_CLASSROOM=...``, which the join
cell of every notebook reads), a QR code of the room's join page (``/classroom/<CODE>/join``:
the same lines, to copy, for the name a learner types), and the instructor's page. The
server's ``operate`` scope is needed: ``--token``, else a token minted here with the server's
own secret (``DATA_DIR/secret.key``, the instructor runs both on one laptop), else none (a server
started with ``--open``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from course.cli_notebooks import Subcommands

__all__ = ["add_classroom_command"]

DEFAULT_URL = "http://127.0.0.1:8000"
AGENDAS = ("one-day", "two-days")


def add_classroom_command(subcommands: Subcommands) -> None:
    parser = subcommands.add_parser(
        "classroom",
        help="run a workshop: start a classroom on the course server",
        description="Start a classroom on a running course server (make serve LAN=1, or make "
        "classroom for both): prints the join code, the learners' COURSE_CLASSROOM line, a QR "
        "code of the room's join page and the instructor's page. docs/instructor.md, 'Run the "
        "room'.",
    )
    parser.set_defaults(run=lambda args: _usage(parser))
    actions = parser.add_subparsers(title="actions", metavar="ACTION")
    start = actions.add_parser(
        "start",
        help="create a classroom and print how learners join it",
        description="Create a classroom on the server at --url and print its join code, the "
        "learners' join line, a QR code of the join page and the instructor page's address.",
    )
    start.add_argument(
        "--url",
        default=None,
        help=f"the server, as learners reach it (default: {DEFAULT_URL}; with --lan, this "
        "computer's address on the local network)",
    )
    start.add_argument("--lan", action="store_true", help="the server's address on the LAN")
    start.add_argument("--port", type=int, default=8000, help="the server's port (with --lan)")
    start.add_argument("--agenda", choices=AGENDAS, default=None,
                       help="the agenda of docs/instructor.md the room's pace is measured on")
    start.add_argument("--title", default=None, help="the classroom's title, e.g. the date")
    start.add_argument("--token", default=None,
                       help="a token with the operate scope (default: minted with the server's "
                       "secret in --data-dir)")
    start.add_argument("--data-dir", type=Path, default=None,
                       help="the server's data folder, for its secret (default: the server's)")
    start.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                       help="wait up to this long for the server to answer (make classroom "
                       "starts both at once)")
    start.set_defaults(run=start_classroom)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _operate_token(data_dir: Path | None) -> str | None:
    """A short-lived instructor token minted with the local server's secret; None without one."""
    try:
        from serving.config import DATA_DIR
        from serving.tokens import TokenSigner, load_secrets
    except ImportError:  # the course package alone (no server here): use --token
        return None
    folder = data_dir or DATA_DIR
    if not (folder / "secret.key").is_file():
        return None
    signer = TokenSigner(load_secrets(folder)[0])
    return signer.mint("classrooms/*", ["operate"], ttl_seconds=600, subject="instructor")


def _server_url(args: argparse.Namespace) -> str:
    if args.url:
        return str(args.url).rstrip("/")
    if args.lan:
        from serving.lan import lan_address

        return f"http://{lan_address()}:{args.port}"
    return DEFAULT_URL


def start_classroom(args: argparse.Namespace) -> int:
    from course.classroom import _error_message, _request

    try:
        url = _server_url(args)
    except Exception as error:  # NoLanAddress: no Wi-Fi, no cable
        print(f"course classroom: {error}", file=sys.stderr)
        return 1
    token = args.token or _operate_token(args.data_dir)
    headers = {"authorization": f"Bearer {token}"} if token else {}
    body: dict[str, object] = {"agenda": args.agenda}
    if args.title:
        body["title"] = args.title
    deadline = time.monotonic() + args.wait
    reply = None
    while reply is None:
        try:
            reply = _request("POST", f"{url}/v1/classrooms", body=body, headers=headers)
        except OSError as error:
            if time.monotonic() >= deadline:
                print(
                    f"course classroom: no server answers at {url} ({error}): start it first "
                    "(make serve LAN=1), or give its address with --url.",
                    file=sys.stderr,
                )
                return 1
            time.sleep(0.5)
    if reply.status != 201 or not isinstance(reply.body, dict):
        refused = reply.status in (401, 403)
        hint = " (give a token with the operate scope: --token)" if refused else ""
        print(f"course classroom: the server refused: {_error_message(reply)}{hint}",
              file=sys.stderr)
        return 1
    room = reply.body
    join_line = f"{url}/classroom/{room['code']}"
    join_page = f"{join_line}/join"  # the server's join_url, at the address learners reach
    print(f"Classroom {room['display_code']}" + (f" · {args.title}" if args.title else ""))
    print()
    print("Learners: set this, then run the first cells of any notebook (the join cell):")
    print(f"  export COURSE_CLASSROOM={join_line}")
    print(f'  or in a notebook: classroom.join("{url}", "{room["display_code"]}", name="Ada")')
    print(f"  or open {join_page} (the QR code): these lines to copy, with their name")
    try:
        from serving.lan import qr_text

        print()
        print(qr_text(join_page), end="")
    except ImportError:  # segno comes with the server's install
        pass
    print()
    print(f"Your page (keep it to yourself: it holds your token): {room['page_url']}")
    return 0
