"""A classroom seen from the learner's seat: learner notebook 04 in a real JupyterLab 4, in
Chromium, joined to a real ``python -m serving``; the instructor's broadcast (over HTTP, as the
instructor's page posts it) shows under the learner's next check, in the page the learner sees,
and the learner's check reaches the room's grid.

tests/course/test_classroom.py proves the same path in a kernel without a browser, and
tests/serving/web/test_classroom_page.py the instructor's side; this is the learner's output as
JupyterLab renders it. The notebook is a fresh learner build in a folder of its own
(``classroom/``): its own kernel, its own ``.course-classroom`` state, and the other lab tests'
notebook 04 (same session-scoped JupyterLab) never joins a classroom. Its kernel is shut down at
the end, so no classroom client outlives the test.

Measured on a 2-core machine: 28 s alone (JupyterLab's start, the server's, Run All of
notebook 04, five more cell runs); tests/lab as a whole 65-82 s.
"""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from course import exercises
from tests.course.test_classroom import Room
from tests.lab.conftest import ROOT, Lab
from tests.lab.notebook_page import FEEDBACK, NotebookPage
from tests.serving.serving_process import page_address, serving_process

pytestmark = pytest.mark.slow

NB04 = "04_split_and_build.ipynb"
FOLDER = "classroom"
MESSAGES = ".jp-OutputArea-output .course-classroom-messages"
SAID = "Look at the projector: stratify=y keeps the species' shares"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """``python -m serving`` on a free port: its address and its data folder (for the token)."""
    folder = tmp_path_factory.mktemp("classroom-lab-server")
    arguments = ["--port", "0", "--models", str(folder / "models"),
                 "--data-dir", str(folder / "data"),
                 "--store", f"sqlite:///{folder / 'data' / 'streams.db'}"]
    with serving_process(arguments, folder / "server.log") as printed:
        scheme, _, host = page_address(printed).split("/", 3)[:3]
        yield f"{scheme}//{host}", folder / "data"


@pytest.fixture
def notebook(lab: Lab, browser: Any) -> Iterator[NotebookPage]:
    """Learner notebook 04, built fresh into ``classroom/`` and opened; its kernel shut down
    afterwards (the session DELETEd, as the Running panel's "Shut Down" does)."""
    exercises.build([ROOT / "notebooks" / NB04], lab.root / FOLDER)
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.set_default_timeout(60_000)
    page = context.new_page()
    try:
        yield NotebookPage(page, lab.root / FOLDER / NB04).open(lab.page(f"{FOLDER}/{NB04}"))
    finally:
        context.close()
        sessions = lab.api("sessions")
        assert isinstance(sessions, list)
        for session in sessions:
            if session["path"] == f"{FOLDER}/{NB04}":
                request = urllib.request.Request(
                    f"{lab.url}/api/sessions/{session['id']}", method="DELETE",
                    headers={"Authorization": f"token {lab.token}"},
                )
                urllib.request.urlopen(request, timeout=20).close()


def _until(predicate: Any, timeout: float, what: str) -> Any:
    """Poll ``predicate`` until it returns something true; fail saying ``what`` after
    ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = predicate()
        if found:
            return found
        assert time.monotonic() < deadline, f"{what} did not happen in {timeout} s"
        time.sleep(0.2)


def test_a_broadcast_reaches_the_learner_under_the_next_check_in_jupyterlab(
    server: tuple[str, Path], notebook: NotebookPage
) -> None:
    room = Room(*server)
    join = notebook.find("classroom.join(")
    exercise = notebook.find("X_train_80, y_train_80, test_set_20 = ...")
    check = notebook.find("checks.stratified_split(")
    helper = notebook.find('checks.hint("04.1")')
    assert join < exercise < check < helper

    # the join cell as the learner fills it in from the projector (url, code, their name)
    notebook.edit(join, "from course import classroom\n\n"
                        f'classroom.join("{server[0]}", "{room.code}", name="Ada", notebook="04")')
    notebook.run_all()
    joined = notebook.outputs(join).first.inner_text()
    assert joined.startswith(f"Joined classroom {room.code[:3]}-{room.code[3:]} as Ada."), joined
    learners = _until(lambda: room.snapshot()["learners"], 20, "Ada's join reaching the room")
    assert [learner["name"] for learner in learners] == ["Ada"]
    ada = learners[0]["learner"]

    # a first, wrong try: the room sees Ada trying, with the mistake's id
    call = "split_and_seal(X, y, test_size={size}, stratify=y, random_state=0)"
    notebook.edit(exercise, "X_train_80, y_train_80, test_set_20 = " + call.format(size=20))
    notebook.run(exercise)
    notebook.run(check)
    notebook.cell(check).locator(f'{FEEDBACK}[data-verdict="NOT_YET"]').wait_for(timeout=30_000)
    assert notebook.cell(check).locator(MESSAGES).count() == 0, "nothing was said yet"
    trying = _until(lambda: room.snapshot()["cells"].get(ada, {}).get("04.1"), 20,
                    "Ada's first check of 04.1 reaching the room")
    assert trying["state"] == "trying" and trying["mistake"], trying

    # the instructor says something to the whole room; the kernel's inbox receives it (a
    # bounded wait in a cell, so the next check's output is deterministic)
    room.say(SAID)
    notebook.edit(helper, "import time\n"
                          "deadline = time.monotonic() + 30\n"
                          "while not classroom.messages() and time.monotonic() < deadline:\n"
                          "    time.sleep(0.1)\n"
                          "print(len(classroom.messages()), 'message(s)')")
    notebook.run(helper, timeout=60)
    assert notebook.outputs(helper).first.inner_text().strip() == "1 message(s)"

    # the right answer: the check's output shows the verdict, and under it the message
    notebook.edit(exercise, "X_train_80, y_train_80, test_set_20 = " + call.format(size=0.2))
    notebook.run(exercise)
    notebook.run(check)
    box = notebook.cell(check).locator(f'{FEEDBACK}[data-verdict="CORRECT"]')
    box.wait_for(timeout=30_000)
    said = notebook.cell(check).locator(MESSAGES)
    assert said.count() == 1
    assert said.inner_text().strip() == f"From your instructor: {SAID}"
    assert said.is_visible() and said.get_attribute("role") == "status"
    assert notebook.errors() == []

    # and the room's grid has Ada's cell for 04.1: passed, two counted attempts
    passed = _until(
        lambda: (room.snapshot()["cells"].get(ada, {}).get("04.1", {}).get("state") == "passed"
                 and room.snapshot()["cells"][ada]["04.1"]),
        20, "Ada's passing check of 04.1 reaching the room",
    )
    assert (passed["state"], passed["attempts"], passed["mistake"]) == ("passed", 2, None)

    # shown once: the next check shows the verdict alone
    notebook.run(check)
    notebook.cell(check).locator(f'{FEEDBACK}[data-verdict="CORRECT"]').wait_for(timeout=30_000)
    assert notebook.cell(check).locator(MESSAGES).count() == 0
