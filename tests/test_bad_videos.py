"""Bad videos: real broken files are found at probe time, at decode time inside DataLoader
workers, and by the scan CLI; skip lists them, error stops with one line naming the file."""

from __future__ import annotations

import csv
import gc
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from deepdance.config.base import parse
from deepdance.config.data import GenreDataConfig
from deepdance.data.genre.datamodule import GenreDataModule
from deepdance.data.video import probe_video, read_clip, sample_frame_indices
from deepdance.data.video.bad_videos import probe_videos
from deepdance.data.video.reader import decoder_reason
from deepdance.errors import DeepdanceError, VideoError
from deepdance.utils.run import one_line
from tests.helpers.bad_videos import BAD, expected_bad, make_bad_videos, running_as_root
from tests.helpers.runs import compose_config, run_cli, run_train, small_run, train_in_process, user_error


@pytest.fixture(scope="module")
def bad_root(tiny_synthetic: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Path]]:
    """The tiny synthetic dancers plus one file of every awkward kind."""
    root = tmp_path_factory.mktemp("bad_root")
    for video in tiny_synthetic.glob("*.mp4"):
        shutil.copy(video, root / video.name)
    paths = make_bad_videos(root, good_source=next(iter(sorted(tiny_synthetic.glob("*.mp4")))))
    return root, paths


PROBE_REASONS = {
    "truncated": "not a readable video container",
    "zero_bytes": "empty file (0 bytes)",
    "text": "not a readable video container",
    "audio_only": "no video stream",
}


@pytest.mark.parametrize("kind", sorted(PROBE_REASONS))
def test_probe_names_the_file_and_says_what_is_wrong(
    bad_root: tuple[Path, dict[str, Path]], kind: str
) -> None:
    path = bad_root[1][kind]
    with pytest.raises(VideoError) as err:
        probe_video(path)
    message = str(err.value)
    assert message.startswith(f"{path}: ") and PROBE_REASONS[kind] in message and "\n" not in message


def test_corrupt_middle_probes_fine_but_fails_mid_decode(bad_root: tuple[Path, dict[str, Path]]) -> None:
    path = bad_root[1]["corrupt_middle"]
    info = probe_video(path)  # header and first frame are intact
    assert info.num_frames == 60
    with pytest.raises(VideoError, match="corrupt video packets"):
        read_clip(path, np.arange(0, 60, 5), 32, info)


def _probe_as_nobody(path: str, results: multiprocessing.Queue) -> None:
    os.setgid(65534)
    os.setuid(65534)
    try:
        probe_video(path)
        results.put("readable")
    except VideoError as err:
        results.put(str(err))


def test_unreadable_file_is_reported_as_permission_denied(tmp_path: Path, tiny_synthetic: Path) -> None:
    import tempfile

    folder = Path(
        tempfile.mkdtemp(prefix="deepdance-perm-")
    )  # pytest's tmp dirs are 0700: others cannot enter
    try:
        os.chmod(folder, 0o755)
        path = folder / "locked.mp4"
        shutil.copy(next(iter(tiny_synthetic.glob("*.mp4"))), path)
        os.chmod(path, 0)
        if not running_as_root():
            with pytest.raises(VideoError, match="permission denied"):
                probe_video(path)
            return
        # root reads any file whatever its mode: check it as user nobody in a forked child
        import decord  # noqa: F401  (loaded before dropping privileges: the venv may be root-only)

        results: multiprocessing.Queue = multiprocessing.get_context("fork").Queue()
        child = multiprocessing.get_context("fork").Process(
            target=_probe_as_nobody, args=(str(path), results)
        )
        child.start()
        child.join(60)
        message = results.get(timeout=5)
        assert message.startswith(f"{path}: permission denied"), message
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_short_and_variable_frame_rate_videos_are_read_frame_accurately(
    bad_root: tuple[Path, dict[str, Path]],
) -> None:
    paths = bad_root[1]
    vfr = probe_video(paths["vfr"])
    assert vfr.num_frames == 40 and 20 < vfr.fps < 25  # average of 70 ms / 20 ms intervals
    indices = np.array([0, 7, 20, 33, 39])
    clip = read_clip(paths["vfr"], indices, 32, vfr)
    grey = clip.float().mean(dim=(1, 2, 3)).numpy()
    assert np.abs(grey - (indices * 6) % 256).max() < 4  # frame i has grey level 6 i: the right frames

    short = probe_video(paths["short"])
    indices, mask = sample_frame_indices(short.num_frames, 6, random=False)
    clip = read_clip(paths["short"], indices, 32, short)
    assert clip.shape == (6, 3, 32, 32) and mask.tolist() == [True] * 3 + [False] * 3


def _datamodule(
    root: Path, report_dir: Path, on_bad_video: str = "skip", workers: int = 2
) -> GenreDataModule:
    config = GenreDataConfig(
        root=str(root),
        num_frames=4,
        img_size=32,
        batch_size=4,
        num_workers=workers,
        persistent_workers=False,
        on_bad_video=on_bad_video,
    )
    return GenreDataModule(config, report_dir=str(report_dir))


def _rows(report: Path) -> list[dict[str, str]]:
    with open(report, newline="") as handle:
        return list(csv.DictReader(handle))


def test_skip_leaves_bad_videos_out_and_lists_each_with_its_reason(
    bad_root: tuple[Path, dict[str, Path]], tmp_path: Path
) -> None:
    root, paths = bad_root
    bad = expected_bad(paths)
    dm = _datamodule(root, tmp_path)
    dm.setup("fit")
    in_manifest = set(dm.manifest["path"])
    probe_bad = {k: p for k, p in bad.items() if k != "corrupt_middle"}
    assert not in_manifest & {str(p) for p in probe_bad.values()}
    assert {str(paths["short"]), str(paths["vfr"]), str(paths["corrupt_middle"])} <= in_manifest
    rows = _rows(tmp_path / "bad_videos.csv")
    assert {r["path"] for r in rows if r["stage"] == "probe"} == {str(p) for p in probe_bad.values()}
    assert all(r["reason"] for r in rows)

    # decode time, inside 2 DataLoader worker processes: the corrupt video is dropped from its batch
    seen = []
    for split in ("train", "val", "test"):
        for batch in dm._loader(split, shuffle=False):
            if batch is not None:
                seen += batch["video"].tolist()
                assert batch["frames"].shape[-4:] == (4, 3, 32, 32)  # (B, [K,] T, 3, S, S)
    corrupt_id = int(dm.manifest.loc[dm.manifest["path"] == str(paths["corrupt_middle"]), "video_id"].iloc[0])
    assert corrupt_id not in seen and len(seen) == len(dm.manifest) - 1
    decode_rows = [r for r in _rows(tmp_path / "bad_videos.csv") if r["stage"] == "decode"]
    assert [r["path"] for r in decode_rows] == [str(paths["corrupt_middle"])]
    assert "corrupt video packets" in decode_rows[0]["reason"]


def test_error_stops_at_the_first_bad_video_in_probe_and_in_a_worker(
    bad_root: tuple[Path, dict[str, Path]], tmp_path: Path
) -> None:
    root, paths = bad_root
    children_before = set(multiprocessing.active_children())
    with pytest.raises(VideoError) as err:
        probe_videos(sorted(root.glob("*.mp4")), workers=2, on_bad_video="error")
    first = min(str(p) for p in expected_bad(paths).values() if p != paths["corrupt_middle"])
    assert str(err.value).startswith(f"{first}: ") and "data.on_bad_video=error" in str(err.value)

    only_decode_bad = tmp_path / "root"
    only_decode_bad.mkdir()
    for video in root.glob("*.mp4"):
        if video.name not in BAD.values() or video == paths["corrupt_middle"]:
            shutil.copy(video, only_decode_bad / video.name)
    dm = _datamodule(only_decode_bad, tmp_path, on_bad_video="error")
    dm.setup("fit")
    with pytest.raises(VideoError) as err:  # raised in a worker process, re-raised here
        for split in ("train", "val", "test"):
            for _ in dm._loader(split, shuffle=False):
                pass
    line = one_line(err.value)
    assert (
        line.startswith(str(only_decode_bad / paths["corrupt_middle"].name))
        and "corrupt video packets" in line
    )
    err.value.__traceback__ = None  # the traceback holds the loader's iterator, and with it its workers
    del err
    gc.collect()
    assert set(multiprocessing.active_children()) <= children_before, (
        "the failed loader's workers were shut down"
    )


WORKER_LEFT_AT_EXIT = """
import sys
import torch
from torch.utils.data import DataLoader
from deepdance.data.genre.datamodule import init_worker
loader = DataLoader(
    list(range(64)), batch_size=2, num_workers=2, persistent_workers=True, worker_init_fn=init_worker
)
iterator = iter(loader)
next(iterator)
sys.modules["__main__"].kept = iterator  # alive until interpreter exit, as after an error in a worker
print("exiting", flush=True)
"""


def test_process_exits_while_a_loader_still_holds_workers_that_ignore_sigterm() -> None:
    """Workers ignore SIGTERM (the main process saves a checkpoint first); at exit they are
    killed instead of being joined forever by multiprocessing's exit handler (a hang seen in CI)."""
    result = subprocess.run(
        [sys.executable, "-c", WORKER_LEFT_AT_EXIT], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and "exiting" in result.stdout, result.stderr[-2000:]


def test_collate_drops_a_batch_made_only_of_bad_videos() -> None:
    from deepdance.data.video.bad_videos import collate_skipping_bad

    assert collate_skipping_bad([None, None]) is None
    batch = collate_skipping_bad([None, {"label": 1, "x": torch.zeros(2)}])
    assert batch["label"].tolist() == [1] and batch["x"].shape == (1, 2)


@pytest.mark.slow
def test_scan_cli_reports_every_bad_video_up_front(
    bad_root: tuple[Path, dict[str, Path]], tmp_path: Path
) -> None:
    root, paths = bad_root
    result = run_cli(
        "deepdance.scan", f"data.root={root}", "workers=2", f"hydra.run.dir={tmp_path}", timeout=300
    )
    assert result.returncode == 1, result.stderr[-2000:]  # bad videos found
    import pandas as pd

    table = pd.read_csv(tmp_path / "scan.csv", keep_default_na=False)
    status = dict(zip(table["path"], table["status"]))
    assert {p for p, s in status.items() if s == "bad"} == {str(p) for p in expected_bad(paths).values()}
    notes = dict(zip(table["path"], table["notes"]))
    assert (
        notes[str(paths["short"])].startswith("short: 3 <")
        and "variable frame rate" in notes[str(paths["vfr"])]
    )
    assert (table["status"] == "ok").sum() == len(table) - len(expected_bad(paths))
    assert len(_rows(tmp_path / "bad_videos.csv")) == len(expected_bad(paths))


def _folder_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_training_skips_bad_videos_lists_them_and_says_how_many(
    bad_root: tuple[Path, dict[str, Path]], tmp_path: Path
) -> None:
    root, paths = bad_root
    before = _folder_bytes(root)
    # in-process; the clips are decoded in 2 DataLoader workers
    train_in_process(
        small_run(
            root,
            "data.synthetic=null",
            "data.num_workers=2",
            "trainer.max_epochs=1",
            f"hydra.run.dir={tmp_path}",
        )
    )
    # the user's folder, bad files included, is read only: nothing written, moved or deleted
    assert _folder_bytes(root) == before
    rows = _rows(tmp_path / "bad_videos.csv")
    assert {r["path"] for r in rows} == {str(p) for p in expected_bad(paths).values()}
    assert {r["stage"] for r in rows if r["path"] == str(paths["corrupt_middle"])} == {"decode"}
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["bad_videos"] == len(rows)
    log = (tmp_path / "train.log").read_text()
    assert f"{len(rows) - 1} of " in log and "videos are bad and left out" in log  # probe-time count
    assert f"{len(rows)} bad video(s) skipped so far" in log  # total, after decode-time skips


@pytest.mark.slow
def test_training_with_error_stops_with_one_line_naming_the_file(
    bad_root: tuple[Path, dict[str, Path]], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    root, paths = bad_root
    overrides = [f"data.root={root}", "data.synthetic=null", "data.on_bad_video=error"]
    cfg = compose_config("train", [*overrides, "print_config=false", f"hydra.run.dir={tmp_path}"])
    last = user_error(run_train, cfg, capsys)
    first = min(str(p) for p in expected_bad(paths).values() if p != paths["corrupt_middle"])
    assert last.startswith(f"error: {first}: ") and "data.on_bad_video=error" in last


def test_unknown_policy_is_refused() -> None:
    with pytest.raises(DeepdanceError, match="data.on_bad_video='ignore': expected one of skip, error"):
        parse(GenreDataConfig, {"root": "/nowhere", "on_bad_video": "ignore"}, "data")


@pytest.mark.parametrize(
    "decord_message",
    [
        "[14:25:42] /github/workspace/src/video/ffmpeg/threaded_decoder.cc:292: Check failed: "
        "avcodec_send_packet(dec_ctx_.get(), pkt.get()) >= 0 (-1094995529 vs. 0) "
        "Thread worker: Error sending packet.",
        # the same corrupt packet, when the caller notices the stopped decoding thread first
        "[14:25:42] /github/workspace/src/video/ffmpeg/threaded_decoder.cc:104: Check failed: run_.load()",
    ],
)
def test_both_ways_decord_reports_a_corrupt_packet_read_as_corrupt_packets(decord_message: str) -> None:
    reason = decoder_reason(RuntimeError(decord_message), opening=False)
    assert reason.startswith("corrupt video packets")
