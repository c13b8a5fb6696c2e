"""`make demo`: a real server on loopback only, started and stopped; the learner's URLs go there."""

from __future__ import annotations

import json
import re
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from graders.learner.pictures.demo_client import local_urls
from graders.learner.pictures.demo_server import DemoServer
from tests.helpers import SOLUTIONS
from tests.learner_cli import graders


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def test_server_starts_on_loopback_answers_and_stops():
    with DemoServer(latency=0.0, scale=0.05) as server:
        host, port = server.address
        assert host == "127.0.0.1" and server.running
        status, body = get(f"{server.url}/uuid")
        assert status == 200 and len(json.loads(body)["uuid"]) == 36
        started = time.perf_counter()
        assert get(f"{server.url}/delay/1")[0] == 200
        assert time.perf_counter() - started >= 0.05  # 1 s x scale 0.05: a real wait
        assert get(f"{server.url}/nothing-here")[0] == 404
        assert [s.path for s in server.served] == ["/uuid", "/delay/1", "/nothing-here"]
    assert not server.running
    with pytest.raises(OSError):
        socket.create_connection((host, port), timeout=1).close()


def test_httpbin_urls_are_rewritten_to_the_local_server():
    urls = ["https://httpbin.org/delay/1", "https://httpbin.org/get?a=1", "http://x.org"]
    assert local_urls(urls, "http://127.0.0.1:9/") == [
        "http://127.0.0.1:9/delay/1",
        "http://127.0.0.1:9/get?a=1",
        "http://127.0.0.1:9/",
    ]


def test_demo_times_the_solution_against_the_local_server():
    run = graders("demo", "--submission", str(SOLUTIONS), "--scale", "0.2")
    assert run.returncode == 0, run.stdout + run.stderr
    out = " ".join(run.stdout.split())
    assert "Demo server on http://127.0.0.1:" in out and "Demo server stopped." in out
    assert "download_sequential" in out and "download_threaded" in out
    peak = re.search(r"faster with threads\. The server answered 10 requests, at most (\d) at", out)
    assert peak and int(peak[1]) >= 2, out


def test_a_url_written_into_the_code_cannot_leave_the_machine(tmp_path: Path):
    source = (SOLUTIONS / "downloader.py").read_text()
    source = source.replace(
        "def download_threaded(urls, out_dir):",
        "def download_threaded(urls, out_dir):\n    urls = ['https://example.com/real']",
    )
    (tmp_path / "downloader.py").write_text(source)
    run = graders("demo", "--submission", str(tmp_path), "--scale", "0.05", columns=400)
    assert run.returncode == 1
    assert "no network while grading (tried 'example.com')" in run.stdout
