"""The user's files are sacred: generators write only into folders they own, delete only what
they wrote (size and hash checked), the feature store deletes only temporary files with no
live writer, and a benchmark's results land in its run directory."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from deepdance.config.base import parse
from deepdance.config.data import GenreDataConfig
from deepdance.data.genre.datamodule import GenreDataModule
from deepdance.data.silhouette.datamodule import SilhouetteDataModule
from deepdance.data.synthetic import SyntheticConfig, ensure_synthetic_dataset, video_jobs
from deepdance.data.synthetic import dataset as synthetic
from deepdance.data.synthetic.settings import GENERATOR_VERSION
from deepdance.data.video.writer import write_mp4
from deepdance.errors import DeepdanceError
from deepdance.utils.cache_io import TargetExists, atomic_write_bytes
from tests.helpers.bench import bench_machine
from tests.helpers.runs import REPO

TINY = SyntheticConfig(dancers_per_genre=1, cameras=1, musics=1, seconds=0.3, size=32)
REAL_NAME = "gBR_sBM_c01_d04_mBR0_ch01.mp4"


def snapshot(root: Path) -> dict[str, str]:
    """Every file under ``root`` (hidden ones too) with the SHA-256 of its bytes."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def user_folder(tmp_path: Path) -> Path:
    """A user's AIST++ folder: real names, arbitrary bytes, and a file of another kind."""
    root = tmp_path / "aist"
    (root / "more").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in (REAL_NAME, "gPO_sBM_c01_d02_mPO0_ch01.mp4"):
        (root / name).write_bytes(rng.bytes(5000))
    (root / "more" / "gLO_sBM_c02_d03_mLO1_ch02.mp4").write_bytes(rng.bytes(3000))
    (root / "README.txt").write_text("my dataset")
    return root


def _assert_one_line_refusal(err: pytest.ExceptionInfo, root: Path, hint: str) -> None:
    message = str(err.value)
    assert "\n" not in message
    assert str(root) in message and ".mp4" in message and hint in message


# ------------------------------------------------------------------- the data-loss scenario


def test_synthetic_generator_refuses_a_folder_of_real_videos(user_folder: Path) -> None:
    before = snapshot(user_folder)
    with pytest.raises(DeepdanceError) as err:
        ensure_synthetic_dataset(user_folder, TINY, workers=1)
    _assert_one_line_refusal(err, user_folder, "data=aist")
    # byte for byte, and no record or lock file created
    assert snapshot(user_folder) == before


def test_train_config_with_data_root_under_default_synthetic_data_is_refused(user_folder: Path) -> None:
    """`python -m deepdance.train data.root=/data/aist` without `data=aist`, in-process."""
    before = snapshot(user_folder)
    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        cfg = compose("train", overrides=[f"data.root={user_folder}"])
    # the default data=synthetic is what makes this dangerous
    assert cfg.data.synthetic is not None
    datamodule = GenreDataModule(parse(GenreDataConfig, cfg.data, "data"))
    with pytest.raises(DeepdanceError) as err:
        datamodule.prepare_data()
    _assert_one_line_refusal(err, user_folder, "data=aist")
    assert snapshot(user_folder) == before


def test_silhouette_default_refuses_a_folder_of_real_videos(tmp_path: Path) -> None:
    folder = tmp_path / "clips"
    folder.mkdir()
    # A user's file under the very name the generator would write, and another clip.
    taken = f"silhouettes_v{GENERATOR_VERSION}_s0_mix_1500f_3fps_120x200.mp4"
    (folder / taken).write_bytes(b"a user's video" * 100)
    (folder / "my_dance.mp4").write_bytes(b"another" * 100)
    before = snapshot(folder)
    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        cfg = compose(
            "train",
            overrides=[
                "experiment=deep_dance_ae",
                f"data.synthetic.dir={folder}",
                f"data.cache_dir={tmp_path / 'cache'}",
            ],
        )
    # conf/data/silhouette.yaml's default: the synthetic dance
    assert cfg.data.root is None
    datamodule = SilhouetteDataModule.from_config(cfg.data)
    with pytest.raises(DeepdanceError) as err:
        datamodule.prepare_data()
    _assert_one_line_refusal(err, folder, "data.root=")
    assert snapshot(folder) == before and not (tmp_path / "cache").exists()


# ------------------------------------------------------------------- regeneration


def test_regeneration_deletes_only_recorded_files_whose_hash_matches(tmp_path: Path) -> None:
    root = tmp_path / "synthetic"
    ensure_synthetic_dataset(root, TINY, workers=1)
    record = json.loads((root / "synthetic.json").read_text())
    names = sorted(record["files"])
    assert len(names) == 10 and not record["pending"]
    for name in names:
        data = (root / name).read_bytes()
        assert record["files"][name] == {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}

    # A recorded file changed by the user, same size: only the hash tells. Refused, nothing touched.
    victim = root / names[3]
    data = bytearray(victim.read_bytes())
    data[100] ^= 0xFF
    victim.write_bytes(bytes(data))
    (root / "notes.txt").write_text("keep me")
    before = snapshot(root)
    other = SyntheticConfig(**{**TINY.__dict__, "seed": 1})
    with pytest.raises(DeepdanceError) as err:
        ensure_synthetic_dataset(root, other, workers=1)
    assert "\n" not in str(err.value) and str(victim) in str(err.value) and "changed" in str(err.value)
    assert snapshot(root) == before

    # Moved away, the rest regenerates: every unchanged recorded file is replaced, the note is kept.
    moved = victim.rename(tmp_path / victim.name)
    ensure_synthetic_dataset(root, other, workers=1)
    after = snapshot(root)
    assert (root / "notes.txt").read_text() == "keep me" and moved.read_bytes() == bytes(data)
    assert all(after[n] != before[n] for n in names if n != victim.name)
    record = json.loads((root / "synthetic.json").read_text())
    assert record["config"]["seed"] == 1 and not record["pending"]
    assert sorted(record["files"]) == names


def test_unreadable_record_is_refused_not_overwritten(tmp_path: Path) -> None:
    root = ensure_synthetic_dataset(tmp_path / "synthetic", TINY, workers=1)
    (root / "synthetic.json").write_text("{not json")
    before = snapshot(root)
    with pytest.raises(DeepdanceError, match="synthetic.json is not a record deepdance can read"):
        ensure_synthetic_dataset(root, TINY, workers=1)
    assert snapshot(root) == before


def test_interrupted_generation_resumes_in_its_own_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Names are recorded as pending before writing: a run killed half-way leaves a folder
    that the next run knows as its own and completes without rewriting what is there."""
    root = tmp_path / "synthetic"
    real_write = synthetic._write_job
    calls = []

    def dies_after_four(*args):
        if len(calls) == 4:
            raise KeyboardInterrupt
        calls.append(args)
        return real_write(*args)

    monkeypatch.setattr(synthetic, "_write_job", dies_after_four)
    with pytest.raises(KeyboardInterrupt):
        ensure_synthetic_dataset(root, TINY, workers=1)
    record = json.loads((root / "synthetic.json").read_text())
    assert len(record["pending"]) == 10 and len(list(root.glob("*.mp4"))) == 4
    first = snapshot(root)
    monkeypatch.setattr(synthetic, "_write_job", real_write)
    ensure_synthetic_dataset(root, TINY, workers=1)
    record = json.loads((root / "synthetic.json").read_text())
    assert not record["pending"] and len(record["files"]) == 10
    assert all(snapshot(root)[n] == h for n, h in first.items() if n.endswith(".mp4"))
    assert sorted(record["files"]) == sorted(job.name.filename() for job in video_jobs(TINY))


# ------------------------------------------------------------------- writers never replace


def test_video_writer_and_atomic_writer_never_replace_an_existing_file(tmp_path: Path) -> None:
    frames = np.zeros((2, 16, 16, 3), np.uint8)
    out = tmp_path / "dance.mp4"
    out.write_bytes(b"my holiday video")
    with pytest.raises(DeepdanceError, match=f"{out} exists"):
        write_mp4(out, frames, fps=10)
    assert out.read_bytes() == b"my holiday video"
    write_mp4(out, frames, fps=10, overwrite=True)
    assert out.read_bytes() != b"my holiday video"
    with pytest.raises(TargetExists):
        atomic_write_bytes(out, b"x", overwrite=False)
    assert out.stat().st_size > 100 and sorted(p.name for p in tmp_path.iterdir()) == ["dance.mp4"]


def test_generated_dance_never_replaces_the_users_mp4_or_gif(tmp_path: Path) -> None:
    from deepdance.models.dance_generator import Dance, DanceGenerator

    dance = Dance(frames=np.zeros((3, 16, 16, 3), np.uint8), fps=10.0, first_generated=1, seconds=0.1)
    (tmp_path / "dance.gif").write_bytes(b"my gif")
    with pytest.raises(DeepdanceError, match="dance.gif exists"):
        DanceGenerator.write(None, dance, tmp_path / "dance.mp4", gif=True)  # type: ignore[arg-type]
    # checked before anything is written: no mp4 either
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dance.gif"]
    assert (tmp_path / "dance.gif").read_bytes() == b"my gif"
    DanceGenerator.write(None, dance, tmp_path / "new.mp4", gif=True)  # type: ignore[arg-type]
    assert (tmp_path / "new.mp4").stat().st_size > 0 and (tmp_path / "new.gif").stat().st_size > 0
    (tmp_path / "strip.png").write_bytes(b"my png")
    with pytest.raises(DeepdanceError, match="strip.png exists"):
        DanceGenerator.write_strip(dance, tmp_path / "strip.png", count=2)
    assert (tmp_path / "strip.png").read_bytes() == b"my png"


def test_predict_output_replaces_only_an_earlier_prediction(tmp_path: Path) -> None:
    from deepdance.predict import write_output

    out = tmp_path / "genres.json"
    write_output(out, {"checkpoint": "a.ckpt", "videos": []})
    write_output(out, {"checkpoint": "b.ckpt", "videos": []})
    assert json.loads(out.read_text())["checkpoint"] == "b.ckpt"
    mine = tmp_path / "notes.json"
    mine.write_text('{"my": "notes"}')
    with pytest.raises(DeepdanceError, match="is not an earlier deepdance prediction"):
        write_output(mine, {"checkpoint": "c.ckpt", "videos": []})
    assert mine.read_text() == '{"my": "notes"}'


# ------------------------------------------------------------------- feature store orphans

HOLD_LOCK = """
import sys
from filelock import FileLock
lock = FileLock(sys.argv[1])
lock.acquire()
print("held", flush=True)
sys.stdin.read()
"""


def test_store_deletes_an_orphan_but_not_a_file_whose_writer_holds_the_lock(tmp_path: Path) -> None:
    from deepdance.features.store import FeatureKey, FeatureStore

    key = FeatureKey(
        backbone="b",
        weights="w",
        img_size=8,
        num_frames=2,
        clips=1,
        sampling="s",
        decoder="d",
        normalisation="n",
        precision="fp32",
    )
    store = FeatureStore(tmp_path, key)
    store.dir.mkdir(parents=True)
    live = store.dir / ".live-0123abcd.safetensors.k2j4_x9a.tmp"
    orphan = store.dir / ".dead-89abcdef.safetensors.q1w2e3r4.tmp"
    entry = store.dir / "kept-01234567.safetensors"
    for path in (live, orphan, entry):
        path.write_bytes(b"bytes")
    # The writer is another process (on a shared file system: possibly another node).
    lock_file = store.dir / ".locks" / "live-0123abcd.safetensors.lock"
    lock_file.parent.mkdir()
    writer = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(lock_file)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout.readline().strip() == "held"
        assert store.remove_orphans() == 1
        assert live.exists() and not orphan.exists() and entry.exists()
    finally:
        writer.communicate("", timeout=10)
    assert store.remove_orphans() == 1 and not live.exists() and entry.exists()


# ------------------------------------------------------------------- bench results


def _results(name: str) -> dict:
    config = {
        "backbone": "resnet10t",
        "img_size": 64,
        "num_frames": 4,
        "precision": "fp32",
        "batch_videos": 2,
        "num_workers": 1,
        "repeats": 1,
        "warmup": 1,
        "samplings": ["exact"],
    }
    return {
        "name": name,
        "command": "python -m deepdance.bench bench=smoke",
        "machine": bench_machine(),
        "config": config,
        "sets": [],
        "rows": [],
        "projection": [],
    }


def test_bench_results_go_to_the_run_dir_not_the_source_tree(tmp_path: Path) -> None:
    from deepdance.bench.runner import save_results

    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        cfg = compose("bench", overrides=["bench=smoke"])
    assert cfg.bench.out_dir is None
    source_tree = snapshot(REPO / "experiments")
    run = tmp_path / "run"
    paths = save_results(_results("smoke-cpu"), cfg.bench, run)
    assert sorted(p.name for p in paths) == ["smoke-cpu.json", "smoke-cpu.md"]
    assert all(p.parent == run for p in paths)
    assert json.loads((run / "smoke-cpu.json").read_text())["name"] == "smoke-cpu"
    assert snapshot(REPO / "experiments") == source_tree

    # An explicit bench.out_dir gets a copy, replacing earlier results but never a user's file.
    copies = tmp_path / "tables"
    bench = OmegaConf.merge(cfg.bench, {"out_dir": str(copies)})
    save_results(_results("smoke-cpu"), bench, run)
    save_results(_results("smoke-cpu"), bench, run)
    assert (copies / "smoke-cpu.md").read_text().startswith("# deepdance benchmark: smoke-cpu")
    (copies / "smoke-cpu.md").write_text("my notes")
    with pytest.raises(DeepdanceError, match="smoke-cpu.md exists and is not a deepdance benchmark result"):
        save_results(_results("smoke-cpu"), bench, run)
    assert (copies / "smoke-cpu.md").read_text() == "my notes"
