"""``python -m deepdance.score_generation`` with a pose-space dance generator (``experiment=pose_dance``):
end to end in this process on a tiny model fitted here (and saved as train saves it, retrieval bank
included), with an untrained skeleton recognizer; a conditioned model steered to each seed's genre;
an old checkpoint without a bank; and the refusals, each one line.

The dancers are ``tests.helpers.poses``' (two genres, 6 s at 30 fps), read at 10 fps, so that a 4 s
rollout is 40 poses."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from deepdance.config.pose_data import PoseDataConfig
from deepdance.config.pose_model import POSE_CLASSIFIER, PoseClassifierConfig
from deepdance.config.pose_motion import POSE_LSTM
from deepdance.data.aist.annotations import write_keypoints3d
from deepdance.models.pose_lstm_module import PoseLSTMModule
from deepdance.models.pose_module import PoseClassifier
from tests.helpers.models import fit_tiny_pose_lstm, save_like_train
from tests.helpers.poses import write_dance_folder
from tests.helpers.runs import compose_config, run_task, user_error

LOOK_BACK = 6
FPS = 10.0
STEPS = 40  # 4 s at FPS
METRICS = ("liveliness_ratio", "fid_k", "fid_g", "div_k", "div_g", "novelty", "fdd", "genre_acc")
METHODS = ("", "_repeat", "_ridge", "_retrieval")


def fit(root: Path, condition: str | None = None) -> tuple[PoseLSTMModule, dict[str, Any]]:
    """A tiny generator fitted for 20 steps at ``FPS``, and its data node."""
    return fit_tiny_pose_lstm(root, LOOK_BACK, 20, condition, fps=FPS)


def recognizer(root: Path, path: Path, kind: str = "2d") -> Path:
    """An untrained skeleton genre classifier, saved as train saves it."""
    torch.manual_seed(0)
    config = PoseClassifierConfig(
        optimizer={"_target_": "torch.optim.Adam", "lr": 0.01},
        kind=kind,
        class_names=["BR", "PO"],
        encoder={"hidden": [16]},
        head={"gru_sizes": [8], "dense": 8, "dropout": 0.0},
    )
    data = PoseDataConfig(root=str(root), kind=kind, num_frames=8).model_dump(mode="json", by_alias=True)
    return save_like_train(PoseClassifier(config).eval(), path, POSE_CLASSIFIER, data)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    torch.set_num_threads(1)
    base = tmp_path_factory.mktemp("pose_score")
    root = write_dance_folder(base / "dances", ("BR", "PO"), dancers_per_genre=2, frames=180)
    model, data = fit(root)
    conditioned, conditioned_data = fit(root, "genre")
    return {
        "root": root,
        "model": model,
        "ckpt": save_like_train(model, base / "pose_dance.ckpt", POSE_LSTM, data),
        "conditioned": save_like_train(conditioned, base / "conditioned.ckpt", POSE_LSTM, conditioned_data),
        "recognizer": recognizer(root, base / "pose_gru.ckpt"),
        "base": base,
    }


def score(tiny: dict[str, Any], out: Path, *overrides: str) -> dict[str, Any]:
    from deepdance.score_generation import score as task

    cfg = compose_config("score_generation", [*overrides, f"hydra.run.dir={out}"])
    run_task(task, cfg)
    return json.loads((out / "summary.json").read_text())


def genres_asked_of_rollout(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every ``PoseLSTMModule.rollout`` call's genre argument, in call order (the rollout still runs)."""
    asked: list[Any] = []
    original = PoseLSTMModule.rollout

    def spy(self: PoseLSTMModule, *args: Any, **kwargs: Any) -> torch.Tensor:
        asked.append(args[2] if len(args) > 2 else kwargs.get("genre"))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(PoseLSTMModule, "rollout", spy)
    return asked


def test_split_all_scores_every_method_and_its_baselines(tiny: dict[str, Any], tmp_path: Path) -> None:
    # the bank is fitted with the ridge and stored: every train window fits 6 + 40 poses
    assert tiny["model"].retrieval_windows.shape[1:] == (LOOK_BACK + STEPS, 34)
    out = tmp_path / "all"
    summary = score(
        tiny,
        out,
        f"lstm_ckpt={tiny['ckpt']}",
        f"data_root={tiny['root']}",
        "split=all",
        "rollouts=8",
        f"recognizer_ckpt={tiny['recognizer']}",
    )
    for metric in METRICS:
        for suffix in METHODS:
            key = f"gen/{metric}{suffix}"
            assert key in summary and math.isfinite(summary[key]), key
    for key in ("gen/fid_k_floor", "gen/liveliness_real", "gen/genre_acc_real"):
        assert math.isfinite(summary[key]), key
    assert "gen/fid_k_floor_ridge" not in summary  # the real sequences' metrics are written once
    assert summary["gen/liveliness_ratio_repeat"] == 0.0
    # the retrieved window is a stored training window: no novelty; the LSTM's rollouts have some
    assert summary["gen/novelty_retrieval"] == 0.0
    assert summary["gen/novelty"] > 0
    assert summary["gen/liveliness_ratio"] > 0
    # 16 views (2 genres x 2 dancers x 2 musics x 2 views), 8 seeds
    assert summary["gen/n_seeds"] == 8 and summary["gen/n_real"] == 16
    assert summary["steps"] == STEPS and summary["split"] == "all"
    assert (out / "run_info.json").is_file()
    # an unconditioned model is asked no genre: no steering keys
    assert not any(k.startswith(("gen_random/", "gen_cross/")) for k in summary)


def test_a_conditioned_model_is_graded_on_steering(tiny: dict[str, Any], tmp_path: Path) -> None:
    summary = score(
        tiny,
        tmp_path / "steered",
        f"lstm_ckpt={tiny['conditioned']}",
        f"uncond_ckpt={tiny['ckpt']}",
        f"data_root={tiny['root']}",
        "split=all",
        "rollouts=4",
        "random_rollouts=2",
        f"recognizer_ckpt={tiny['recognizer']}",
    )
    for key in ("gen_random/genre_acc", "gen_random/liveliness_ratio", "gen_cross/genre_acc"):
        for suffix in ("", "_uncond"):
            assert 0.0 <= summary[f"{key}{suffix}"] <= 1.0, key + suffix
    assert math.isfinite(summary["gen_random/fid_k"]) and "gen_random/fid_k_floor" not in summary
    # two genres asked, two random seeds each; each of the 4 held-out seeds asked its other genre
    assert summary["gen_random/chance"] == 0.5
    assert summary["gen_random/n_seeds"] == 4 and summary["gen_cross/n_seeds"] == 4


def test_steering_accuracy_counts_the_genre_asked(
    tiny: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from deepdance.errors import DeepdanceError
    from deepdance.models.pose_generation_scoring import PoseScoringSettings, load_pose_scorer

    def steering(genres: tuple[str, ...] | None) -> Any:
        settings = PoseScoringSettings(rollouts=8, random_rollouts=3, split="all", genres=genres)
        scorer = load_pose_scorer(
            str(tiny["conditioned"]),
            settings,
            recognizer_ckpt=str(tiny["recognizer"]),
            uncond_ckpt=str(tiny["ckpt"]),
            data_root=str(tiny["root"]),
        )

        # a recognizer that always answers PO
        def always_po(clips: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
            logits = torch.zeros(len(clips), 2)
            logits[:, 1] = 1.0
            return torch.zeros(len(clips), 4), logits

        monkeypatch.setattr(scorer.recognizer, "outputs", always_po)
        return scorer

    scorer = steering(None)
    both = scorer.steering.accuracies(scorer.steering.random(), "gen_random")
    assert both == {"gen_random/genre_acc": 0.5, "gen_random/genre_acc_uncond": 0.5}
    only_po = steering(("PO",)).steering
    assert only_po.accuracies(only_po.random(), "gen_random")["gen_random/genre_acc"] == 1.0
    asked = genres_asked_of_rollout(monkeypatch)
    context, genres = scorer.seeds()
    crossed = scorer.steering.cross(context, genres)
    # each seed asked the genre it does not show, and the LSTM steered to it
    other = ["PO" if g == "BR" else "BR" for g in genres]
    assert crossed.genres == other and sorted(set(genres)) == ["BR", "PO"]
    assert asked[0].tolist() == [["BR", "PO"].index(g) for g in other] and asked[1] is None
    share = sum(g == "PO" for g in other) / len(other)
    assert scorer.steering.accuracies(crossed, "gen_cross") == {
        "gen_cross/genre_acc": share,
        "gen_cross/genre_acc_uncond": share,
    }
    with pytest.raises(DeepdanceError, match="genres: XX not learned by lstm_ckpt; accepted: BR, PO"):
        steering(("XX",))


def test_cross_asks_take_turns_over_the_other_genres_up_to_the_cap() -> None:
    from deepdance.models.pose_steering import cross_asks

    assert cross_asks(["A", "B"], ["A", "B", "C"], 10) == ([0, 1, 0, 1], ["B", "C", "C", "A"])
    assert cross_asks(["A", "B"], ["A", "B", "C"], 3) == ([0, 1, 0], ["B", "C", "C"])
    assert cross_asks(["A", "A"], ["A"], 5) == ([], [])


def test_a_conditioned_model_is_steered_to_each_seeds_genre(
    tiny: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from deepdance.models.pose_generation_scoring import PoseScoringSettings, load_pose_scorer

    scorer = load_pose_scorer(
        str(tiny["conditioned"]),
        PoseScoringSettings(rollouts=8, split="all"),
        uncond_ckpt=str(tiny["ckpt"]),
        data_root=str(tiny["root"]),
    )
    context, genres = scorer.seeds()
    assert sorted(set(genres)) == ["BR", "PO"]
    asked = genres_asked_of_rollout(monkeypatch)
    methods = scorer.methods(context, genres)
    module = scorer.module
    expected = torch.cat([module.genre_class(g) for g in genres])
    # the conditioned model in each seed's genre, the unconditioned one in none
    assert len(asked) == 2 and torch.equal(asked[0].cpu(), expected) and asked[1] is None
    assert methods["_uncond"].shape == methods[""].shape == (len(genres), STEPS + 1, 34)
    # the retrieved continuation is a bank window of the seed's own genre
    bank, bank_genres = module.retrieval_windows, module.retrieval_genres
    continuations = bank[:, LOOK_BACK - 1 :].flatten(1)
    for row, genre in enumerate(genres):
        match = (continuations == methods["_retrieval"][row].flatten()).all(dim=1).nonzero()
        assert len(match) and all(bank_genres[m].item() == ["BR", "PO"].index(genre) for m in match)


def test_a_checkpoint_without_a_bank_is_scored_without_retrieval(
    tiny: dict[str, Any], tmp_path: Path
) -> None:
    checkpoint = torch.load(tiny["ckpt"], weights_only=False)
    for name in ("retrieval_windows", "retrieval_genres"):
        del checkpoint["state_dict"][name]
    old = tmp_path / "old.ckpt"
    torch.save(checkpoint, old)
    out = tmp_path / "old"
    summary = score(tiny, out, f"lstm_ckpt={old}", f"data_root={tiny['root']}", "split=all", "rollouts=4")
    assert "gen/fid_k_ridge" in summary and not any(k.endswith("_retrieval") for k in summary)
    assert "no _retrieval keys" in (out / "score_generation.log").read_text()


def test_refusals_are_one_line(tiny: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from deepdance.score_generation import score as task

    empty = tmp_path / "empty"
    empty.mkdir()
    only3d = tmp_path / "only3d"
    write_keypoints3d(only3d / "keypoints3d" / "gBR_sBM_cAll_d01_mBR0_ch01.pkl", np.zeros((50, 17, 3)))
    recognizer3d = recognizer(tiny["root"], tmp_path / "pose_gru3d.ckpt", kind="3d")
    base = [f"lstm_ckpt={tiny['ckpt']}", "rollouts=4"]
    here = [f"data_root={tiny['root']}", "split=all"]
    cases = [
        ([f"data_root={empty}", "split=all"], f"data_root={empty}: no keypoints2d/*.pkl"),
        ([f"data_root={only3d}", "split=all"], "this pose generator dances in 2d (data.kind=2d)"),
        ([*here, "steps=20"], "steps=20: pose rollouts are scored over at least 4 s, 40 steps"),
        ([*here, f"recognizer_ckpt={recognizer3d}"], "recognizer_ckpt: a 3d skeleton classifier"),
        (["split=all"], "split=all scores every sequence of data_root="),
    ]
    for extra, expected in cases:
        cfg = compose_config("score_generation", [*base, *extra, f"hydra.run.dir={tmp_path / 'refused'}"])
        message = user_error(lambda c: run_task(task, c), cfg, capsys)
        assert expected in message, message


def test_noise_makes_the_next_step_stochastic_but_seeded(tiny: dict[str, Any]) -> None:
    from deepdance.models.pose_generation_scoring import PoseScoringSettings, load_pose_scorer

    def rollouts(noise: float, seed: int = 0) -> torch.Tensor:
        settings = PoseScoringSettings(rollouts=4, split="all", noise=noise, seed=seed)
        scorer = load_pose_scorer(str(tiny["ckpt"]), settings, data_root=str(tiny["root"]))
        context, genres = scorer.seeds()
        return scorer.roll(scorer.module, "", context, genres)

    plain, noisy = rollouts(0.0), rollouts(0.5)
    assert not torch.allclose(plain, noisy)
    assert torch.equal(noisy, rollouts(0.5)) and not torch.equal(noisy, rollouts(0.5, seed=1))
