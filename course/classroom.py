"""The learner's side of a classroom: join, publish each check, raise a hand, read messages.

``classroom.join()`` in a notebook's first cells joins the workshop the instructor started
(``course classroom start``), from ``$COURSE_CLASSROOM`` (``http://10.0.0.5:8000/classroom/K7QM4Z``
or ``http://10.0.0.5:8000 K7QM4Z``) and ``$COURSE_NAME``; with neither set it does nothing and
prints nothing, so a learner who does not join works exactly as before and nbval sees nothing.
Once joined, every ``@check`` enqueues one event (notebook, exercise, check, verdict, the
mistake's id, attempt, time): nothing else leaves the machine, not the learner's code or data.

Why a queue on disk: room Wi-Fi drops. A check never waits for the network: it appends one JSON
line to ``.course-classroom/<CODE>-<learner>.jsonl`` and returns (0.3-0.6 ms, with 1 or 1,000
events queued; a joined check took 0.9 ms more in all). A daemon thread
sends the queue in order, up to 100 events a request, as an *idempotent producer* of the
Durable Streams protocol (Producer-Id = learner id, a fixed epoch, Producer-Seq = batch
number). Before a batch is sent, its seq and its range of the queue are written to the acked
record (atomically: write a temporary file, then ``os.replace``); a retry after a timeout, a
dropped network or a kernel restart sends exactly that batch again, so the server answers 204
(a duplicate: it has it) and nothing is stored twice, or 200 and it is stored once. Retries back
off from 0.5 s, doubling, to ``max_backoff`` (15 s): a room of 40 laptops coming back together
does not hammer the server. Every file write is small and flushed, not fsynced: a kernel
restart (the case to survive) keeps what the OS has; a power cut may lose the last check.

Several notebooks open at once run several kernels in the same working folder, all joined as
the same learner (joining again with the same code reuses the stored learner): they share the
queue, and an exclusive ``flock`` on ``<CODE>-<learner>.lock`` around every read-modify-write of
the files (append an event, claim a batch, record a delivery) keeps their producer seqs one
sequence. (Windows has no ``fcntl``: there one kernel at a time should be joined.)

The instructor's messages come by long-poll of the learner's inbox (one request held up to 25 s,
so a message arrives within a round trip), are kept in ``<CODE>-<learner>.inbox.jsonl``, and are
shown under the next check's feedback ("From your instructor: ...").

``ClassroomClient`` is the whole client for one learner and one folder (the 40-learner test runs
many in one process); the module functions use one default instance, the kernel's.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the checks' types; importing them here would cost a learner who never joins
    from course.checks._feedback import Feedback

__all__ = [
    "CODE_ALPHABET",
    "DEFAULT_STATE_DIR",
    "ClassroomClient",
    "ClassroomError",
    "Status",
    "after_check",
    "client",
    "exercise_of",
    "help",
    "join",
    "lower_hand",
    "messages",
    "normalize_code",
    "parse_classroom",
    "status",
]

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
DEFAULT_STATE_DIR = Path(".course-classroom")
ENV_CLASSROOM = "COURSE_CLASSROOM"
ENV_NAME = "COURSE_NAME"
BATCH_SIZE = 100
"""The most events one request carries (the server's limit): a learner back from an hour
offline with 300 checks queued catches up in three requests."""
REQUEST_TIMEOUT = 10.0
INBOX_WAIT = 25
"""Seconds the server holds an inbox request open when there is no message (its limit is 30)."""
IDLE_POLL = 1.0
"""How often a sender with nothing queued looks for events another kernel appended."""


class ClassroomError(Exception):
    """Something the learner must fix to join (a malformed code, an unknown classroom)."""


def normalize_code(code: str) -> str:
    """``"k7q-m4z"`` -> ``"K7QM4Z"``; ClassroomError naming what is wrong otherwise."""
    cleaned = code.strip().upper().replace("-", "").replace(" ", "")
    if len(cleaned) != 6 or any(letter not in CODE_ALPHABET for letter in cleaned):
        raise ClassroomError(
            f"{code!r} is not a classroom code: it has 6 letters and digits, like K7Q-M4Z (there "
            "is no 0, O, 1, I or L in a code). Copy it again from the projector."
        )
    return cleaned


_PATH_CODE = re.compile(r"^(?P<base>https?://[^/\s]+(?:/.*?)?)/classroom/(?P<code>[^/\s?#]+)")


def parse_classroom(text: str) -> tuple[str, str]:
    """``$COURSE_CLASSROOM`` -> (server base URL, code): a classroom URL, or "URL CODE"."""
    words = text.split()
    if len(words) == 2:
        return words[0].rstrip("/"), normalize_code(words[1])
    match = _PATH_CODE.match(text.strip()) if len(words) == 1 else None
    if match is None:
        raise ClassroomError(
            f"{ENV_CLASSROOM}={text!r} names no classroom: write the line the instructor's "
            "screen shows, e.g. http://10.0.0.5:8000/classroom/K7QM4Z"
        )
    return match["base"].rstrip("/"), normalize_code(match["code"])


# --- which exercise a check belongs to ------------------------------------------------------

_CHECK_CALL = re.compile(r"\bchecks\.(\w+)\(")


@cache
def _check_map() -> dict[str, tuple[tuple[str, str], ...]]:
    """check name -> ((notebook, exercise id), ...) in notebook order, from the solution
    notebooks' check cells: the check cell after exercise k of notebook 04 is exercise 04.k.

    Read once per kernel, on the first check after joining (14 notebooks, about 30 ms)."""
    from course import exercises, files

    found: dict[str, list[tuple[str, str]]] = {}
    for path in sorted(files.notebooks_dir().glob("[0-9][0-9]_*.ipynb")):
        notebook = exercises.notebook_id(path)
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        number = 0
        for cell in cells:
            tags = cell.get("metadata", {}).get("tags", [])
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            if cell["cell_type"] == "code" and exercises.SOLUTION_TAG in tags:
                number += 1
            elif cell["cell_type"] == "code" and exercises.CHECK_TAG in tags and number:
                for name in _CHECK_CALL.findall(source):
                    if name not in ("quiz", "hint", "solution"):
                        found.setdefault(name, []).append((notebook, f"{notebook}.{number}"))
    return {name: tuple(places) for name, places in found.items()}


def _session_notebook() -> str | None:
    """The notebook this kernel runs, as Jupyter Server tells it ($JPY_SESSION_NAME), or None."""
    path = os.environ.get("JPY_SESSION_NAME", "")
    head = Path(path).name.split("_", 1)[0] if path else ""
    return head if len(head) == 2 and head.isdigit() else None


def exercise_of(check: str, notebook: str | None = None) -> tuple[str, str] | None:
    """(notebook, exercise) of a check: several notebooks use one check (``class_share`` is in
    03 and 12), so the kernel's notebook decides; None for a check no notebook calls."""
    places = _check_map().get(check, ())
    for wanted in (notebook, _session_notebook()):
        for place in places:
            if place[0] == wanted:
                return place
    return places[0] if places else None


# --- files ----------------------------------------------------------------------------------

def _write_atomic(path: Path, data: Mapping[str, Any]) -> None:
    """Replace ``path`` with ``data`` as JSON: readers see the old or the new file, never half."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    temporary.write_text(json.dumps(data), encoding="utf-8")
    os.replace(temporary, path)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _read_lines(path: Path) -> list[dict[str, Any]]:
    """The complete JSON lines of ``path``; a last line cut short by a crash is left out."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    lines = text.split("\n")
    found = []
    for line in lines[:-1]:  # the text after the last newline is incomplete (or empty)
        with contextlib.suppress(ValueError):
            found.append(json.loads(line))
    return found


class _Lines:
    """A JSONL file read incrementally: each ``refresh`` parses only the lines appended since
    (by this kernel or another), so a check stays as fast with 1,000 queued as with one
    (reading the whole queue again each time cost 8 ms a check at 500 lines)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines: list[dict[str, Any]] = []
        self.offset = 0

    def refresh(self) -> list[dict[str, Any]]:
        try:
            with self.path.open("rb") as file:
                file.seek(self.offset)
                data = file.read()
        except FileNotFoundError:
            return self.lines
        end = data.rfind(b"\n") + 1  # what follows the last newline is not complete yet
        for line in data[:end].split(b"\n")[:-1]:
            with contextlib.suppress(ValueError):
                self.lines.append(json.loads(line))
        self.offset += end
        return self.lines


def _append_line(path: Path, value: Mapping[str, Any]) -> None:
    with path.open("a+b") as file:
        file.seek(0, os.SEEK_END)
        if file.tell():
            file.seek(-1, os.SEEK_END)
            if file.read(1) != b"\n":  # a line cut short by a crash: end it, it is skipped
                file.write(b"\n")
        file.write(json.dumps(value).encode() + b"\n")


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock between the kernels (and threads) sharing a learner's folder."""
    try:
        import fcntl
    except ImportError:  # Windows: one joined kernel at a time
        yield
        return
    with path.open("a") as file:
        fcntl.flock(file.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(file.fileno(), fcntl.LOCK_UN)


# --- HTTP (urllib, imported on first use) ---------------------------------------------------

@dataclass(frozen=True)
class _Reply:
    status: int
    body: Any


def _request(
    method: str,
    url: str,
    *,
    body: Any = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = REQUEST_TIMEOUT,
) -> _Reply:
    """One HTTP request; an error status is a reply, a network failure raises OSError.

    A reply cut short (the Wi-Fi dropping mid-body: http.client.IncompleteRead, or a broken
    status line) is a network failure too, not a crash of the sender or inbox thread.
    """
    import http.client
    import urllib.error
    import urllib.request

    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("accept", "application/json")
    if data is not None:
        request.add_header("content-type", "application/json")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
    except http.client.HTTPException as error:
        raise ConnectionError(f"the reply from {url} was cut short ({error!r})") from error
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = None
    return _Reply(status, parsed)


def _error_message(reply: _Reply) -> str:
    error = reply.body.get("error") if isinstance(reply.body, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return f"{error.get('code', reply.status)}: {error['message']}"
    return f"HTTP {reply.status}"


# --- the client -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Status:
    """What ``classroom.status()`` says: joined as whom, what is waiting, the last delivery."""

    joined: bool
    code: str = ""
    name: str = ""
    learner: str = ""
    queued: int = 0
    delivered: int = 0
    last_delivery: float | None = None
    last_error: str = ""
    page_url: str = ""

    def __str__(self) -> str:
        if not self.joined:
            return (
                f"Not in a classroom: set {ENV_CLASSROOM} (the line on the instructor's screen) "
                "and run the notebook's join cell, or call classroom.join(url, code, name)."
            )
        code = f"{self.code[:3]}-{self.code[3:]}"
        lines = [f"In classroom {code} as {self.name} ({self.learner})."]
        if self.queued:
            lines.append(f"{self.queued} check result(s) waiting to be sent.")
        else:
            lines.append(f"All {self.delivered} check result(s) and hands sent.")
        if self.last_delivery is not None:
            ago = max(0, round(time.time() - self.last_delivery))
            lines.append(f"Last delivery {ago} s ago.")
        if self.last_error:
            lines.append(f"Last problem: {self.last_error} (retrying; your work is kept).")
        if self.page_url:
            lines.append(f"Your page (messages, live): {self.page_url}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)


class ClassroomClient:
    """One learner in one classroom, with its files in ``state_dir``: see the module docstring.

    The constructor only remembers; ``join()`` registers (or reuses the stored learner) and
    starts the sender and inbox threads; ``close()`` stops them (the files stay).
    """

    def __init__(
        self,
        url: str,
        code: str,
        name: str,
        state_dir: Path | str = DEFAULT_STATE_DIR,
        *,
        notebook: str | None = None,
        max_backoff: float = 15.0,
        inbox_wait: int = INBOX_WAIT,
    ) -> None:
        self.url = url.rstrip("/")
        self.code = normalize_code(code)
        self.name = name.strip()
        self.state_dir = Path(state_dir)
        self.notebook = notebook
        self.max_backoff = max_backoff
        self.inbox_wait = inbox_wait
        self.learner = ""
        self.token = ""
        self.epoch = 0
        self.page_url = ""
        self.last_delivery: float | None = None
        self.last_error = ""
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []
        self._attempts: dict[str, int] = {}
        self._counted = 0  # queue lines already counted into _attempts
        self._queue: _Lines | None = None

    # files of this learner
    def _path(self, suffix: str) -> Path:
        return self.state_dir / f"{self.code}-{self.learner}{suffix}"

    @property
    def _credentials(self) -> Path:
        return self.state_dir / f"{self.code}.json"

    def _queued(self) -> list[dict[str, Any]]:
        """The queue's events, oldest first (call with the lock held to see a consistent end)."""
        if self._queue is None:
            self._queue = _Lines(self._path(".jsonl"))
        return self._queue.refresh()

    @property
    def joined(self) -> bool:
        return bool(self.learner)

    def join(self) -> ClassroomClient:
        """Join as ``name`` (or as the learner stored for this code); start sending."""
        stored = _read_json(self._credentials)
        if stored.get("url") == self.url and stored.get("learner") and stored.get("token"):
            self.learner, self.token = str(stored["learner"]), str(stored["token"])
            self.name, self.page_url = str(stored["name"]), str(stored.get("page_url", ""))
            self.epoch = int(stored.get("epoch", 0))
        else:
            reply = _request(
                "POST", f"{self.url}/v1/classrooms/{self.code}/learners", body={"name": self.name}
            )
            if reply.status != 201 or not isinstance(reply.body, dict):
                raise ClassroomError(_error_message(reply))
            self.learner, self.token = str(reply.body["learner"]), str(reply.body["token"])
            self.name, self.page_url = str(reply.body["name"]), str(reply.body.get("page_url", ""))
            self.state_dir.mkdir(parents=True, exist_ok=True)
            record = {"url": self.url, "code": self.code, "learner": self.learner,
                      "name": self.name, "token": self.token, "epoch": self.epoch,
                      "page_url": self.page_url}
            _write_atomic(self._credentials, record)
            with contextlib.suppress(OSError):
                os.chmod(self._credentials, 0o600)  # the token lets anyone write as this learner
        self._start()
        return self

    def _start(self) -> None:
        self._stop.clear()
        for target, role in ((self._send_loop, "sender"), (self._inbox_loop, "inbox")):
            thread = threading.Thread(
                target=target, name=f"classroom-{role}-{self.learner}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def close(self, timeout: float = 2.0) -> None:
        """Stop the threads (what a kernel's death does); queued events stay on disk."""
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout if thread.name.startswith("classroom-sender") else 0.01)
        self._threads = []

    # --- publishing ---
    def _enqueue(self, event: dict[str, Any]) -> None:
        queue = self._path(".jsonl")
        self.state_dir.mkdir(parents=True, exist_ok=True)  # deleted while joined: start again
        with _locked(self._path(".lock")):
            _append_line(queue, event)
        self._wake.set()

    def publish_check(
        self,
        check: str,
        verdict: str,
        mistake: str | None = None,
        *,
        notebook: str | None = None,
        exercise: str | None = None,
    ) -> dict[str, Any] | None:
        """Enqueue one check event; the attempt counts this learner's events for the exercise
        (from the queue file, so a restart or another kernel continues the count)."""
        if not self.joined:
            return None
        if exercise is None or notebook is None:
            place = exercise_of(check, notebook or self.notebook)
            if place is None:
                return None  # a check no notebook calls: not an exercise of the grid
            notebook, exercise = place
        queue = self._path(".jsonl")
        self.state_dir.mkdir(parents=True, exist_ok=True)  # deleted while joined: start again
        with _locked(self._path(".lock")):
            lines = self._queued()
            for line in lines[self._counted:]:
                if line.get("type") == "check":
                    key = str(line.get("exercise"))
                    self._attempts[key] = self._attempts.get(key, 0) + 1
            self._counted = len(lines) + 1
            attempt = self._attempts.get(exercise, 0) + 1
            self._attempts[exercise] = attempt
            event = {"type": "check", "notebook": notebook, "exercise": exercise,
                     "check": check, "verdict": verdict, "mistake": mistake,
                     "attempt": attempt, "at": round(time.time(), 3)}
            _append_line(queue, event)
        self._wake.set()
        return event

    def help(self, text: str = "", *, done: bool = False) -> str:
        """Raise a hand with ``text`` (what you are stuck on); ``done=True`` lowers it."""
        if not self.joined:
            return str(Status(joined=False))
        text = str(text)[:200]
        self._enqueue({"type": "hand", "raised": not done, "text": "" if done else text,
                       "at": round(time.time(), 3)})
        if done:
            return "Hand lowered."
        return "Hand raised: your instructor sees it now" + (f" ({text!r})." if text else ".")

    def lower_hand(self) -> str:
        return self.help(done=True)

    # --- sending ---
    def _backoff(self, failures: int) -> float:
        ceiling = min(self.max_backoff, 0.5 * 2 ** min(failures, 10))
        return random.uniform(ceiling / 2, ceiling)  # jitter: a room reconnecting spreads out

    def _send_loop(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                sent = self.send_once()
            except OSError as error:  # the network is down, the server away: try again later
                self.last_error = f"cannot reach {self.url} ({error})"
                sent = None
            except Exception as error:  # a damaged record: say so in status(), keep trying
                self.last_error = f"{type(error).__name__}: {error}"
                sent = None
            if sent is None:
                failures += 1
                self._stop.wait(self._backoff(failures))
                continue
            failures = 0
            if sent == 0:
                self._wake.wait(IDLE_POLL)
                self._wake.clear()

    def send_once(self) -> int | None:
        """Send the next batch: its event count (0: nothing queued), or None when the server
        refused it; OSError when it could not be reached. The batch's seq and range are
        recorded before sending, so a retry (by this or any kernel) resends exactly it."""
        acked_path = self._path(".acked.json")
        with _locked(self._path(".lock")):
            acked = _read_json(acked_path)
            delivered = int(acked.get("delivered", 0))
            pending = acked.get("pending")
            lines = self._queued()
            if pending is None:
                if delivered >= len(lines):
                    return 0
                pending = {"seq": int(acked.get("next_seq", 0)), "start": delivered,
                           "end": min(len(lines), delivered + BATCH_SIZE)}
                _write_atomic(acked_path, {**acked, "delivered": delivered, "pending": pending})
            batch = lines[pending["start"]:pending["end"]]
            headers = {"authorization": f"Bearer {self.token}", "producer-id": self.learner,
                       "producer-epoch": str(self.epoch), "producer-seq": str(pending["seq"])}
            reply = _request("POST", f"{self.url}/v1/classrooms/{self.code}/events",
                             body=batch, headers=headers)
            if reply.status not in (200, 204):  # 204: the server had it (a retry): delivered
                self.last_error = _error_message(reply)
                return None
            now = time.time()
            _write_atomic(acked_path, {"delivered": pending["end"], "next_seq": pending["seq"] + 1,
                                       "pending": None, "last_delivery": now})
        self.last_delivery, self.last_error = now, ""
        return len(batch)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything queued is delivered (tests, the end of a session)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.status().queued == 0:
                return True
            self._wake.set()
            time.sleep(0.05)
        return False

    # --- inbox ---
    def _inbox_loop(self) -> None:
        failures = 0
        while not self._stop.is_set():
            known = _read_lines(self._path(".inbox.jsonl"))
            after = known[-1]["next"] if known else None
            query = f"wait={self.inbox_wait}"
            if after is not None:
                from urllib.parse import quote

                query += f"&after={quote(str(after), safe='')}"
            try:
                reply = _request(
                    "GET", f"{self.url}/v1/classrooms/{self.code}/inbox?{query}",
                    headers={"authorization": f"Bearer {self.token}"},
                    timeout=self.inbox_wait + REQUEST_TIMEOUT,
                )
            except OSError:
                reply = None
            if reply is None or reply.status != 200 or not isinstance(reply.body, dict):
                failures += 1
                self._stop.wait(self._backoff(failures))
                continue
            failures = 0
            self._keep_messages(reply.body.get("messages", []), reply.body.get("next"))

    def _keep_messages(self, received: list[dict[str, Any]], next_offset: Any) -> None:
        inbox = self._path(".inbox.jsonl")
        with _locked(self._path(".lock")):
            seen = {str(line.get("offset")) for line in _read_lines(inbox)}
            for message in received:
                if str(message.get("offset")) not in seen:
                    _append_line(inbox, {**message, "next": next_offset})
                    seen.add(str(message.get("offset")))

    def messages(self) -> list[dict[str, Any]]:
        """Every message the instructor sent this learner (to all, or to them), oldest first."""
        if not self.joined:
            return []
        return [
            {key: value for key, value in line.items() if key != "next"}
            for line in _read_lines(self._path(".inbox.jsonl"))
        ]

    def unshown_messages(self) -> list[str]:
        """The messages not yet shown under a check, as lines to show; marks them shown."""
        shown_path = self._path(".shown.json")
        with _locked(self._path(".lock")):
            received = _read_lines(self._path(".inbox.jsonl"))
            shown = int(_read_json(shown_path).get("shown", 0))
            if shown >= len(received):
                return []
            _write_atomic(shown_path, {"shown": len(received)})
        return [_as_line(message) for message in received[shown:]]

    def status(self) -> Status:
        if not self.joined:
            return Status(joined=False)
        acked = _read_json(self._path(".acked.json"))
        delivered = int(acked.get("delivered", 0))
        with _locked(self._path(".lock")):
            queued = len(self._queued()) - delivered
        last = acked.get("last_delivery")
        return Status(
            joined=True, code=self.code, name=self.name, learner=self.learner, queued=queued,
            delivered=delivered, last_delivery=float(last) if last is not None else None,
            last_error=self.last_error, page_url=self.page_url,
        )

    # --- the check hook ---
    def after_check(
        self, check: str, feedback: Feedback, place: tuple[str, str] | None = None
    ) -> Feedback:
        """Publish ``feedback``'s verdict; return it with the messages not yet shown under it.
        ``place``: (notebook, exercise) when the check's call names it (``checks.quiz("04",
        ...)`` is ``04.quiz``); else the exercise is where the notebooks call the check."""
        import dataclasses

        verdict = {"CORRECT": "correct", "NOT_YET": "not_yet"}.get(
            feedback.verdict.name, "not_answered"
        )
        notebook, exercise = place if place is not None else (None, None)
        try:
            self.publish_check(
                check,
                verdict,
                getattr(feedback, "mistake", None),
                notebook=notebook,
                exercise=exercise,
            )
            lines = self.unshown_messages()
        except Exception as error:  # a check never shows a traceback: not even the classroom's
            self.last_error = f"could not queue this check ({type(error).__name__}: {error})"
            return feedback
        if not lines or not hasattr(feedback, "messages"):
            return feedback
        return dataclasses.replace(feedback, messages=(*feedback.messages, *lines))


def _as_line(message: Mapping[str, Any]) -> str:
    hint = message.get("kind") == "hint"
    origin = "A hint from your instructor" if hint else "From your instructor"
    return f"{origin}: {message.get('text', '')}"


# --- the kernel's classroom: module functions over one default client -----------------------

_default: ClassroomClient | None = None


def join(
    url: str | None = None,
    code: str | None = None,
    name: str | None = None,
    *,
    notebook: str | None = None,
    state_dir: Path | str = DEFAULT_STATE_DIR,
) -> None:
    """Join a classroom; with nothing given and ``$COURSE_CLASSROOM`` unset, do nothing at all.

    ``notebook`` ("04") is the notebook this cell is in: the join cell passes it, so a check
    used by two notebooks is counted for the right one. Returns nothing (a notebook cell ending
    with it shows only what it prints); ``client()`` is the joined client.
    """
    global _default
    try:
        if url is None and code is None:
            configured = os.environ.get(ENV_CLASSROOM, "").strip()
            if not configured:
                return  # not in a classroom: no file, no thread, no output
            url, code = parse_classroom(configured)
        elif url is not None and code is None:
            url, code = parse_classroom(url)
        if url is None or code is None:
            raise ClassroomError("give the server's address and the code: join(url, code)")
        code = normalize_code(code)
        if _default is not None and _default.code == code and _default.url == url.rstrip("/"):
            _default.notebook = notebook or _default.notebook
            return
        name = name or os.environ.get(ENV_NAME, "").strip() or _login_name()
        client = ClassroomClient(url, code, name, state_dir, notebook=notebook)
        client.join()
    except OSError as error:
        print(
            f"Could not reach the classroom at {url} ({error}). Your work goes on as usual; run "
            "this cell again once the Wi-Fi is back to join."
        )
        return
    except ClassroomError as error:
        print(f"Not joined: {error}")
        return
    if _default is not None:
        _default.close()
    _default = client
    display = f"{client.code[:3]}-{client.code[3:]}"
    print(
        f"Joined classroom {display} as {client.name}. Each check you run sends its result "
        "(notebook, exercise, passed or not, the mistake's id, attempt, time) to your "
        "instructor; nothing else leaves this machine."
    )


def client() -> ClassroomClient | None:
    """This kernel's classroom client, once ``join`` succeeded; None before."""
    return _default


def _login_name() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "learner"


def help(text: str = "", *, done: bool = False) -> str:
    """Raise your hand: ``classroom.help("stuck on 04.2")``; ``help(done=True)`` lowers it."""
    return _default.help(text, done=done) if _default else str(Status(joined=False))


def lower_hand() -> str:
    return help(done=True)


def messages() -> list[dict[str, Any]]:
    """Every message your instructor sent you (or the whole room), oldest first."""
    return _default.messages() if _default else []


def status() -> Status:
    return _default.status() if _default else Status(joined=False)


def after_check(
    check: str, feedback: Feedback, place: tuple[str, str] | None = None
) -> Feedback:
    """The check hook (``@check`` calls it): nothing at all unless this kernel joined."""
    if _default is None:
        return feedback
    return _default.after_check(check, feedback, place)

