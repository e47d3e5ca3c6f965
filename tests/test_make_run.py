"""`make run` from the README: the site answers on / and the demo login works.

Runs the real command (migrations, demo seed, web server and embedded Celery worker) on a free
port with a throw-away SQLite database, exactly as a newcomer would after cloning.
"""
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def running_site(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in ("DJANGO_SETTINGS_MODULE", "REDIS_URL", "DATABASE_URL")}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'smoke.sqlite3'}"
    log = open(tmp_path / "make-run.log", "w+")
    process = subprocess.Popen(["make", "run", f"PORT={port}"], cwd=ROOT, env=env, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if process.poll() is not None:
                log.seek(0)
                pytest.fail(f"make run exited early:\n{log.read()[-4000:]}")
            try:
                if requests.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.5)
        else:
            log.seek(0)
            pytest.fail(f"make run did not answer in time:\n{log.read()[-4000:]}")
        yield base
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


def test_make_run_serves_the_site_and_the_demo_login_works(running_site):
    home = requests.get(running_site + "/", timeout=10)
    assert home.status_code == 200 and "INTRASA" in home.text
    session = requests.Session()
    login_page = session.get(running_site + "/akun/masuk/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page.text).group(1)
    response = session.post(
        running_site + "/akun/masuk/",
        data={"csrfmiddlewaretoken": token, "username": "penjual@demo.intrasa.id",
              "password": "intrasa-demo-2026"},
        headers={"Referer": running_site + "/akun/masuk/"}, timeout=10,
    )
    assert response.status_code == 200
    assert response.url.rstrip("/").endswith("/transaksi")
    assert "Kamera Fujifilm X-T30" in response.text
