"""Multi-clip test evaluation: which clips are read, how their probabilities are averaged,
and the view vote across cameras."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from deepdance.data.video.clip_sampling import ClipSampler, clip_offsets, nearest_clips, plan_eval_clips
from deepdance.models.genre_module import GenreClassifier, view_vote_accuracy


def test_clip_offsets_and_plans() -> None:
    assert clip_offsets(1) == [0.5]
    assert clip_offsets(4) == [0.125, 0.375, 0.625, 0.875]
    odd = plan_eval_clips(3)  # the centre is one of the three clips
    assert (
        odd.offsets == pytest.approx((0.5, 1 / 6, 5 / 6))
        and odd.multi == (True, True, True)
        and odd.num_multi == 3
    )
    even = plan_eval_clips(2)  # the centre clip is read only for the single-clip metric
    assert even.offsets == (0.5, 0.25, 0.75) and even.multi == (False, True, True) and even.num_multi == 2
    assert plan_eval_clips(1).offsets == (0.5,) and plan_eval_clips(1).multi == (True,)
    # the sampler's test clips: K evenly spread (store, predict), and the plan (test dataset)
    assert ClipSampler(4, clips=2).test_plan == even
    assert ClipSampler(4, clips=4).test_offsets == clip_offsets(4)
    with pytest.raises(ValueError):
        clip_offsets(0)


def test_nearest_stored_clips() -> None:
    stored = clip_offsets(5)  # 0.1 0.3 0.5 0.7 0.9
    assert nearest_clips(stored, [0.5]) == [2]
    assert nearest_clips(stored, clip_offsets(3)) == [0, 2, 4]
    assert nearest_clips(stored, clip_offsets(5)) == [0, 1, 2, 3, 4]
    # what the stored-feature test dataset reads: centre first, and which clips are averaged
    assert ClipSampler(4, clips=3).test_stored_clips(stored) == ([2, 0, 4], [True, True, True])
    assert ClipSampler(4, clips=2).test_stored_clips(stored) == ([2, 1, 3], [False, True, True])
    assert ClipSampler(4).eval_stored_clip(stored) == 2


def _model() -> GenreClassifier:
    return GenreClassifier.from_hparams(
        {
            "backbone": {"name": "resnet10t", "pretrained": False, "freeze": True},
            "head": {"gru_sizes": [8]},
            "optimizer": {"_target_": "torch.optim.Adam", "_partial_": True, "lr": 1e-3},
            "img_size": 32,
            "class_names": ["A", "B", "C"],
        }
    )


def test_k_clip_probabilities_are_averaged_and_only_over_multi_clips(monkeypatch: pytest.MonkeyPatch) -> None:
    model = _model()
    # Two videos (label 0), three clips each: clip 0 is the centre (single-clip metric).
    logits = torch.tensor(
        [
            [[0.0, 5.0, 0.0], [9.0, 0.0, 0.0], [9.0, 0.0, 0.0]],  # centre says B, the average A
            [
                [0.0, 0.0, 5.0],
                [0.0, 0.0, 4.0],
                [9.0, 0.0, 0.0],
            ],  # centre C; multi excludes clip 0: C (clip 1) vs A (clip 2)
        ]
    )
    monkeypatch.setattr(model, "_logits", lambda batch: logits.flatten(0, 1))
    batch = {
        "features": torch.zeros(2, 3, 4, 8),
        "mask": torch.ones(2, 3, 4, dtype=torch.bool),
        "multi": torch.tensor([[True, True, True], [False, True, True]]),
        "label": torch.tensor([0, 0]),
        "video": torch.tensor([0, 1]),
        "sequence": torch.tensor([0, 0]),
    }
    model.test_step(batch, 0)
    assert model.test_metrics.compute()["acc"] == 0.0  # both centre clips are wrong
    probs = logits.softmax(-1)
    expected_first = probs[0].mean(0).argmax()
    expected_second = probs[1, 1:].mean(0).argmax()
    assert (int(expected_first), int(expected_second)) == (0, 0)
    assert model.test_metrics_clips.compute()["acc"] == 1.0
    averaged = model.test_outputs[0]["clips"]
    torch.testing.assert_close(averaged[1], probs[1, 1:].mean(0))


def test_view_vote_averages_cameras_of_a_sequence() -> None:
    outputs = {
        "sequence": torch.tensor([0, 0, 0, 1, 1, 1, 2, 2, 2]),
        "label": torch.tensor([1, 1, 1, 0, 0, 0, 0, 0, 0]),
        "clips": torch.tensor(
            [
                # one camera wrong, the vote right
                [0.6, 0.4],
                [0.3, 0.7],
                [0.2, 0.8],
                # two cameras narrowly wrong, one sure: a majority would say 1, the average says 0
                [0.9, 0.1],
                [0.45, 0.55],
                [0.45, 0.55],
                # every camera wrong: no vote helps
                [0.4, 0.6],
                [0.3, 0.7],
                [0.45, 0.55],
            ]
        ),
    }
    per_video = float((outputs["clips"].argmax(-1) == outputs["label"]).float().mean())
    assert per_video == pytest.approx(3 / 9)
    # averaged probabilities: right, right, wrong (a majority vote would give 1/3)
    assert view_vote_accuracy(outputs) == pytest.approx(2 / 3)


@pytest.fixture(scope="module")
def three_cameras(tmp_path_factory: pytest.TempPathFactory):
    """Tiny synthetic dancers seen by three cameras (the conftest set has one)."""
    from deepdance.data.synthetic import SyntheticConfig, ensure_synthetic_dataset

    root = tmp_path_factory.mktemp("three_cameras")
    config = SyntheticConfig(seed=3, dancers_per_genre=3, cameras=3, musics=1, seconds=1.0, fps=15, size=64)
    ensure_synthetic_dataset(root, config)
    return root


def test_view_vote_through_the_test_loop_on_three_cameras(three_cameras, tmp_path) -> None:
    """The datamodule groups the cameras of one sequence and the test loop averages them:
    camera 1 is sure of the right genre, cameras 2 and 3 narrowly wrong, so each sequence has
    one right video in three and a right vote."""
    import pytorch_lightning as pl

    from deepdance.config.data import GenreDataConfig
    from deepdance.data.genre.datamodule import GenreDataModule

    datamodule = GenreDataModule(
        GenreDataConfig(
            root=str(three_cameras),
            genres=["BR", "KR"],
            num_frames=4,
            img_size=32,
            batch_size=4,
            num_workers=0,
            persistent_workers=False,
            test_clips=1,
            view_vote=True,
        )
    )
    model = GenreClassifier.from_hparams(
        {
            "backbone": {"name": "resnet10t", "pretrained": False},
            "head": {"gru_sizes": [8]},
            "optimizer": {"_target_": "torch.optim.Adam", "_partial_": True, "lr": 1e-3},
            "img_size": 32,
            "class_names": ["BR", "KR"],
        }
    )
    batch_videos: list[torch.Tensor] = []
    original_step = model.test_step

    def test_step(batch: dict, batch_idx: int):
        batch_videos.append(batch["video"])
        return original_step(batch, batch_idx)

    def camera_logits(flat: dict) -> torch.Tensor:
        # (B * K) rows, clip-major within each video; K = 1 here
        manifest = datamodule.manifest.set_index("video_id")
        rows = manifest.loc[batch_videos[-1].tolist()]
        right = torch.tensor([0.9 if camera == "01" else 0.45 for camera in rows["camera"]])
        right = right.repeat_interleave(len(flat["mask"]) // len(rows))
        labels = torch.tensor(rows["label"].to_numpy()).repeat_interleave(len(flat["mask"]) // len(rows))
        columns = [torch.where(labels == genre, right, 1 - right) for genre in (0, 1)]
        probs = torch.stack(columns, dim=-1)
        return probs.log()

    model.test_step = test_step
    model._logits = camera_logits
    trainer = pl.Trainer(
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=str(tmp_path),
    )
    (metrics,) = trainer.test(model, datamodule=datamodule)
    test = datamodule.manifest[datamodule.manifest["split"] == "test"]
    # 2 genres x 1 test dancer x 3 cameras
    assert len(test) == 6 and test.groupby("sequence_id")["camera"].nunique().tolist() == [3, 3]
    assert metrics["test/acc"] == pytest.approx(1 / 3)
    assert metrics["test/acc_views"] == 1.0


def test_video_mode_test_items_hold_every_planned_clip(tiny_synthetic) -> None:
    from deepdance.config.data import GenreDataConfig
    from deepdance.data.genre.datamodule import GenreDataModule

    datamodule = GenreDataModule(
        GenreDataConfig(root=str(tiny_synthetic), num_frames=4, img_size=32, num_workers=0, test_clips=2)
    )
    datamodule.setup("test")
    item = datamodule.datasets["test"][0]
    assert item["frames"].shape == (3, 4, 3, 32, 32) and item["multi"].tolist() == [False, True, True]
    frames = item["frames"]  # clip 0 (centre) must differ from the offset clips on a moving dancer
    assert not torch.equal(frames[0], frames[1])
    centre = np.asarray(item["indices"][0])
    assert centre.tolist() == [1, 5, 9, 13]  # 15 frames in 4 segments: centres of [0,3.75) [3.75,7.5) ...
