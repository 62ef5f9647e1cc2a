"""The models in a whole server: create_app(models=...) and ``python -m serving --models``."""

import contextlib
import socket
import subprocess
import sys
import time

import httpx
import pytest
from fastapi.testclient import TestClient

from serving.app import create_app
from serving.config import ServerConfig
from serving.streams import MemoryStore
from serving.tokens import TokenSigner, load_or_create_secret


def test_create_app_mounts_the_model_agents_and_endpoints(registry, tmp_path):
    config = ServerConfig(store_url="memory://", open_access=True, data_dir=tmp_path)
    app = create_app(config, MemoryStore(), models=registry)
    with TestClient(app) as client:
        assert client.get("/v1/models").status_code == 200
        created = client.post("/v1/sessions").json()
        agents = client.get(f"/v1/sessions/{created['id']}").json()["agents"]
        assert {"predict", "batch", "ensemble", "retrain", "text"} <= set(agents)
        assert agents["predict"]["params"]["length"]["choices"] == ["short", "medium", "long"]
    assert app.state.models is registry


def test_without_models_there_are_no_model_endpoints(tmp_path):
    config = ServerConfig(store_url="memory://", open_access=True, data_dir=tmp_path)
    with TestClient(create_app(config, MemoryStore())) as client:
        assert client.get("/v1/models").status_code == 404


@contextlib.contextmanager
def serving(*flags):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "serving", "--port", str(port), "--store", "memory://", *flags],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while process.poll() is None:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}", process
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.slow
def test_the_server_serves_the_models_of_its_models_folder(shipped_models, tmp_path):
    with serving("--models", str(shipped_models), "--data-dir", str(tmp_path)) as (url, process):
        assert process.poll() is None, process.communicate()[1]
        assert httpx.get(f"{url}/v1/models").status_code == 401  # a secured server's catalog
        reader = TokenSigner(load_or_create_secret(tmp_path, environ={})).mint("models/*", ["read"])
        listed = httpx.get(f"{url}/v1/models", headers={"authorization": f"Bearer {reader}"})
        names = [model["name"] for model in listed.json()["models"]]
        assert names == ["diabetes-linear", "penguin-classifier", "penguin-knn"]


@pytest.mark.slow
def test_a_tampered_artifact_stops_the_start_naming_it(models_dir, tmp_path):
    model_file = models_dir / "penguin-knn" / "1" / "model.skops"
    model_file.write_bytes(model_file.read_bytes()[:-10])
    with serving("--models", str(models_dir), "--data-dir", str(tmp_path)) as (_, process):
        assert process.wait(timeout=60) == 2
        error = process.stderr.read()
    assert "refused 1 model artifact" in error
    assert f"{models_dir / 'penguin-knn' / '1' / 'model.skops'} does not match the sha256" in error
