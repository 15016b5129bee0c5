"""The CIFAR-10 download against a local HTTP server, so the tests need no network access."""

import hashlib
import http.server
import io
import pickle
import tarfile
import threading

import numpy as np
import pytest

from dither_lab.cli import main
from dither_lab.data import download_cifar10, load_cifar10
from dither_lab.io import download


def _archive() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        rng = np.random.default_rng(0)
        batch = pickle.dumps({b"data": rng.integers(0, 256, (10, 3072), dtype=np.uint8), b"labels": list(range(10))})
        info = tarfile.TarInfo("cifar-10-batches-py/test_batch")
        info.size = len(batch)
        tf.addfile(info, io.BytesIO(batch))
        tf.addfile(tarfile.TarInfo("cifar-10-batches-py/padding"), io.BytesIO(b""))
    return buf.getvalue() + bytes(rng.integers(0, 256, 50_000, dtype=np.uint8))  # tail: make it span many chunks


@pytest.fixture
def server():
    payload = _archive()
    seen = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            rng = self.headers.get("Range")
            seen.append(rng)
            start = int(rng.split("=")[1].split("-")[0]) if rng else 0
            if start >= len(payload):
                self.send_response(416)
                self.end_headers()
                return
            body = payload[start:]
            self.send_response(206 if rng else 200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/cifar.tar.gz", payload, seen
    httpd.shutdown()


def test_download_verifies_and_unpacks(tmp_path, server, monkeypatch):
    monkeypatch.setenv("DITHER_LAB_DATA", str(tmp_path))
    url, payload, _ = server
    md5 = hashlib.md5(payload).hexdigest()
    out = download_cifar10(tmp_path, url=url, md5=md5, progress=False)
    assert (out / "test_batch").is_file()
    assert load_cifar10("test", path=out).images.shape == (10, 3, 32, 32)


def test_download_resumes_a_partial_file(tmp_path, server):
    url, payload, seen = server
    part = tmp_path / "a.tar.gz.part"
    part.write_bytes(payload[:20_000])
    download(url, tmp_path / "a.tar.gz", md5=hashlib.md5(payload).hexdigest(), progress=False)
    assert seen[-1] == "bytes=20000-"
    assert (tmp_path / "a.tar.gz").read_bytes() == payload and not part.exists()


def test_md5_mismatch_is_a_clear_error_and_nothing_is_left(tmp_path, server):
    url, _, _ = server
    with pytest.raises(ValueError, match="MD5 differs"):
        download(url, tmp_path / "b.tar.gz", md5="0" * 32, progress=False)
    assert not (tmp_path / "b.tar.gz").exists() and not (tmp_path / "b.tar.gz.part").exists()


def test_unreachable_server_and_cli_exit_code(tmp_path, capsys):
    with pytest.raises(ValueError, match="failed"):
        download("http://127.0.0.1:9/x.tar.gz", tmp_path / "x", progress=False, timeout=2)
    assert main(["data", "download", "cifar10", "--dest", str(tmp_path), "--url", "http://127.0.0.1:9/x"]) == 2
    assert "run the command again to resume" in capsys.readouterr().err
