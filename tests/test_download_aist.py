"""The AIST++ downloader against a local HTTP server on 127.0.0.1 (no external network):
parallel downloads, a connection dropped mid-file and resumed, a 404, a file that is not a
video, resumed .part files, skipped complete files, filters, and the Terms of Use step."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from deepdance import download_aist as download_cli
from deepdance.data.aist import download as download_aist
from deepdance.data.video.writer import write_mp4

NAMES = [
    "gBR_sBM_c01_d04_mBR0_ch01",
    "gPO_sFM_c02_d10_mPO1_ch03",
    "gBR_sBM_c02_d04_mBR0_ch01",
    "gLO_sBM_c01_d13_mLO2_ch02",
]
DROPPED = "gPO_sFM_c02_d10_mPO1_ch03.mp4"  # the first GET of this file is cut after half its bytes
MISSING = "gHO_sBM_c01_d18_mHO0_ch01"  # the server answers 404
GARBAGE = "gKR_sBM_c01_d25_mKR0_ch01"  # the server sends bytes that are not a video


class FakeAistServer:
    """Serves generated mp4s with HTTP Range support; records every request."""

    def __init__(
        self,
        files: dict[str, bytes],
        drop_first: set[str],
        ignore_range: bool = False,
        busy: dict[str, int] | None = None,
    ) -> None:
        self.files = files
        self.drop_first = set(drop_first)
        self.ignore_range = ignore_range
        # name -> how many GETs of it are answered 503 before it is served
        self.busy = dict(busy or {})
        self.requests: list[tuple[str, str | None]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                name = self.path.rsplit("/", 1)[-1]
                server.requests.append((name, self.headers.get("Range")))
                if name not in server.files:
                    self.send_error(404, "Not Found")
                    return
                if server.busy.get(name, 0) > 0:
                    server.busy[name] -= 1
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                data = server.files[name]
                start, status = 0, 200
                if self.headers.get("Range") and not server.ignore_range:
                    start, status = int(self.headers["Range"].split("=")[1].split("-")[0]), 206
                body = data[start:]
                self.send_response(status)
                self.send_header("Content-Type", "video/mp4")
                self.send_header("Content-Length", str(len(body)))
                if status == 206:
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                self.end_headers()
                if name in server.drop_first:
                    server.drop_first.discard(name)
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True  # promised the whole file, sent half, hung up
                    return
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1.0.0/video/10M/"

    def __enter__(self) -> FakeAistServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def videos() -> dict[str, bytes]:
    """Small real H.264 mp4s under AIST++ names (different lengths, so sizes differ)."""
    import tempfile

    rng = np.random.default_rng(0)
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i, name in enumerate(NAMES):
            frames = rng.integers(0, 255, (6 + 2 * i, 64, 96, 3), dtype=np.uint8)
            path = write_mp4(Path(tmp) / f"{name}.mp4", frames, fps=30, preset="ultrafast")
            out[path.name] = path.read_bytes()
    out[f"{GARBAGE}.mp4"] = b"<html>this is not a video</html>" * 50
    return out


def _list_file(tmp_path: Path, names: list[str]) -> Path:
    path = tmp_path / "video_list.txt"
    path.write_text("# AIST++ video list\n" + "\n".join(names) + "\n\n")
    return path


def _run(server: FakeAistServer, root: Path, list_file: Path, *extra: str) -> int:
    return download_cli.main(
        [
            "--root",
            str(root),
            "--list",
            str(list_file),
            "--base-url",
            server.url,
            "--accept-terms",
            "--workers",
            "3",
            "--retries",
            "2",
            "--backoff",
            "0.01",
            "--timeout",
            "10",
            "--no-progress",
            *extra,
        ]
    )


def test_download_resumes_dropped_connection_reports_404_and_bad_file(videos, tmp_path: Path, capsys) -> None:
    root = tmp_path / "aist"
    list_file = _list_file(tmp_path, [*NAMES, MISSING, GARBAGE])
    with FakeAistServer(videos, drop_first={DROPPED}) as server:
        code = _run(server, root, list_file)
    out = capsys.readouterr().out
    assert code == 1  # something failed
    for name in NAMES:  # every real video arrived whole, the dropped one included
        assert (root / f"{name}.mp4").read_bytes() == videos[f"{name}.mp4"]
    assert sorted(p.name for p in root.iterdir()) == sorted(
        f"{n}.mp4" for n in NAMES
    )  # no .part, no 404 or garbage file
    dropped = [r for name, r in server.requests if name == DROPPED]
    assert dropped == [None, f"bytes={len(videos[DROPPED]) // 2}-"]  # the retry resumed where the drop cut it
    assert [r for name, r in server.requests if name == f"{MISSING}.mp4"] == [None]  # a 404 is not retried
    assert (
        len([1 for name, _ in server.requests if name == f"{GARBAGE}.mp4"]) == 3
    )  # 1 + 2 retries, then given up
    for status, count in (("downloaded", 4), ("skipped", 0), ("failed", 2)):
        assert any(
            line.split()[:3] == ["│", status, "│"] and f"│ {count:>6} │" in line for line in out.splitlines()
        ), (status, out)
    assert "HTTP 404" in out and "not a readable video" in out


def test_second_run_skips_complete_files(videos, tmp_path: Path, capsys) -> None:
    root = tmp_path / "aist"
    list_file = _list_file(tmp_path, NAMES)
    with FakeAistServer(videos, drop_first=set()) as server:
        assert _run(server, root, list_file) == 0
        first = len(server.requests)
        mtimes = {p.name: p.stat().st_mtime_ns for p in root.iterdir()}
        assert _run(server, root, list_file) == 0
        assert len(server.requests) == first  # nothing fetched again
    assert {p.name: p.stat().st_mtime_ns for p in root.iterdir()} == mtimes
    assert "skipped" in capsys.readouterr().out


@pytest.mark.parametrize("ignore_range", [False, True])
def test_part_file_is_resumed_or_restarted(videos, tmp_path: Path, ignore_range: bool) -> None:
    root = tmp_path / "aist"
    root.mkdir()
    name = f"{NAMES[0]}.mp4"
    (root / f"{name}.part").write_bytes(videos[name][:1000])  # a previous run stopped here
    with FakeAistServer(videos, drop_first=set(), ignore_range=ignore_range) as server:
        assert _run(server, root, _list_file(tmp_path, NAMES[:1])) == 0
    assert server.requests == [(name, "bytes=1000-")]
    assert (root / name).read_bytes() == videos[
        name
    ]  # a server that ignores Range sends it all: restart, no duplication
    assert not (root / f"{name}.part").exists()


def test_filters_and_max_videos(videos, tmp_path: Path) -> None:
    root = tmp_path / "aist"
    list_file = _list_file(tmp_path, NAMES)
    with FakeAistServer(videos, drop_first=set()) as server:
        assert _run(server, root, list_file, "--genres", "BR", "--cameras", "c02", "--situations", "sBM") == 0
        assert sorted(p.name for p in root.iterdir()) == ["gBR_sBM_c02_d04_mBR0_ch01.mp4"]
        assert _run(server, root, list_file, "--max-videos", "2") == 0
    assert sorted(p.name for p in root.iterdir()) == sorted(f"{n}.mp4" for n in [*NAMES[:2], NAMES[2]])


def test_list_lines_may_be_full_urls(videos, tmp_path: Path) -> None:
    with FakeAistServer(videos, drop_first=set()) as server:
        list_file = _list_file(tmp_path, [f"{server.url}{NAMES[1]}.mp4"])
        code = download_cli.main(
            ["--root", str(tmp_path / "aist"), "--list", str(list_file), "--accept-terms", "--no-progress"]
        )
    assert code == 0 and (tmp_path / "aist" / f"{NAMES[1]}.mp4").is_file()


def test_terms_of_use_must_be_accepted(videos, tmp_path: Path, monkeypatch, capsys) -> None:
    root = tmp_path / "aist"
    args = ["--root", str(root), "--list", str(_list_file(tmp_path, NAMES[:1])), "--no-progress"]
    monkeypatch.setattr("sys.stdin.isatty", lambda: False, raising=False)
    assert download_cli.main(args) == 2  # no terminal, no flag: refuse
    err = capsys.readouterr().err
    assert download_aist.TERMS_URL in err and "--accept-terms" in err
    monkeypatch.setattr(download_cli.sys, "stdin", type("Tty", (), {"isatty": staticmethod(lambda: True)})())
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    assert download_cli.main(args) == 2
    assert not root.exists()  # nothing was downloaded
    with FakeAistServer(videos, drop_first=set()) as server:
        monkeypatch.setattr("builtins.input", lambda prompt: "yes")
        assert download_cli.main([*args, "--base-url", server.url]) == 0
    assert (root / f"{NAMES[0]}.mp4").is_file()


def test_bad_arguments_are_one_line_errors(tmp_path: Path, capsys) -> None:
    assert download_cli.main(["--root", str(tmp_path), "--genres", "XX", "--accept-terms"]) == 2
    assert "unknown genre" in capsys.readouterr().err
    assert (
        download_cli.main(["--root", str(tmp_path), "--list", str(tmp_path / "nope.txt"), "--accept-terms"])
        == 2
    )
    assert "no such file" in capsys.readouterr().err.splitlines()[-1]


def test_busy_answers_and_refused_connections_spend_one_retry_budget(videos, tmp_path: Path) -> None:
    name = f"{NAMES[0]}.mp4"
    for folder in ("ok", "busy", "gone"):
        (tmp_path / folder).mkdir()
    with FakeAistServer(videos, drop_first=set(), busy={name: 2}) as server:
        source = download_aist.VideoSource(name, f"{server.url}{name}")
        # two 503s, then the file: urllib3 retries the request itself
        outcome = download_aist.download_one(source, tmp_path / "ok", retries=2, backoff=0.01)
        assert (outcome.status, outcome.attempts) == ("downloaded", 3)
        assert (tmp_path / "ok" / name).read_bytes() == videos[name]
        server.busy[name] = 3
        outcome = download_aist.download_one(source, tmp_path / "busy", retries=2, backoff=0.01)
    assert (outcome.status, outcome.attempts) == ("failed", 3)
    assert outcome.reason.startswith("HTTP 503")
    assert [r for n, r in server.requests if n == name] == [None] * 6
    assert not any((tmp_path / "busy").iterdir())
    # the server is gone: every attempt is refused
    outcome = download_aist.download_one(source, tmp_path / "gone", retries=2, backoff=0.01)
    assert (outcome.status, outcome.attempts) == ("failed", 3)
    assert outcome.reason.startswith("connection failed") and "3 attempts" in outcome.reason


def test_a_file_that_appears_during_the_download_is_never_replaced(
    videos, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = f"{NAMES[0]}.mp4"
    dest = tmp_path / name
    real_fetch = download_aist._fetch_into

    def fetch_then_user_writes(*args, **kwargs):
        left = real_fetch(*args, **kwargs)
        dest.write_bytes(b"the user's own file")
        return left

    monkeypatch.setattr(download_aist, "_fetch_into", fetch_then_user_writes)
    with FakeAistServer(videos, drop_first=set()) as server:
        source = download_aist.VideoSource(name, f"{server.url}{name}")
        outcome = download_aist.download_one(source, tmp_path, retries=0, backoff=0.01)
    assert outcome.status == "skipped" and "appeared during the download" in outcome.reason
    assert dest.read_bytes() == b"the user's own file"
    assert not (tmp_path / f"{name}.part").exists()
