"""NotebookServer and follow: the server a notebook starts, its clients, its unpluggable network."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression

from course.export import export_model
from course.recipes import train_penguin_model
from serving.client import CommandError
from serving.notebook import NotebookServer, follow

BIRD = {
    "bill_length_mm": 50.2,
    "bill_depth_mm": 18.7,
    "flipper_length_mm": 198,
    "body_mass_g": 3775,
    "island": "Dream",
    "sex": "female",
}
REQUEST = {"model": "penguin-classifier", "row": BIRD}


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    models = tmp_path_factory.mktemp("models")
    train_penguin_model(models)
    return models


@pytest.fixture(scope="module")
def server(models_dir: Path) -> Iterator[NotebookServer]:
    with NotebookServer(models_dir, timeout=20) as running:
        yield running


def test_a_prediction_streams_its_explanation(server: NotebookServer) -> None:
    laptop = server.new_session(device="laptop")
    ack = laptop.send(REQUEST, agent="predict", params={"speed": 1000})
    events = list(follow(laptop, ack.run or ""))
    kinds = [event.type for event in events]
    assert kinds[:3] == ["message", "run.started", "prediction"]
    assert kinds[-1] == "run.completed" and set(kinds[3:-1]) == {"delta"}
    assert events[2].data["prediction"] == "Chinstrap"
    text = "".join(event.data["text"] for event in events if event.type == "delta")
    assert text == events[-1].data["result"]["text"]
    assert server.registry is not None and server.registry.names() == ["penguin-classifier"]


def test_an_outage_mid_answer_loses_and_repeats_nothing(server: NotebookServer) -> None:
    laptop = server.new_session(device="laptop")
    ack = laptop.send(REQUEST, agent="predict", params={"speed": 100})
    events = []
    for event in follow(laptop, ack.run or ""):
        events.append(event)
        if len(events) == 6:
            assert server.network is not None
            assert server.network.down() >= 1  # the laptop, and the clients of other tests
            time.sleep(0.3)  # the answer goes on in the server meanwhile
            server.network.up()
    offsets = [event.offset for event in events]
    assert offsets == sorted(set(offsets)), "an event came twice or out of order"
    text = "".join(event.data["text"] for event in events if event.type == "delta")
    assert text == events[-1].data["result"]["text"], "a token was lost"
    assert laptop.reconnects >= 1


def test_a_second_device_replays_the_history_and_can_stop_a_run(server: NotebookServer) -> None:
    laptop = server.new_session(device="laptop")
    first = laptop.send({"text": "one two three"}, agent="text", params={"speed": 1000})
    laptop.wait_for_answer(first.run or "")
    phone = server.join(laptop, device="phone")
    replayed = list(follow(phone, first.run or ""))
    assert [event.type for event in replayed][-1] == "run.completed"
    slow = laptop.send(REQUEST, agent="predict", params={"speed": 5})
    for event in follow(phone, slow.run or ""):
        if event.type == "delta":
            phone.cancel(slow.run or "")
    answer = laptop.wait_for_answer(slow.run or "")
    assert (answer.status, answer.error) == ("cancelled", "cancelled by phone")


def test_a_client_resumes_from_the_last_offset_it_saw(server: NotebookServer) -> None:
    tablet = server.new_session(device="tablet")
    ack = tablet.send(REQUEST, agent="predict", params={"speed": 200})
    seen = list(islice(follow(tablet, ack.run or ""), 5))
    tablet.close()
    again = server.join(tablet, device="tablet", start=seen[-1].offset)
    missed = list(follow(again, ack.run or ""))
    assert missed[0].offset > seen[-1].offset
    text = "".join(event.data["text"] for event in seen + missed if event.type == "delta")
    assert text == missed[-1].data["result"]["text"]


def test_the_page_link_opens_the_session_with_its_tokens(server: NotebookServer) -> None:
    laptop = server.new_session()
    link = server.page_link(laptop)
    assert link.startswith(f"{server.url}/#")
    fragment = parse_qs(urlsplit(link).fragment)
    assert fragment["session"] == [laptop.session]
    info = httpx.get(
        f"{server.url}/v1/sessions/{laptop.session}",
        headers={"authorization": f"Bearer {fragment['control'][0]}"},
    )
    assert info.status_code == 200 and "predict" in info.json()["agents"]
    assert httpx.get(f"{server.url}/").status_code == 200


def test_joined_clients_do_not_hold_the_tokens(server: NotebookServer) -> None:
    phone = server.join(server.new_session(), device="phone")
    with pytest.raises(ValueError, match="pass the client that new_session"):
        server.page_link(phone)
    with pytest.raises(ValueError, match="pass the client that new_session"):
        server.join(phone, device="watch")


def test_join_starts_from_an_offset_not_an_event(server: NotebookServer) -> None:
    laptop = server.new_session()
    event = laptop.next_event()
    with pytest.raises(TypeError, match=r"an offset \(a string: event\.offset\), got Event"):
        server.join(laptop, device="tablet", start=event)  # type: ignore[arg-type]
    assert server.join(laptop, device="tablet", start=event.offset).position == event.offset


def test_follow_says_why_nothing_arrives(server: NotebookServer) -> None:
    laptop = server.new_session()
    ack = laptop.send({"text": "done already"}, agent="text", params={"speed": 1000})
    laptop.wait_for_answer(ack.run or "")
    late = server.join(laptop, device="late", start="new")
    with pytest.raises(TimeoutError, match="start from an earlier offset"):
        list(follow(late, ack.run or "", timeout=0.3))


def test_a_model_exported_while_it_runs_is_waited_for(tmp_path: Path) -> None:
    train_penguin_model(tmp_path)
    with NotebookServer(tmp_path, timeout=20) as running:
        assert running.models() == ["penguin-classifier"]
        with pytest.raises(TimeoutError, match=r"still serves only \['penguin-classifier'\]"):
            running.wait_for_model("penguin-mass", timeout=0.3)
        X = pd.DataFrame({"flipper_length_mm": [180.0, 200.0, 220.0]})
        y = pd.Series([3500.0, 4200.0, 5100.0], name="body_mass_g")
        export_model(LinearRegression().fit(X, y), X, y, name="penguin-mass", models_dir=tmp_path)
        assert "penguin-mass" in running.wait_for_model("penguin-mass")


def test_start_and_stop(models_dir: Path, capfd: pytest.CaptureFixture[str]) -> None:
    server = NotebookServer(models_dir)
    with pytest.raises(RuntimeError, match=r"start it with server\.start"):
        server.new_session()
    server.start()
    with pytest.raises(RuntimeError, match="already running"):
        server.start()
    laptop = server.new_session()
    laptop.send(REQUEST, agent="predict", params={"speed": 1})  # still running at the stop
    data_dir = Path(server._temporary.name) if server._temporary else None
    assert data_dir is not None and (data_dir / "streams.db").exists()
    url = server.url
    server.stop()
    server.stop()  # twice is fine
    assert not server.running and not data_dir.exists()
    with pytest.raises(httpx.ConnectError):
        httpx.get(url)
    captured = capfd.readouterr()
    assert captured.err == "", "the server must be quiet in a notebook"


def test_a_named_data_dir_is_kept(models_dir: Path, tmp_path: Path) -> None:
    with NotebookServer(models_dir, data_dir=tmp_path) as server:
        server.new_session()
    assert (tmp_path / "streams.db").exists()


def test_no_models_no_server(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="holds no exported model: export one first"):
        NotebookServer(tmp_path).start()


CHROMIUM = Path("/usr/bin/chromium")


def test_the_page_link_shows_the_notebooks_runs_in_a_browser(server: NotebookServer) -> None:
    """Debian's Chromium, as in tests/serving/web: the page follows the notebook's session."""
    if not CHROMIUM.exists():
        pytest.skip(f"no {CHROMIUM}: this test needs Debian's chromium (apt install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install -e '.[browser]'")
    laptop = server.new_session(device="laptop")
    ack = laptop.send(REQUEST, agent="predict", params={"speed": 1000})
    laptop.wait_for_answer(ack.run or "")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(server.page_link(laptop))
            page.wait_for_selector(f'[data-run="{ack.run}"][data-status="completed"]')
            assert urlsplit(page.url).fragment == f"session={laptop.session}"  # tokens put away
            assert errors == []
        finally:
            browser.close()


def test_the_kernels_end_stops_the_server_and_leaves_nothing_behind(
    models_dir: Path, tmp_path: Path
) -> None:
    """Notebook 11 keeps its server running after Run All (the learner stops it, or not): the
    kernel's end must stop it. A real kernel starts one, with a run still writing, then shuts
    down as JupyterLab asks it to: the run is closed in the log (run.interrupted), the port
    refuses connections, and no process is left. Measured: the shutdown takes about 1 s."""
    import socket
    import sqlite3

    from jupyter_client.manager import KernelManager

    data_dir = tmp_path / "data"
    code = (
        "from serving.notebook import NotebookServer\n"
        f"server = NotebookServer({str(models_dir)!r}, data_dir={str(data_dir)!r}).start()\n"
        "laptop = server.new_session(device='laptop')\n"
        f"laptop.send({REQUEST!r}, agent='predict', params={{'speed': 1}})\n"
        "print(server.url.rsplit(':', 1)[1], server._server.url.rsplit(':', 1)[1], os.getpid())"
    )
    kernel = KernelManager(kernel_name="python3")
    kernel.start_kernel(cwd=str(tmp_path))
    printed: list[str] = []
    try:
        client = kernel.client()
        client.start_channels()
        client.wait_for_ready(60)
        client.execute_interactive(
            "import os\n" + code,
            timeout=60,
            output_hook=lambda msg: printed.append(msg["content"].get("text", "")),
        )
        client.stop_channels()
    finally:
        started = time.monotonic()
        kernel.shutdown_kernel(now=False)
        took = time.monotonic() - started
    relay_port, server_port, pid = (int(word) for word in "".join(printed).split())
    assert took < 10, f"the kernel took {took:.1f} s to shut down"
    assert not Path(f"/proc/{pid}").exists()
    for port in (relay_port, server_port):
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still answers"
    with sqlite3.connect(data_dir / "streams.db") as log:
        records = [bytes(data) for (data,) in log.execute("SELECT data FROM records")]
    assert any(b"run.interrupted" in record for record in records)


def test_only_the_operator_client_retrains_a_shared_model(models_dir: Path, tmp_path: Path) -> None:
    """A session's own tokens cannot retrain (the operate scope); the notebook, which runs the
    server, asks for an operator client and can."""
    shutil.copytree(models_dir, tmp_path / "models")
    retrain = {"model": "penguin-classifier", "dataset": "penguins", "folds": 2}
    with NotebookServer(tmp_path / "models", timeout=20) as server:
        laptop = server.new_session(device="laptop")
        with pytest.raises(CommandError, match=r"FORBIDDEN.*'operate'"):
            laptop.send(retrain, agent="retrain")
        operator = server.operator(laptop)
        ack = operator.send(retrain, agent="retrain")
        events = list(follow(operator, ack.run or "", timeout=60))
        assert events[-1].type == "run.completed", events[-1]
        assert events[-1].data["result"]["registered"] == "2"
        assert server.registry is not None
        assert server.registry.latest("penguin-classifier").version == "2"


def test_the_notebook_promotes_a_retrained_version_and_rolls_it_back(
    models_dir: Path, tmp_path: Path
) -> None:
    """Notebook 13's operator steps, one call each: a retrained version waits; promote makes it
    answer, rollback takes it back; mistakes say what to do."""
    from serving.model_log import ModelLogError

    shutil.copytree(models_dir, tmp_path / "models")
    model = "penguin-classifier"
    with NotebookServer(tmp_path / "models", timeout=20) as server:
        operator = server.operator(server.new_session())

        def answered_by() -> str:
            ack = operator.send(REQUEST, agent="predict", params={"speed": 1000})
            events = list(follow(operator, ack.run or "", timeout=60))
            return str(events[-1].data["result"]["version"])

        ack = operator.send({"model": model, "dataset": "penguins", "folds": 2}, agent="retrain")
        result = list(follow(operator, ack.run or "", timeout=60))[-1].data["result"]
        assert (result["registered"], result["live"]) == ("2", "1")
        assert server.versions(model) == {"live": "1", "latest": "2", "versions": ["1", "2"]}
        assert answered_by() == "1"
        assert server.promote(model, 2)["previous"] == "1"
        assert server.live_version(model) == "2" and answered_by() == "2"
        assert server.rollback(model)["version"] == "1"
        assert server.live_version(model) == "1" and answered_by() == "1"
        with pytest.raises(ModelLogError, match=r"NOTHING_TO_ROLL_BACK.*promote a version"):
            server.rollback(model)
        with pytest.raises(ModelLogError, match=r"MODEL_NOT_FOUND.*its versions are 1, 2"):
            server.promote(model, "7")
