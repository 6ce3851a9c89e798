"""Generated dances scored by a recognizer (deepdance.models.generation_scoring and its entry point
deepdance.score_generation), the per-genre grid of ``generate grid=true``, and the GenerationScores
callback logging a video per genre to an offline W&B run."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from deepdance.data.synthetic import SyntheticConfig, ensure_synthetic_dataset
from deepdance.errors import DeepdanceError
from deepdance.models.generation_recognizer import SilhouetteRecognizer, frame_stride, recognizer_fps
from deepdance.models.genre_module import GenreClassifier
from tests.helpers.runs import compose_config, run_generate, run_task, tiny_deep_dance, train_in_process
from tests.test_scale_out import wandb_run_records
from tests.test_silhouette_dancers import LABELLED

# 10 genres x 3 dancers (1 train, 1 val, 1 test each), 6 s at 6 fps: 36 frames a video, enough
# for a 30-step rollout after 4 seed frames.
LONG = {**LABELLED, "seconds": 6.0, "fps": 6}
THREE = ("BR", "HO", "KR")
METHODS = ("", "_repeat", "_ridge", "_retrieval", "_uncond")
PER_METHOD = ("fdd", "liveliness", "liveliness_ratio", "diversity", "novelty", "genre_acc")
REAL = ("fdd_floor", "liveliness_real", "diversity_real")


def _classifier(class_names: list[str] | None = None) -> GenreClassifier:
    """An untrained tiny silhouette recognizer (genre_small's settings)."""
    return GenreClassifier.from_hparams(
        {
            "backbone": {"name": "test_resnet", "pretrained": False, "weights": None, "freeze": False},
            "head": {"gru_sizes": [8], "dense": 8, "dropout": 0.0},
            "optimizer": {"_target_": "torch.optim.AdamW", "_partial_": True, "lr": 0.001},
            "img_size": 32,
            "class_names": class_names or list(THREE),
            "frame_diff": True,
        }
    ).eval()


# ---------------------------------------------------------------------------- the recognizer's view


def test_clip_outputs_are_the_forward_logits_and_their_pooled_state() -> None:
    torch.manual_seed(0)
    model = _classifier()
    frames = torch.randint(0, 256, (2, 5, 3, 32, 32), dtype=torch.uint8)
    mask = torch.ones(2, 5, dtype=torch.bool)
    features, logits = model.clip_outputs(frames, mask)
    assert features.shape == (2, 8) and logits.shape == (2, 3)
    torch.testing.assert_close(logits, model(frames, mask))


def test_generated_frames_reach_the_recognizer_as_its_own_videos() -> None:
    """Size, polarity, rate and length are converted explicitly: a 48x80 clip of 12 frames at
    12 fps, 1 = dancer, becomes 6 fps (every second frame), at most num_frames=4 frames sampled
    as the recognizer samples a video, 32x32 centre squares, black dancer on white."""
    data = {"num_frames": 4, "img_size": 32, "synthetic": {"seconds": 2.0, "silhouette": True}}
    assert recognizer_fps(data) == 2.0 and recognizer_fps(data, given=6) == 6.0
    recognizer = SilhouetteRecognizer(_classifier(), {**data, "synthetic": None}, 12.0, clip_fps=6.0)
    frames = torch.zeros(2, 12, 48, 80)
    # a dancer column in the centre of every frame
    frames[..., 20:30, 38:42] = 1.0
    clips = recognizer.clip_frames(frames)
    assert clips.shape == (2, 4, 3, 32, 32) and clips.dtype == torch.uint8
    assert clips[0, 0, :, 0, 0].tolist() == [255, 255, 255]
    assert (clips[..., 16, 16] == 0).all()
    features, logits = recognizer.outputs(frames)
    assert features.shape == (2, 8) and logits.shape == (2, 3)


def test_mismatched_rates_and_unknown_rates_are_refused_in_one_line() -> None:
    assert frame_stride(6.0, 6.0) == 1 and frame_stride(6.0, 3.0) == 2
    for generator, clip in ((6.0, 4.0), (3.0, 6.0)):
        with pytest.raises(DeepdanceError) as err:
            frame_stride(generator, clip)
        assert "\n" not in str(err.value) and f"{clip:g} fps" in str(err.value)
    with pytest.raises(DeepdanceError, match="recognizer_fps is required"):
        recognizer_fps({"num_frames": 4, "synthetic": None})
    colour = {"num_frames": 4, "img_size": 32, "synthetic": {"seconds": 2.0, "silhouette": False}}
    with pytest.raises(DeepdanceError, match="trained on silhouettes"):
        SilhouetteRecognizer(_classifier(), colour, 2.0)


# ---------------------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def three_genres(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three genres of the long labelled dancers, 9 AIST++-named videos."""
    import cv2

    root = tmp_path_factory.mktemp("long_dancers")
    threads = cv2.getNumThreads()
    ensure_synthetic_dataset(root / "all", SyntheticConfig(**LONG), workers=1)
    cv2.setNumThreads(threads)
    three = root / "three"
    three.mkdir()
    for path in sorted((root / "all").glob("g*.mp4")):
        if path.name[1:3] in THREE:
            shutil.copy(path, three / path.name)
    return three


@pytest.fixture(scope="module")
def recognizer_ckpt(three_genres: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """experiment=silhouette_genre on the three genres, one epoch, clips of 36 frames (6 fps)."""
    run = tmp_path_factory.mktemp("recognizer")
    train_in_process(
        [
            "experiment=silhouette_genre",
            f"data.root={three_genres}",
            "data.synthetic=null",
            f"data.genres=[{','.join(THREE)}]",
            "data.num_frames=36",
            "data.img_size=32",
            "data.num_workers=0",
            "data.persistent_workers=false",
            "data.test_clips=1",
            "trainer.max_epochs=1",
            "trainer.accelerator=cpu",
            "callbacks.rich_progress_bar=null",
            "print_config=false",
            "logger=csv",
            f"hydra.run.dir={run / 'run'}",
            f"paths.log_dir={run / 'logs'}",
        ]
    )
    return Path(json.loads((run / "run" / "summary.json").read_text())["best_ckpt"])


def _lstm_run(three_genres: Path, run: Path, *lstm: str) -> Path:
    """experiment=deep_dance on the three genres held out by dancer at 6 fps, look_back 4."""
    train_in_process(
        tiny_deep_dance(
            run,
            f"data.root={three_genres}",
            "data.split=dancer",
            "data.fps=6",
            f"hydra.run.dir={run / 'run'}",
            "logger=csv",
            lstm=("model.look_back=4", "model.rollout_horizons=[1,3]", "callbacks.rollout_video=null", *lstm),
        )
    )
    return run / "run"


@pytest.fixture(scope="module")
def conditioned(three_genres: Path, recognizer_ckpt: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The conditioned LSTM, trained with the GenerationScores callback logging to offline W&B."""
    return _lstm_run(
        three_genres,
        tmp_path_factory.mktemp("conditioned"),
        "model.condition=genre",
        "logger=wandb",
        "callbacks=[default,generation_scores]",
        "callbacks.rollout_video=null",
        "callbacks.generation_scores.every_n_epochs=1",
        f"callbacks.generation_scores.recognizer_ckpt={recognizer_ckpt}",
        "callbacks.generation_scores.recognizer_fps=6",
        "callbacks.generation_scores.rollouts=3",
        "callbacks.generation_scores.random_rollouts=2",
        "callbacks.generation_scores.train_clips=6",
    )


def _best(run: Path) -> Path:
    return Path(json.loads((run / "summary.json").read_text())["best_ckpt"])


def _score(tmp_path: Path, *overrides: str) -> dict:
    from deepdance.score_generation import score

    cfg = compose_config("score_generation", [*overrides, f"hydra.run.dir={tmp_path / 'score'}"])
    run_task(score, cfg)
    return json.loads((tmp_path / "score" / "summary.json").read_text())


@pytest.mark.slow
def test_scorer_writes_every_key_for_the_lstm_and_its_baselines(
    three_genres: Path, recognizer_ckpt: Path, conditioned: Path, tmp_path: Path
) -> None:
    uncond = _best(_lstm_run(three_genres, tmp_path / "uncond"))
    summary = _score(
        tmp_path,
        f"lstm_ckpt={_best(conditioned)}",
        f"recognizer_ckpt={recognizer_ckpt}",
        f"uncond_ckpt={uncond}",
        "recognizer_fps=6",
        "rollouts=6",
        "steps=30",
        "random_rollouts=2",
        "train_clips=9",
    )
    for prefix in ("gen", "gen_random"):
        keys = [f"{prefix}/{m}{s}" for m in PER_METHOD for s in METHODS] + [f"{prefix}/{m}" for m in REAL]
        for key in keys:
            assert key in summary and math.isfinite(summary[key]), key
        # a copied training clip is no novelty; a held frame no motion
        assert summary[f"{prefix}/novelty_retrieval"] == 0.0
        assert summary[f"{prefix}/liveliness_repeat"] == 0.0
        assert summary[f"{prefix}/liveliness_ratio_repeat"] == 0.0
        assert summary[f"{prefix}/novelty"] > 0
    # the recognizer's accuracy on the real clips: a share of the 6 held-out windows (2 per test dancer)
    assert summary["gen/genre_acc_real"] * 6 == pytest.approx(round(summary["gen/genre_acc_real"] * 6))
    assert summary["steps"] == 30 and summary["split"] == "test"


@pytest.mark.slow
def test_scorer_refuses_what_it_cannot_grade_in_one_line(
    recognizer_ckpt: Path, conditioned: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from deepdance.score_generation import score
    from tests.helpers.runs import user_error

    base = [f"lstm_ckpt={_best(conditioned)}", f"recognizer_ckpt={recognizer_ckpt}", "rollouts=2"]
    cases = [
        (["recognizer_fps=4"], "recognizer reads clips at 4 fps"),
        (["recognizer_fps=6", "steps=20"], "steps=20: expected an integer >= 30"),
        (["recognizer_fps=6", "steps=40"], "steps=40: no test segment holds 40 frames"),
        (["recognizer_fps=6", "genres=[WA]"], "genre=WA is not a genre this checkpoint learned"),
        (["recognizer_fps=6", f"uncond_ckpt={_best(conditioned)}"], "uncond_ckpt: a genre-conditioned"),
    ]
    for extra, expected in cases:
        cfg = compose_config("score_generation", [*base, *extra, f"hydra.run.dir={tmp_path / 'refused'}"])
        message = user_error(lambda c: run_task(score, c), cfg, capsys)
        assert expected in message, message


@pytest.mark.slow
def test_generate_grid_draws_one_row_per_genre(conditioned: Path, tmp_path: Path) -> None:
    from PIL import Image

    out = tmp_path / "genres.mp4"
    stats = run_generate(
        compose_config(
            "generate",
            [
                f"ckpt_path={_best(conditioned)}",
                "grid=true",
                "steps=6",
                f"out={out}",
                f"hydra.run.dir={tmp_path}/g",
            ],
        )
    )[0]
    assert stats["genres"] == list(THREE) and not out.exists()
    image = np.asarray(Image.open(out.with_suffix(".png")))
    # 24x40 frames shown 2x: one 48-pixel row per genre, 2-pixel gaps
    assert image.shape[0] == 3 * 48 + 2 * 2 and image.shape[2] == 3
    rows = [image[r * 50 : r * 50 + 48, 36:] for r in range(3)]
    assert not np.array_equal(rows[0], rows[1]) and not np.array_equal(rows[1], rows[2])


@pytest.mark.slow
def test_callback_logs_a_video_per_genre_and_the_metrics_to_offline_wandb(conditioned: Path) -> None:
    lstm_dir = conditioned / "lstm"
    assert sorted(p.name for p in (lstm_dir / "generated").iterdir()) == [
        f"epoch_000_{genre}.mp4" for genre in THREE
    ]
    (run_dir,) = (lstm_dir / "wandb").glob("offline-run-*")
    videos = sorted(p.name for p in (run_dir / "files" / "media" / "videos").rglob("*.mp4"))
    assert len(videos) == 3 and all(name.startswith(f"generated_{g}") for name, g in zip(videos, THREE))
    # the run's transaction log (offline runs keep no summary file) holds the logged metric keys
    assert wandb_run_records(run_dir)["exit_code"] == 0
    log = next(run_dir.glob("*.wandb")).read_bytes()
    assert b"gen/fdd" in log and b"gen_random/genre_acc" in log and b"gen/liveliness_ratio_ridge" in log
