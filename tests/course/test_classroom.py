"""The learner's classroom client against the real server (``python -m serving``), through a
TCP proxy the tests cut: a queue that survives a kernel restart, offline checks delivered once
and in order, messages under the next check, a raised hand in the room; and a learner who
never joined pays nothing (no thread, no file, no networking import).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from course import checks, classroom
from course.classroom import ClassroomClient, ClassroomError
from tests.serving.faults import ThreadedFaultProxy
from tests.serving.serving_process import page_address, serving_process

REPOSITORY = Path(__file__).resolve().parents[2]


# --- the pure parts ---------------------------------------------------------------------------

def test_a_code_is_read_as_the_projector_shows_it_and_a_wrong_one_says_what_to_do():
    assert classroom.normalize_code("k7q-m4z") == "K7QM4Z"
    assert classroom.parse_classroom("http://10.0.0.5:8000/classroom/K7QM4Z") == (
        "http://10.0.0.5:8000", "K7QM4Z")
    assert classroom.parse_classroom("http://10.0.0.5:8000/ k7q-m4z") == (
        "http://10.0.0.5:8000", "K7QM4Z")
    with pytest.raises(ClassroomError, match="no 0, O, 1, I or L"):
        classroom.normalize_code("K7Q-M40")
    with pytest.raises(ClassroomError, match="names no classroom"):
        classroom.parse_classroom("10.0.0.5 8000 K7QM4Z")


def test_a_check_is_counted_for_the_exercise_of_the_notebook_it_is_in():
    assert classroom.exercise_of("stratified_split") == ("04", "04.1")
    assert classroom.exercise_of("measurements_model") == ("04", "04.2")
    # class_share is exercise 2 of notebook 03 and exercise 4 of the capstone
    assert classroom.exercise_of("class_share", "03") == ("03", "03.2")
    assert classroom.exercise_of("class_share", "12") == ("12", "12.4")
    assert classroom.exercise_of("not_a_check") is None


@pytest.mark.parametrize("folder", ["notebooks", "notebooks/learner"])
def test_every_notebook_joins_right_after_its_install_cell_with_its_own_number(folder):
    paths = sorted((REPOSITORY / folder).glob("[0-9][0-9]_*.ipynb"))
    assert len(paths) == 14
    for path in paths:
        code = [cell for cell in json.loads(path.read_text())["cells"]
                if cell["cell_type"] == "code"]
        assert [cell["id"] for cell in code[:2]] == ["install-the-kit", "join-classroom"], path
        source = "".join(code[1]["source"])
        assert source.endswith(f'classroom.join(notebook="{path.name[:2]}")'), path
        assert "Nothing else leaves your machine." in source
        assert code[1]["outputs"] == []


def test_a_check_without_a_classroom_does_no_io_and_shows_what_it_showed(tmp_path):
    """The join cell runs in every notebook: unset, it must cost a learner nothing at all."""
    script = """
import sys, threading
from course import checks
before = repr(checks.leaky_option("a")), checks.leaky_option("a")._repr_html_()
from course import classroom
classroom.join(notebook="02")
feedback = checks.leaky_option("a")
print(repr(feedback) == before[0] and feedback._repr_html_() == before[1])
print(sorted(t.name for t in threading.enumerate()))
print([m for m in ("urllib.request", "http.client", "socket") if m in sys.modules])
"""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("COURSE_")}
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=environ,
                          capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.splitlines() == ["True", "['MainThread']", "[]"], done.stderr
    assert list(tmp_path.iterdir()) == []  # no .course-classroom/, no file at all


# --- against the server -----------------------------------------------------------------------

class Room:
    """A classroom on the test server, read and written as its instructor."""

    def __init__(self, url: str, data_dir: Path) -> None:
        from serving.tokens import TokenSigner, load_secrets

        operate = TokenSigner(load_secrets(data_dir)[0]).mint("classrooms/*", ["operate"])
        created = _call("POST", f"{url}/v1/classrooms", {"title": "test"}, operate)
        self.url, self.code, self.token = url, created["code"], created["instructor_token"]

    def snapshot(self) -> dict[str, Any]:
        found: dict[str, Any] = _call("GET", f"{self.url}/v1/classrooms/{self.code}/room",
                                      None, self.token)
        return found

    def say(self, text: str, kind: str = "message", to: str | None = None) -> None:
        _call("POST", f"{self.url}/v1/classrooms/{self.code}/messages",
              {"text": text, "to": to, "kind": kind}, self.token)


def _call(method: str, url: str, body: Any, token: str) -> Any:
    request = urllib.request.Request(
        url, method=method, data=None if body is None else json.dumps(body).encode(),
        headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    folder = tmp_path_factory.mktemp("classroom-server")
    arguments = ["--port", "0", "--models", str(folder / "models"),
                 "--data-dir", str(folder / "data"),
                 "--store", f"sqlite:///{folder / 'data' / 'streams.db'}"]
    with serving_process(arguments, folder / "server.log") as printed:
        address = page_address(printed)
        yield address.split("/", 3)[0] + "//" + address.split("/", 3)[2], folder / "data"


@pytest.fixture
def room(server: tuple[str, Path]) -> Room:
    return Room(*server)


@pytest.fixture
def proxy(server: tuple[str, Path]) -> Iterator[ThreadedFaultProxy]:
    with ThreadedFaultProxy(int(server[0].rsplit(":", 1)[1])) as running:
        yield running


@pytest.fixture
def clients() -> Iterator[list[ClassroomClient]]:
    made: list[ClassroomClient] = []
    yield made
    for client in made:
        client.close(timeout=0.1)


def _client(clients: list[ClassroomClient], url: str, room: Room, folder: Path,
            **options: Any) -> ClassroomClient:
    client = ClassroomClient(url, room.code, "Ada", folder, max_backoff=0.3, **options)
    clients.append(client)
    return client.join()


def _wait(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _cell(room: Room, learner: str, exercise: str) -> dict[str, Any]:
    found: dict[str, Any] = room.snapshot()["cells"].get(learner, {}).get(exercise, {})
    return found


def test_offline_checks_are_delivered_once_in_order_when_the_network_is_back(
    room, proxy, clients, tmp_path
):
    ada = _client(clients, proxy.url, room, tmp_path)
    proxy.refuse()
    proxy.cut()
    for attempt in range(1, 6):
        ada.publish_check("stratified_split", "not_yet", f"mistake-{attempt}")
    time.sleep(1.0)  # the sender tries, fails, backs off
    assert ada.status().queued == 5
    assert proxy.refused > 0
    assert _cell(room, ada.learner, "04.1") == {}
    proxy.allow()
    assert ada.flush(timeout=15)
    cell = _cell(room, ada.learner, "04.1")
    # five check events stored once each, the last one last: its mistake is the cell's
    assert (cell["attempts"], cell["state"], cell["mistake"]) == (5, "trying", "mistake-5")
    assert "All 5 check result(s)" in str(ada.status())


def test_a_restarted_kernel_continues_the_queue_sends_the_unsent_and_never_duplicates(
    room, proxy, clients, tmp_path
):
    first = _client(clients, proxy.url, room, tmp_path)
    first.close()  # a kernel that only queues: its sender is gone
    for attempt in range(1, 4):
        first.publish_check("measurements_model", "not_yet", f"m{attempt}")
    # a batch sent, stored by the server, whose answer was lost with the kernel: the record
    # still says "pending" when the next kernel starts
    acked_path = tmp_path / f"{room.code}-{first.learner}.acked.json"
    assert first.send_once() == 3
    delivered = json.loads(acked_path.read_text())
    assert delivered["next_seq"] == 1
    acked_path.write_text(json.dumps({"delivered": 0, "next_seq": 0,
                                      "pending": {"seq": 0, "start": 0, "end": 3}}))
    first.publish_check("measurements_model", "not_yet", "m4")

    second = _client(clients, proxy.url, room, tmp_path)  # the same folder: a restart
    assert second.learner == first.learner
    second.publish_check("measurements_model", "correct", None)
    assert second.flush(timeout=15)
    cell = _cell(room, first.learner, "04.2")
    assert (cell["attempts"], cell["state"]) == (5, "passed")  # 3 once, then m4 and correct
    record = json.loads(acked_path.read_text())
    assert (record["delivered"], record["pending"]) == (5, None)
    assert record["next_seq"] in (2, 3)  # seq 0 again (a 204), then m4 and correct in 1 or 2
    queue = (tmp_path / f"{room.code}-{first.learner}.jsonl").read_text().splitlines()
    assert [json.loads(line)["attempt"] for line in queue] == [1, 2, 3, 4, 5]


def test_a_raised_hand_shows_in_the_room_and_goes_when_lowered(room, server, clients, tmp_path):
    ada = _client(clients, server[0], room, tmp_path)
    assert "Hand raised" in ada.help("stuck on 04.2")
    _wait(lambda: room.snapshot()["hands"] != [])
    hand = room.snapshot()["hands"][0]
    assert (hand["learner"], hand["name"], hand["text"]) == (ada.learner, "Ada", "stuck on 04.2")
    ada.lower_hand()
    _wait(lambda: room.snapshot()["hands"] == [])


def test_a_message_appears_once_under_the_next_check(room, server, clients, tmp_path,
                                                     monkeypatch):
    ada = _client(clients, server[0], room, tmp_path, inbox_wait=2)
    monkeypatch.setattr(classroom, "_default", ada)
    quiet = checks.leaky_option("a")  # nothing sent yet: nothing under it
    assert quiet.messages == ()
    room.say("Look at the projector, please")
    room.say("fit on X_train only", kind="hint", to=ada.learner)
    _wait(lambda: len(ada.messages()) == 2)
    feedback = checks.leaky_option("a")
    assert feedback.messages == ("From your instructor: Look at the projector, please",
                                 "A hint from your instructor: fit on X_train only")
    assert str(feedback).endswith("From your instructor: Look at the projector, please\n"
                                  "A hint from your instructor: fit on X_train only")
    assert "Look at the projector, please" in feedback._repr_html_()
    assert checks.leaky_option("a").messages == ()  # shown once
    assert [message["text"] for message in classroom.messages()] == [
        "Look at the projector, please", "fit on X_train only"]
    assert ada.flush(timeout=10)
    assert _cell(room, ada.learner, "02.2")["attempts"] == 3


def test_a_quiz_reaches_the_grid_as_the_exercise_after_its_notebooks(
    room, server, clients, tmp_path, monkeypatch
):
    """``checks.quiz("04", answers)`` publishes like a check: exercise 04.quiz, the first
    wrong question's id as the mistake, attempts counted; correct once every answer is."""
    from course.checks.build import QUIZ

    ada = _client(clients, server[0], room, tmp_path)
    monkeypatch.setattr(classroom, "_default", ada)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    right = {number: question.answer for number, question in enumerate(QUIZ.questions, 1)}
    second = QUIZ.questions[1]
    wrong_letter = sorted(second.wrong)[0]
    assert checks.quiz("04", {**right, 2: wrong_letter}).mistake == f"q2-{wrong_letter}"
    assert checks.quiz("04", ...).verdict.name == "NOT_ANSWERED"  # counts no attempt
    assert ada.flush(timeout=10)
    cell = _cell(room, ada.learner, "04.quiz")
    assert (cell["state"], cell["attempts"], cell["mistake"]) == (
        "trying", 1, f"q2-{wrong_letter}")
    snapshot = room.snapshot()
    assert snapshot["mistakes"]["04.quiz"] == [{"mistake": f"q2-{wrong_letter}", "learners": 1}]
    exercises = snapshot["exercises"]
    assert exercises.index("04.quiz") == exercises.index("04.2") + 1 == exercises.index("05.1") - 1
    assert checks.quiz("04", right).passed
    assert ada.flush(timeout=10)
    cell = _cell(room, ada.learner, "04.quiz")
    assert (cell["state"], cell["attempts"], cell["mistake"]) == ("passed", 2, None)
    queue = (tmp_path / f"{room.code}-{ada.learner}.jsonl").read_text().splitlines()
    sent = [json.loads(line) for line in queue]
    assert [(e["notebook"], e["exercise"], e["check"], e["attempt"]) for e in sent] == [
        ("04", "04.quiz", "quiz", 1), ("04", "04.quiz", "quiz", 2), ("04", "04.quiz", "quiz", 3)]


def test_joining_from_the_environment_reuses_the_stored_learner(
    room, server, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COURSE_CLASSROOM", f"{server[0]}/classroom/{room.code}")
    monkeypatch.setenv("COURSE_NAME", "Grace")
    monkeypatch.setattr(classroom, "_default", None)
    try:
        classroom.join(notebook="04")
        assert "as Grace" in capsys.readouterr().out
        first = classroom.client()
        assert first is not None and first.notebook == "04"
        monkeypatch.setattr(classroom, "_default", None)  # a new kernel
        classroom.join(notebook="03")
        second = classroom.client()
        assert second is not None and second.learner == first.learner
        names = [learner["name"] for learner in room.snapshot()["learners"]]
        assert names == ["Grace"]
    finally:
        for client in (classroom.client(), locals().get("first")):
            if client is not None:
                client.close(timeout=0.1)


def test_a_wrong_code_is_said_calmly(server, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(classroom, "_default", None)
    before = set(threading.enumerate())
    classroom.join(server[0], "AAA-AAA", "Ada", state_dir=tmp_path)
    assert capsys.readouterr().out.startswith("Not joined: CLASSROOM_NOT_FOUND")
    assert classroom.client() is None
    assert set(threading.enumerate()) <= before
    assert list(tmp_path.iterdir()) == []


def test_course_classroom_start_prints_the_code_the_join_line_and_the_page(server):
    url, data_dir = server
    done = subprocess.run(
        [str(REPOSITORY / ".venv" / "bin" / "course"), "classroom", "start", "--url", url,
         "--data-dir", str(data_dir), "--agenda", "one-day", "--title", "Monday"],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    display = lines[0].split()[1]
    assert lines[0] == f"Classroom {display} · Monday"
    code = display.replace("-", "")
    assert f"  export COURSE_CLASSROOM={url}/classroom/{code}" in lines
    assert lines[-1].startswith("Your page (keep it to yourself: it holds your token): "
                                f"{url}/classroom/{code}?access_token=")
    assert "\u2580" in done.stdout or "\u2584" in done.stdout  # the QR code's half blocks
    # the QR code opens the room's join page (the lines to copy), which the server serves
    from serving.lan import qr_text

    join_page = f"{url}/classroom/{code}/join"
    assert f"  or open {join_page} (the QR code): these lines to copy, with their name" in lines
    assert qr_text(join_page) in done.stdout
    with urllib.request.urlopen(join_page, timeout=10) as response:
        assert b"classroom-join.js" in response.read()


def test_a_broadcast_reaches_the_output_of_a_check_in_a_real_notebook_kernel(
    room, server, tmp_path, monkeypatch
):
    """The learner notebook's own join cell, in a Jupyter kernel, with COURSE_CLASSROOM set:
    it joins, and a check run after the instructor's broadcast shows it under its feedback."""
    import nbformat
    from nbclient import NotebookClient

    learner = json.loads((REPOSITORY / "notebooks/learner/02_prepare.ipynb").read_text())
    join_cell = next(cell for cell in learner["cells"] if cell.get("id") == "join-classroom")
    room.say("Break in five minutes")
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("".join(join_cell["source"])),
        nbformat.v4.new_code_cell(
            "import time\n"
            "deadline = time.monotonic() + 20\n"
            "while not classroom.messages() and time.monotonic() < deadline:\n"
            "    time.sleep(0.1)"
        ),
        nbformat.v4.new_code_cell('from course import checks\nchecks.leaky_option("a")'),
    ]
    monkeypatch.setenv("COURSE_CLASSROOM", f"{server[0]}/classroom/{room.code}")
    monkeypatch.setenv("COURSE_NAME", "Hedy")
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    joined = nb.cells[0].outputs[0]["text"]
    assert joined.startswith(f"Joined classroom {room.code[:3]}-{room.code[3:]} as Hedy.")
    shown = nb.cells[2].outputs[0]["data"]
    assert shown["text/plain"].endswith("From your instructor: Break in five minutes")
    assert "From your instructor: Break in five minutes" in shown["text/html"]
    assert (tmp_path / ".course-classroom").is_dir()  # the kernel's folder: the notebook's
    learners = room.snapshot()["learners"]
    assert [learner["name"] for learner in learners] == ["Hedy"]
    _wait(lambda: "02.2" in room.snapshot()["cells"].get(learners[0]["learner"], {}))


def test_a_check_shows_its_feedback_even_when_the_queue_cannot_be_written(tmp_path, monkeypatch):
    ada = ClassroomClient("http://127.0.0.1:9", "K7QM4Z", "Ada", tmp_path)
    ada.learner = "l-000000000000"  # joined earlier; its queue is now unwritable
    (tmp_path / "K7QM4Z-l-000000000000.jsonl").mkdir()
    monkeypatch.setattr(classroom, "_default", ada)
    feedback = checks.leaky_option("a")
    assert feedback.title == "Not yet" and feedback.messages == ()
    assert ada.last_error.startswith("could not queue this check (IsADirectoryError")
