import importlib.metadata
import importlib.util
import shutil
import socket
import sys

import pytest

from course import datasets, doctor
from course.doctor import Finding, Status


def test_python_version():
    assert doctor.check_python((3, 11, 4)).status is Status.OK
    old = doctor.check_python((3, 9, 18))
    assert old.status is Status.PROBLEM
    assert "3.9.18 is too old" in old.detail
    assert "make setup" in old.fix


def test_the_kits_own_requirements_are_met_here():
    (finding,) = doctor.check_packages()
    assert finding.status is Status.OK, finding
    for name in ("numpy", "scikit-learn", "nbval", "ipykernel"):
        assert f"{name} " in finding.detail


def test_missing_and_outdated_packages_say_how_to_fix_them():
    missing, outdated, others = doctor.check_packages(
        ["surely-not-an-installed-package-xyz", "numpy<1.0", "numpy>=1.0"]
    )
    assert missing.status is Status.PROBLEM
    assert "surely-not-an-installed-package-xyz is not installed" in missing.detail
    assert "pip install -e" in missing.fix
    assert outdated.status is Status.PROBLEM
    assert "the course needs numpy<1.0" in outdated.detail
    assert "pip install 'numpy<1.0'" in outdated.fix
    assert others.status is Status.OK
    assert others.detail.startswith("packages installed in supported versions: numpy ")


def test_an_invalid_requirement_is_a_programming_error():
    with pytest.raises(ValueError, match="Invalid requirement"):
        doctor.check_packages(["numpy>=>1"])


def test_a_taken_port_is_named_with_its_user_and_a_fix():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        taken = server.getsockname()[1]
        (finding,) = doctor.check_ports({taken: "the course server"})
    assert finding.status is Status.PROBLEM
    assert f"port {taken}" in finding.detail and "the course server" in finding.detail
    assert f"lsof -i :{taken}" in finding.fix


def test_a_free_port_is_ok():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    (finding,) = doctor.check_ports({free: "JupyterLab"})
    assert finding.status is Status.OK


def test_shipped_datasets_are_verified():
    findings = doctor.check_datasets()
    assert {finding.check for finding in findings} == {f"dataset {n}" for n in datasets.names()}
    assert all(finding.status is Status.OK for finding in findings)


def test_a_corrupted_dataset_is_reported_with_the_restore_command(tmp_path, monkeypatch):
    for path in datasets.datasets_dir().glob("penguins.*"):
        shutil.copy(path, tmp_path)
    with open(tmp_path / "penguins.csv", "a") as csv:
        csv.write("tampered\n")
    monkeypatch.setenv(datasets.DATASETS_DIR_ENV, str(tmp_path))
    (finding,) = doctor.check_datasets()
    assert finding.status is Status.PROBLEM
    assert "git checkout -- datasets/penguins.csv" in finding.detail


def test_no_datasets_folder_is_reported(tmp_path, monkeypatch):
    monkeypatch.setenv(datasets.DATASETS_DIR_ENV, str(tmp_path / "missing"))
    (finding,) = doctor.check_datasets()
    assert finding.status is Status.PROBLEM and "does not exist" in finding.detail


TENSORFLOW_NAMES = ("tensorflow-cpu", "tensorflow")


@pytest.fixture
def tensorflow_installed(monkeypatch):
    """The doctor sees a TensorFlow distribution, installed or not: the tests that use this
    replace the probe that would import it, so they run without the tf extra too."""
    real = importlib.metadata.distribution

    def distribution(name):
        return object() if name in TENSORFLOW_NAMES else real(name)

    monkeypatch.setattr(doctor.importlib.metadata, "distribution", distribution)


@pytest.mark.slow
@pytest.mark.skipif(  # not importorskip: the doctor imports TensorFlow in a child, not here
    importlib.util.find_spec("tensorflow") is None,
    reason="TensorFlow is not installed: pip install -e '.[tf]'",
)
def test_tensorflow_runs_here():
    finding = doctor.check_tensorflow()
    assert finding.status is Status.OK, finding
    assert finding.detail.startswith("TensorFlow 2.")


def test_a_missing_tensorflow_says_what_to_install(monkeypatch):
    real = importlib.metadata.distribution

    def distribution(name):
        if name in TENSORFLOW_NAMES:
            raise importlib.metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(doctor.importlib.metadata, "distribution", distribution)
    finding = doctor.check_tensorflow()
    assert finding.status is Status.PROBLEM
    assert "not installed, so notebook 09" in finding.detail
    assert "'.[test,tf]'" in finding.fix


def test_a_crashing_tensorflow_is_reported_not_raised(monkeypatch, tensorflow_installed):
    monkeypatch.setattr(doctor, "_TENSORFLOW_PROBE", "import sys; sys.exit('ImportError: boom')")
    finding = doctor.check_tensorflow()
    assert finding.status is Status.PROBLEM
    assert "does not run: ImportError: boom" in finding.detail
    assert "--force-reinstall" in finding.fix


def test_a_slow_tensorflow_is_a_warning(monkeypatch, tensorflow_installed):
    monkeypatch.setattr(doctor, "_TENSORFLOW_PROBE", "import time; time.sleep(5)")
    finding = doctor.check_tensorflow(timeout=0.5)
    assert finding.status is Status.WARNING


def test_report_lists_each_check_with_its_fix_and_a_summary():
    text = doctor.report(
        [
            Finding("python", Status.OK, "Python 3.11.4"),
            Finding("port 8000", Status.PROBLEM, "port 8000 is taken.", "stop it."),
            Finding("tensorflow", Status.WARNING, "slow.", "wait."),
        ]
    )
    assert text.splitlines() == [
        "[ok  ] Python 3.11.4",
        "[FAIL] port 8000 is taken.",
        "       fix: stop it.",
        "[warn] slow.",
        "       fix: wait.",
        "",
        "1 problem(s), 1 warning(s): see the fixes above.",
    ]
    assert "ready for the course" in doctor.report([Finding("python", Status.OK, "ok")])


def test_examine_runs_every_check_in_order_without_tensorflow():
    findings = doctor.examine(tensorflow=False)
    checks = [finding.check for finding in findings]
    assert checks[0] == "python"
    assert "tensorflow" not in checks
    assert checks.index("port 8000") > checks.index("jupyterlab") > checks.index("packages")
    assert sys.version_info >= (3, 11)


def test_the_kits_own_server_on_its_port_is_fine(tmp_path):
    from serving.background import BackgroundServer
    from serving.config import ServerConfig

    config = ServerConfig(store_url="memory://", open_access=True, data_dir=tmp_path)
    with BackgroundServer(config) as server:
        port = int(server.url.rstrip("/").rsplit(":", 1)[1])
        (finding,) = doctor.check_ports({port: "the course server"})
    assert finding == Finding(
        f"port {port}",
        Status.OK,
        f"port {port}: the kit's server is already running there (that's fine)",
    )


def test_another_web_server_on_the_port_is_still_a_problem():
    """Another FastAPI app (its own title in /openapi.json) holds the port."""
    import http.server
    import threading

    class OtherApp(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b'{"openapi": "3.1.0", "info": {"title": "Another API", "version": "1"}}'
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), OtherApp) as stranger:
        threading.Thread(target=stranger.serve_forever, daemon=True).start()
        port = stranger.server_address[1]
        (finding,) = doctor.check_ports({port: "the course server"})
        stranger.shutdown()
    assert finding.status is Status.PROBLEM and "make serve PORT=8001" in finding.fix


def test_the_doctor_knows_the_servers_title(tmp_path):
    from serving.app import create_app
    from serving.config import ServerConfig

    app = create_app(ServerConfig(store_url="memory://", open_access=True, data_dir=tmp_path))
    assert app.title == doctor.KIT_SERVER_TITLE


def test_jupyterlab_is_installed_here_in_the_tested_range():
    finding = doctor.check_jupyterlab()
    assert finding == Finding(
        "jupyterlab",
        Status.OK,
        f"JupyterLab {importlib.metadata.version('jupyterlab')} (make lab)",
    )


def test_a_jupyterlab_outside_the_tested_range_says_how_to_install_the_right_one():
    installed = importlib.metadata.version("jupyterlab")
    finding = doctor.check_jupyterlab("jupyterlab>=5,<6")
    assert finding.status is Status.PROBLEM
    assert finding.detail == (
        f"JupyterLab {installed} is installed; the course is tested with jupyterlab<6,>=5."
    )
    assert "pip install 'jupyterlab<6,>=5'" in finding.fix and "make setup" in finding.fix


def test_a_missing_jupyterlab_says_how_to_install_it(monkeypatch):
    real = importlib.metadata.version

    def version(name):
        if name == "jupyterlab":
            raise importlib.metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(doctor.importlib.metadata, "version", version)
    finding = doctor.check_jupyterlab()
    assert finding.status is Status.PROBLEM
    assert "not installed, so `make lab` cannot open" in finding.detail
    assert "pip install 'jupyterlab<5,>=4.2'" in finding.fix
