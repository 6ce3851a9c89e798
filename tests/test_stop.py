"""SIGTERM stops the long loops (predict, scan, bench timing) at the next batch boundary, with
exit code 143 and one line saying what was kept; the extraction's process test is in
test_store_cli.py."""

from __future__ import annotations

import os
import signal
import types
from pathlib import Path

import pytest
import torch

from deepdance.utils.stop import EXIT_CODE, StopOnSigterm, check_stop


def _sigterm_on_call(number: int, result: object = None) -> types.SimpleNamespace:
    """A callable that counts its calls and sends this process SIGTERM on call ``number``."""
    state = types.SimpleNamespace(calls=0)

    def call(*args: object, **kwargs: object) -> object:
        state.calls += 1
        if state.calls == number:
            os.kill(os.getpid(), signal.SIGTERM)
        return result(*args) if callable(result) else result

    state.call = call
    return state


def test_sigterm_stops_at_the_next_check_with_one_line_and_exit_143(capsys: pytest.CaptureFixture) -> None:
    before = signal.getsignal(signal.SIGTERM)
    done = []
    stop = StopOnSigterm("the loop", "run it again")
    stop.kept = lambda: f"{len(done)} items"
    with pytest.raises(SystemExit) as stopped, stop:
        for item in range(10):
            done.append(item)
            if item == 2:
                os.kill(os.getpid(), signal.SIGTERM)
            check_stop()
    assert stopped.value.code == EXIT_CODE and done == [0, 1, 2]
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == ["stopped by SIGTERM: the loop; kept 3 items; run it again"]
    assert signal.getsignal(signal.SIGTERM) == before  # the handler is put back


def test_errors_are_errors_unless_sigterm_came_first() -> None:
    with pytest.raises(ValueError, match="a real bug"), StopOnSigterm("loop", "again"):
        raise ValueError("a real bug")
    # After SIGTERM, an error (a worker killed by the same signal) is part of the stop.
    with pytest.raises(SystemExit) as stopped, StopOnSigterm("loop", "again"):
        os.kill(os.getpid(), signal.SIGTERM)
        raise RuntimeError("DataLoader worker (pid 1) is killed by signal: Terminated")
    assert stopped.value.code == EXIT_CODE
    check_stop()  # outside any StopOnSigterm: nothing to stop


def test_predict_stops_after_the_video_in_hand(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from deepdance import predict

    info = types.SimpleNamespace(num_frames=30, fps=15.0, width=64, height=64)
    fake = _sigterm_on_call(2, (torch.tensor([0.8, 0.2]), info))
    monkeypatch.setattr(predict, "genre_probabilities", fake.call)
    model = types.SimpleNamespace(hparams=types.SimpleNamespace(class_names=["BR", "PO"]))
    videos = [tmp_path / f"v{i}.mp4" for i in range(5)]
    with pytest.raises(SystemExit) as stopped:
        predict.predict_videos(model, {"num_frames": 4, "img_size": 32}, videos, clips=1)
    assert stopped.value.code == EXIT_CODE and fake.calls == 2
    assert "kept nothing (2 of 5 videos predicted, none written)" in capsys.readouterr().err


def test_scan_stops_after_the_video_in_hand(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from deepdance.data.video import scan

    for i in range(6):
        (tmp_path / f"gBR_sBM_c01_d0{i}_mBR0_ch01.mp4").write_bytes(b"")
    fake = _sigterm_on_call(3, lambda path, **_: {"path": path, "status": "ok", "reason": "", "notes": ""})
    monkeypatch.setattr(scan, "check_video", fake.call)
    with pytest.raises(SystemExit) as stopped:
        scan.scan_videos(tmp_path, workers=0)
    assert stopped.value.code == EXIT_CODE and fake.calls == 3
    assert "kept nothing (3 of 6 videos scanned, none written)" in capsys.readouterr().err


def test_bench_timing_stops_after_the_run_in_hand() -> None:
    from deepdance.bench.timing import interleaved_runs, time_runs

    fake = _sigterm_on_call(3)
    with pytest.raises(SystemExit), StopOnSigterm("bench", "again"):
        time_runs(fake.call, repeats=10, warmup=1)
    assert fake.calls == 3
    first, second = _sigterm_on_call(2), _sigterm_on_call(99)
    with pytest.raises(SystemExit), StopOnSigterm("bench", "again"):
        interleaved_runs({"a": first.call, "b": second.call}, repeats=10, warmup=0)
    assert (first.calls, second.calls) == (2, 1)


def test_a_worker_forked_inside_dies_on_sigterm_as_usual() -> None:
    """DataLoader and process-pool workers are forked while the handler is installed; they must
    not run on after SIGTERM (nor outlive multiprocessing's terminate() at exit)."""
    import multiprocessing
    import time

    with StopOnSigterm("loop", "again") as stop:
        worker = multiprocessing.get_context("fork").Process(target=time.sleep, args=(30,), daemon=True)
        worker.start()
        # Past the fork (Python drops a signal that arrives while the child is being set up).
        time.sleep(0.5)
        worker.terminate()
        worker.join(timeout=10)
        assert worker.exitcode == -signal.SIGTERM
        assert not stop.requested  # the main process was not asked to stop
