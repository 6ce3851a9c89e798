"""Every user mistake is one line, found before anything heavy (the README's error promise).

The table runs in-process: each bad command's config is composed with Hydra's compose API from
the repository's conf/ and given to the same start-up check the CLI calls first. A handful of
rows then run as real processes to prove the exit code 2, the single ``error:`` line and the
absence of a traceback; and one test shows nothing was generated, opened or built.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from hydra.errors import HydraException
from omegaconf import DictConfig, open_dict

from deepdance.bench.config import validate_bench
from deepdance.config import validate as checks
from deepdance.config.data import GENRE_DATA, SILHOUETTE_DATA
from deepdance.config.download import validate_download_args
from deepdance.config.model import AUTOENCODER, CLASSIFIER, LATENT_LSTM
from deepdance.config.pose_model import POSE_CLASSIFIER
from deepdance.config.pose_motion import POSE_LSTM, POSE_MOTION
from deepdance.errors import DeepdanceError, VideoError
from deepdance.models.registry import MODEL_FAMILIES
from deepdance.utils.run import find_user_error
from tests.helpers.runs import REPO, run_cli

LSTM = LATENT_LSTM
assert {CLASSIFIER, AUTOENCODER, LSTM, POSE_CLASSIFIER, POSE_LSTM} == set(MODEL_FAMILIES)
GENRE_DATA_CFG = {
    "_target_": GENRE_DATA,
    "root": "unused",
    "num_frames": 8,
    "img_size": 64,
    "batch_size": 2,
    "num_workers": 0,
    "synthetic": {"seed": 0, "dancers_per_genre": 3},
}
SILHOUETTE_DATA_CFG = {"_target_": SILHOUETTE_DATA, "root": None, "batch_size": 4}


def fill(text: str, files: dict[str, str]) -> str:
    """``{name}`` -> the path ``files[name]`` (Hydra's own braces are left alone)."""
    for name, path in files.items():
        text = text.replace(f"{{{name}}}", path)
    return text


def _checkpoint(path: Path, target: str, data: dict[str, Any]) -> str:
    """A checkpoint holding only what the start-up checks read: its deepdance metadata."""
    torch.save({"state_dict": {}, "deepdance": {"model_target": target, "data": data}}, path)
    return str(path)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Paths the rows refer to: checkpoints of each family, missing and wrong-kind files."""
    root = tmp_path_factory.mktemp("cli_errors")
    five = root / "five_clips"
    five.mkdir()
    # five AIST++ names, two dancers per genre at most: too few for a dancer split (never decoded)
    for name in (
        "gBR_sBM_c01_d04_mBR0_ch01",
        "gBR_sBM_c01_d05_mBR0_ch01",
        "gPO_sBM_c01_d06_mPO0_ch01",
        "gPO_sBM_c01_d07_mPO0_ch01",
        "gLO_sBM_c01_d13_mLO0_ch01",
    ):
        (five / f"{name}.mp4").write_bytes(b"not decoded")
    (root / "empty.ckpt").write_bytes(b"")
    # a keypoints2d file by its name (the start-up checks never open it)
    (root / "gBR_sBM_cAll_d04_mBR0_ch01.pkl").write_bytes(b"not read")
    pose_data = {"_target_": "deepdance.data.pose.PoseDataModule", "root": "unused", "kind": "2d"}
    (root / "plain.txt").write_text("a file, not a folder\n")
    return {
        "classifier": _checkpoint(root / "classifier.ckpt", CLASSIFIER, GENRE_DATA_CFG),
        "ae": _checkpoint(root / "ae.ckpt", AUTOENCODER, SILHOUETTE_DATA_CFG),
        "lstm": _checkpoint(root / "lstm.ckpt", LSTM, SILHOUETTE_DATA_CFG),
        "pose": _checkpoint(root / "pose.ckpt", POSE_CLASSIFIER, pose_data),
        "pose3d": _checkpoint(root / "pose3d.ckpt", POSE_CLASSIFIER, {**pose_data, "kind": "3d"}),
        "pose_dance": _checkpoint(
            root / "pose_dance.ckpt", POSE_LSTM, {**pose_data, "_target_": POSE_MOTION}
        ),
        "pkl": str(root / "gBR_sBM_cAll_d04_mBR0_ch01.pkl"),
        "missing": str(root / "does_not_exist"),
        "empty": str(root / "empty.ckpt"),
        "file": str(root / "plain.txt"),
        "five": str(five),
        "dir": str(root),
    }


@pytest.fixture(scope="module")
def hydra_conf() -> Iterator[None]:
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        yield
    GlobalHydra.instance().clear()


def compose_entry(entry: str, overrides: list[str]) -> DictConfig:
    """The config a CLI run gets, with Hydra's record of the overrides (eval reads it)."""
    cfg = compose(config_name=entry, overrides=overrides, return_hydra_config=True)
    HydraConfig.instance().set_config(cfg)
    with open_dict(cfg):
        del cfg["hydra"]
    return cfg


@pytest.fixture
def composed(hydra_conf: None) -> Iterator[Callable[[str, list[str]], DictConfig]]:
    yield compose_entry
    HydraConfig.instance().cfg = None


def validate_stages(cfg: DictConfig) -> None:
    """As run_stages does: each stage's experiment and overrides, composed, then checked."""

    def compose_stage(name: str, stage: DictConfig) -> DictConfig:
        return compose(
            config_name="train", overrides=[f"experiment={stage.experiment}", *stage.get("overrides", [])]
        )

    checks.validate_stages(cfg, compose_stage)


VALIDATORS: dict[str, Callable[[DictConfig], Any]] = {
    "train": checks.validate_train,
    "stages": validate_stages,
    "eval": checks.validate_eval,
    "predict": checks.validate_predict,
    "generate": checks.validate_generate,
    "score_generation": checks.validate_score_generation,
    "extract_features": checks.validate_extract_features,
    "scan": checks.validate_scan,
    "bench": validate_bench,
    "extract_poses": checks.validate_extract_poses,
    "silhouettes": checks.validate_silhouettes,
    "score_poses": checks.validate_score_poses,
}

# (entry, overrides, what the one-line message must contain); {name} is a path from ``files``.
BAD_COMMANDS: list[tuple[str, list[str], str]] = [
    ("train", ["data.num_frames=abc"], "data.num_frames='abc': expected an integer >= 1"),
    ("train", ["trainer.max_epochs=many"], "trainer.max_epochs='many': expected an integer"),
    ("train", ["data.batch_size=0"], "data.batch_size=0: expected an integer >= 1"),
    ("train", ["data.num_workers=-1"], "data.num_workers=-1"),
    ("train", ["model.optimizer.lr=-0.001"], "model.optimizer.lr=-0.001: expected a number > 0"),
    ("train", ["model.head.dropout=1.0"], "model.head.dropout=1.0: expected a number in [0, 1)"),
    ("train", ["model.backbone.drop_rate=-0.5"], "model.backbone.drop_rate=-0.5"),
    ("train", ["data.img_size=8"], "data.img_size=8: expected an integer >= 16"),
    ("train", ["experiment=genre_gru", "data.img_size=64"], "img_size=64: expected an integer >= 75"),
    ("train", ["data.split=foo"], "data.split='foo': expected one of dancer, random, files"),
    ("train", ["data.sampling=foo"], "data.sampling='foo': expected one of exact, keyframe"),
    ("train", ["data.on_bad_video=ignore"], "data.on_bad_video='ignore'"),
    ("train", ["data.test_clips=0"], "data.test_clips=0"),
    (
        "train",
        ["model.backbone.name=notamodel"],
        "model.backbone.name='notamodel': expected a timm model name",
    ),
    (
        "train",
        ["data.genres=[BR,XX]"],
        "data.genres=['BR', 'XX']: expected null or at least two distinct genres",
    ),
    ("train", ["data=aist", "data.root={missing}"], "data.root={missing}: no such file or folder"),
    ("train", ["data=aist", "data.root={five}"], "data root {five}: the val split is empty"),
    (
        "train",
        ["experiment=pose_gru", "data=aist_pose", "data.root={missing}"],
        "data.root={missing}: no such folder",
    ),
    (
        "train",
        ["experiment=pose_gru", "data=aist_pose", "data.root={dir}"],
        "data.root={dir}: no keypoints2d/*.pkl",
    ),
    ("train", ["experiment=pose_gru", "data.kind=4d"], "data.kind='4d': expected one of 2d, 3d"),
    ("train", ["experiment=pose_dance", "data.root={missing}"], "data.root={missing}: no such folder"),
    (
        "train",
        ["experiment=pose_dance", "data.root={dir}"],
        "data.root={dir}: no keypoints2d/*.pkl or normalized_2d/*.npy",
    ),
    ("train", ["experiment=pose_dance", "data.fps=0"], "data.fps=0"),
    (
        "train",
        ["experiment=pose_dance", "data.target_frames=2"],
        "data.target_frames=2 must equal model.rollout_loss_steps=10",
    ),
    ("train", ["experiment=pose_dance", "data.synthetic=null"], "data.root=null reads the synthetic"),
    (
        "train",
        ["experiment=deep_dance_ae", "data=motion_silhouettes", "data.root={missing}"],
        "data.root={missing}: no such file or folder",
    ),
    (
        "train",
        ["experiment=deep_dance_ae", "data=motion_silhouettes", "data.root={dir}"],
        "no keypoints2d/ or keypoints3d/ folder",
    ),
    (
        "train",
        ["experiment=deep_dance_ae", "data=motion_silhouettes", "data.threshold_rule=person"],
        "data.source=annotations draws the body from keypoints",
    ),
    (
        "train",
        ["experiment=deep_dance_ae", "data=motion_silhouettes", "data.motion.limb_width=0"],
        "data.motion.limb_width=0",
    ),
    (
        "train",
        ["experiment=pose_gru", "data.split=sequence", "data.fold=1"],
        "data.fold=1: expected null with",
    ),
    ("train", ["data.split=files"], "data.split_dir=None: expected a path to an existing folder"),
    ("train", ["data.split=files", "data.split_dir={missing}"], "data.split_dir={missing}: no such folder"),
    ("train", ["data.split_dir={file}"], "data.split_dir={file}: a file, not a folder"),
    ("train", ["+data.num_frame=3"], "data.num_frame: not a setting of GenreDataModule"),
    ("train", ["+model.head.gru_size=[4]"], "model.head.gru_size: not a setting of GRUHead"),
    ("train", ["model.head.gru_sizes=[]"], "model.head.gru_sizes=[]: expected a non-empty list"),
    ("train", ["data.augment={crop_scale:[0,1]}"], "crop_scale=[0, 1]: expected 0 < low <= high <= 1"),
    ("train", ["data.augment={brightness:2}"], "brightness=2: expected a number in [0, 1]"),
    ("train", ["data.synthetic.size=63"], "data.synthetic: size must be even and >= 16"),
    ("train", ["data.synthetic.dancers_per_genre=2"], "data.synthetic.dancers_per_genre=2: expected >= 3"),
    (
        "train",
        ["experiment=deep_dance_lstm", "model.condition=genre"],
        "model.condition=genre needs data.root=<folder of AIST++-named silhouette videos>",
    ),
    (
        "train",
        ["experiment=deep_dance_lstm", "model.condition=style"],
        "model.condition='style': expected one of genre or null",
    ),
    (
        "train",
        ["experiment=deep_dance_lstm", "model.condition=genre", "model.genre_dim=0"],
        "model.genre_dim=0: expected an integer >= 1",
    ),
    ("train", ["trainer.precision=17"], "trainer.precision=17"),
    ("train", ["trainer.devices=0"], "trainer.devices=0"),
    ("train", ["ckpt_path={missing}"], "ckpt_path={missing}: no such file"),
    ("train", ["ckpt_path={lstm}"], "ckpt_path={lstm} holds a deepdance.models.latent_lstm_module"),
    ("train", ["experiment=deep_dance_lstm"], "model.autoencoder_ckpt is required"),
    (
        "train",
        ["experiment=deep_dance_lstm", "model.autoencoder_ckpt={classifier}"],
        "model.autoencoder_ckpt={classifier} holds a deepdance.models.genre_module.GenreClassifier",
    ),
    (
        "train",
        ["experiment=deep_dance_ae", "data.test_fraction=0.6", "data.val_fraction=0.5"],
        "data.test_fraction=0.6 + data.val_fraction=0.5: expected a sum below 1",
    ),
    ("train", ["experiment=deep_dance_ae", "model.loss=l1"], "model.loss='l1': expected one of bce, mse"),
    (
        "stages",
        ["experiment=deep_dance", "stages.ae.overrides=['model.net.channels=0']"],
        "model.net.channels=0",
    ),
    (
        "stages",
        ["experiment=deep_dance", "stages.lstm.autoencoder_from=nope"],
        "stages.lstm.autoencoder_from='nope'",
    ),
    ("eval", [], "ckpt_path is required"),
    ("eval", ["ckpt_path={missing}"], "ckpt_path={missing}: no such file"),
    ("eval", ["ckpt_path={empty}"], "ckpt_path={empty}: empty file"),
    ("eval", ["ckpt_path={lstm}", "data=aist"], "ckpt_path={lstm} is a deepdance.models.latent_lstm_module"),
    ("eval", ["ckpt_path={classifier}", "data.num_frames=abc"], "data.num_frames='abc'"),
    ("eval", ["ckpt_path={classifier}", "trainer.limit_test_batches=2.5"], "trainer.limit_test_batches=2.5"),
    ("predict", [], "ckpt_path is required"),
    ("predict", ["ckpt_path={classifier}"], "video is required"),
    ("predict", ["ckpt_path={classifier}", "video={missing}"], "video={missing}: no such file or folder"),
    (
        "predict",
        ["ckpt_path={lstm}", "video={dir}"],
        "ckpt_path={lstm} holds a deepdance.models.latent_lstm_module",
    ),
    ("predict", ["ckpt_path={classifier}", "video={dir}", "clips=0"], "clips=0: expected an integer >= 1"),
    ("predict", ["ckpt_path={classifier}", "video={dir}", "device=tpu"], "device='tpu'"),
    (
        "predict",
        ["ckpt_path={classifier}", "video={pkl}"],
        "video={pkl}: a keypoints2d file, but ckpt_path={classifier} is a video genre classifier",
    ),
    (
        "predict",
        ["ckpt_path={pose3d}", "video={pkl}"],
        "ckpt_path={pose3d}: a skeleton genre classifier of keypoints3d (data.kind=3d)",
    ),
    (
        "predict",
        ["ckpt_path={pose}", "video={pkl}", "pose.backend=rtm"],
        "pose.backend='rtm': expected one of",
    ),
    (
        "predict",
        ["ckpt_path={pose}", "video={five}", "pose.store_dir={five}"],
        "pose.store_dir={five}: the folder of",
    ),
    ("generate", [], "ckpt_path is required"),
    ("generate", ["ckpt_path={classifier}"], "ckpt_path={classifier} holds a deepdance.models.genre_module"),
    ("generate", ["ckpt_path={ae}"], "ckpt_path={ae} holds a deepdance.models.autoencoder_module"),
    (
        "predict",
        ["ckpt_path={pose_dance}", "video={pkl}"],
        "ckpt_path={pose_dance} holds a deepdance.models.pose_lstm_module.PoseLSTMModule",
    ),
    ("generate", ["ckpt_path={lstm}", "steps=0"], "steps=0: expected an integer >= 1"),
    ("generate", ["ckpt_path={lstm}", "fps=-30"], "fps=-30"),
    ("generate", ["ckpt_path={lstm}", "seed={missing}"], "seed={missing}: no such file"),
    ("generate", ["ckpt_path={lstm}", "genre=7"], "genre=7: expected a non-empty string or null"),
    ("generate", ["ckpt_path={lstm}", "grid=yes"], "grid='yes': expected true or false"),
    ("score_generation", ["recognizer_ckpt={classifier}"], "lstm_ckpt is required"),
    (
        "score_generation",
        ["lstm_ckpt={lstm}", "recognizer_ckpt={lstm}"],
        "recognizer_ckpt={lstm} holds a deepdance.models.latent_lstm_module",
    ),
    (
        "score_generation",
        ["lstm_ckpt={classifier}", "recognizer_ckpt={classifier}"],
        "lstm_ckpt={classifier} holds a deepdance.models.genre_module",
    ),
    (
        "score_generation",
        ["lstm_ckpt={lstm}", "recognizer_ckpt={classifier}", "steps=10"],
        "steps=10: expected an integer >= 30",
    ),
    (
        "score_generation",
        ["lstm_ckpt={lstm}"],
        "recognizer_ckpt=None: expected a silhouette genre recognizer (experiment=silhouette_genre)",
    ),
    (
        "score_generation",
        ["lstm_ckpt={lstm}", "recognizer_ckpt={classifier}", "split=all"],
        "split='all': expected val or test (a held-out split)",
    ),
    (
        "score_generation",
        ["lstm_ckpt={lstm}", "recognizer_ckpt={classifier}", "noise=0.5"],
        "noise=0.5: expected 0 (noise is a pose generator's setting)",
    ),
    (
        "score_generation",
        ["lstm_ckpt={lstm}", "recognizer_ckpt={classifier}", "split=train"],
        "split='train': expected one of val, test",
    ),
    (
        "score_generation",
        ["lstm_ckpt={pose_dance}", "recognizer_ckpt={classifier}"],
        "recognizer_ckpt={classifier}: a genre classifier; a pose-space dance generator's dances are graded "
        "by a skeleton genre classifier",
    ),
    (
        "score_generation",
        ["lstm_ckpt={pose_dance}", "uncond_ckpt={lstm}"],
        "uncond_ckpt={lstm}: not a pose-space dance generator, as lstm_ckpt is",
    ),
    (
        "score_generation",
        ["lstm_ckpt={lstm}", "recognizer_ckpt={missing}"],
        "recognizer_ckpt={missing}: no such file; a genre recognizer's best_ckpt",
    ),
    (
        "score_generation",
        ["lstm_ckpt=''"],
        "lstm_ckpt=: expected a path to an existing file; the latent LSTM's",
    ),
    (
        "extract_features",
        ["experiment=genre_gru", "model.backbone.freeze=false"],
        "model.backbone.freeze=false",
    ),
    ("extract_features", ["experiment=genre_gru", "splits=[train,dev]"], "splits=['train', 'dev']"),
    ("extract_features", ["experiment=deep_dance_ae"], "data: expected a genre dataset"),
    ("extract_features", ["experiment=genre_gru", "data.features.clips=0"], "data.features.clips=0"),
    (
        "extract_features",
        ["experiment=genre_gru", "+data.features.dirr=x"],
        "data.features.dirr: not a setting",
    ),
    ("scan", ["data.root={missing}"], "data.root={missing}: no such file or folder"),
    ("scan", ["data.root={dir}", "workers=0"], "workers=0: expected an integer >= 1"),
    ("scan", ["data.root={dir}", "decode_frames=0"], "decode_frames=0"),
    ("scan", ["data.root={dir}", "decode_frames=abc"], "decode_frames='abc'"),
    ("bench", ["bench.videos={missing}"], "bench.videos={missing}: not a directory"),
    ("bench", ["bench.sets=[nope]"], "bench.sets=['nope']"),
    ("bench", ["bench=smoke", "bench.repeats=0"], "bench.repeats=0"),
    ("bench", ["bench.backbone.name=notamodel"], "bench.backbone.name='notamodel'"),
    ("bench", ["bench.samplings=[keyframe]"], "bench.samplings=['keyframe']"),
    (
        "bench",
        ["bench=smoke", "bench.inputs.tiny.width=33"],
        "bench.inputs.tiny: width and height must be even",
    ),
    ("extract_poses", ["out={dir}/poses"], "video is required"),
    ("silhouettes", ["out={dir}/previews"], "video is required"),
    ("silhouettes", ["video={five}"], "out is required"),
    ("silhouettes", ["video={missing}", "out={dir}/previews"], "video={missing}: no such file or folder"),
    ("silhouettes", ["video={five}", "out={five}"], "out={five}: holds the input video"),
    ("silhouettes", ["video={five}", "out={dir}"], "out={dir}: holds the input video"),
    ("silhouettes", ["video={five}", "out={five}/previews"], "out={five}/previews: lies inside video={five}"),
    ("silhouettes", ["video={five}", "out={file}"], "out={file}: a file, not a folder"),
    (
        "silhouettes",
        ["video={five}", "out={dir}/previews", "data.threshold_rule=mask"],
        "data.threshold_rule='mask': expected one of fixed, otsu, background, person",
    ),
    (
        "silhouettes",
        ["video={five}", "out={dir}/previews", "data.follow=true", "data.crop=[0,0,10,10]"],
        "data.follow=true: expected data.crop=null",
    ),
    ("silhouettes", ["video={five}", "out={dir}/previews", "data.follow_margin=-1"], "data.follow_margin=-1"),
    ("silhouettes", ["video={five}", "out={dir}/previews", "strip_frames=0"], "strip_frames=0"),
    (
        "silhouettes",
        ["video={five}", "out={dir}/previews", "data.threshold_rule=person", "data.pose.backend=openpose"],
        "data.pose.backend='openpose': expected one of mediapipe",
    ),
    (
        "train",
        ["experiment=deep_dance_ae", "data.follow=true", "data.pose.backend=openpose"],
        "data.pose.backend='openpose'",
    ),
    (
        "train",
        ["experiment=deep_dance_ae", "data.threshold_rule=person", "data.pose.masks=false"],
        "data.pose.masks=false: data.threshold_rule=person needs the person masks",
    ),
    ("extract_poses", ["video={missing}", "out={dir}/poses"], "video={missing}: no such file or folder"),
    ("extract_poses", ["video={five}", "out={five}"], "out={five}: holds the input video"),
    ("extract_poses", ["video={five}", "out={dir}"], "out={dir}: holds the input video"),
    ("extract_poses", ["video={five}", "out={file}"], "out={file}: a file, not a folder"),
    ("extract_poses", ["video={five}", "out={dir}/poses", "format=coco"], "format='coco'"),
    (
        "extract_poses",
        ["video={five}", "out={dir}/poses", "pose.backend=rtm"],
        "pose.backend='rtm': expected one of mediapipe",
    ),
    (
        "extract_poses",
        ["video={five}", "out={dir}/poses", "pose.smoothing.window=4"],
        "pose.smoothing.window=4: expected an odd integer >= 3",
    ),
    (
        "extract_poses",
        ["video={five}", "out={dir}/poses", "pose.min_detection_confidence=2"],
        "pose.min_detection_confidence=2",
    ),
    (
        "extract_poses",
        ["video={five}", "out={dir}/poses", "pose.store_dir={five}"],
        "pose.store_dir={five}: the folder of",
    ),
    ("score_poses", [], "rgb_root is required"),
    ("score_poses", ["rgb_root={missing}"], "rgb_root={missing}: no such folder"),
    ("score_poses", ["rgb_root={file}"], "rgb_root={file}: a file, not a folder"),
    ("score_poses", ["rgb_root={five}"], "rgb_root={five}: no <background>/*.mp4 renders"),
    ("score_poses", ["rgb_root={dir}"], "five_clips/gBR_sBM_c01_d04_mBR0_ch01.mp4: no ground truth"),
    ("score_poses", ["rgb_root={dir}", "backgrounds=[studio]"], "has no videos under studio/"),
    ("score_poses", ["rgb_root={dir}", "alpha=0"], "alpha=0"),
    ("score_poses", ["rgb_root={dir}", "pose.backend=rtm"], "pose.backend='rtm': expected one of mediapipe"),
]


@pytest.mark.parametrize(
    ("entry", "overrides", "expected"),
    BAD_COMMANDS,
    ids=[f"{e}:{' '.join(o) or '(none)'}" for e, o, _ in BAD_COMMANDS],
)
def test_bad_command_is_one_line_naming_the_key(
    entry: str, overrides: list[str], expected: str, files: dict[str, str], composed: Callable
) -> None:
    cfg = composed("train" if entry == "stages" else entry, [fill(o, files) for o in overrides])
    with pytest.raises(DeepdanceError) as caught:
        VALIDATORS[entry](cfg)
    message = str(caught.value)
    assert fill(expected, files) in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("entry", "overrides"),
    [
        ("train", []),
        ("train", ["experiment=genre_gru"]),
        ("train", ["experiment=deep_dance_ae"]),
        ("train", ["data.augment={crop_scale:[0.7,1.0],brightness:0.15}"]),
        ("stages", ["experiment=deep_dance"]),
        ("extract_features", ["experiment=genre_gru"]),
        ("bench", []),
        ("bench", ["bench=smoke"]),
        ("eval", ["ckpt_path={classifier}"]),
        ("eval", ["ckpt_path={lstm}"]),
        ("predict", ["ckpt_path={classifier}", "video={dir}"]),
        ("predict", ["ckpt_path={pose}", "video={pkl}"]),
        ("predict", ["ckpt_path={pose}", "video={five}"]),
        ("generate", ["ckpt_path={lstm}"]),
        ("score_generation", ["lstm_ckpt={lstm}", "recognizer_ckpt={classifier}"]),
        ("scan", ["data.root={dir}"]),
        ("extract_poses", ["video={five}", "out={dir}/poses"]),
        ("silhouettes", ["video={five}", "out={dir}/p", "data.threshold_rule=person", "data.follow=true"]),
        ("extract_poses", ["video={five}", "out={dir}/poses", "format=mmaction", "pose.fps=10"]),
    ],
)
def test_good_commands_pass_the_same_checks(
    entry: str, overrides: list[str], files: dict[str, str], composed: Callable
) -> None:
    cfg = composed("train" if entry == "stages" else entry, [fill(o, files) for o in overrides])
    VALIDATORS[entry](cfg)


def test_a_command_path_under_home_is_read_where_it_was_checked(
    files: dict[str, str], composed: Callable, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the schema checks ~/lstm.ckpt with ~ expanded; the family checks after it read the same file
    monkeypatch.setenv("HOME", files["dir"])
    cfg = composed("score_generation", ["lstm_ckpt='~/lstm.ckpt'", "recognizer_ckpt='~/classifier.ckpt'"])
    assert VALIDATORS["score_generation"](cfg)["model_target"] == LSTM


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (["experiment=genre_gruu"], "genre_gruu"),
        (["data.num_frame=3"], "data.num_frame"),
        (["ckpt_paht=x"], "ckpt_paht"),
    ],
)
def test_hydra_refuses_unknown_options_and_keys_itself(
    overrides: list[str], expected: str, hydra_conf: None
) -> None:
    with pytest.raises(HydraException, match=expected):
        compose(config_name="train", overrides=overrides)


DOWNLOAD_ARGS: list[tuple[list[str], str]] = [
    (["--root", "{file}"], "--root {file}: a file, not a folder"),
    (["--workers", "0"], "--workers 0: expected an integer >= 1"),
    (["--retries", "-1"], "--retries -1"),
    (["--timeout", "0"], "--timeout 0.0"),
    (["--genres", "XX"], "--genres XX: unknown genre"),
    (["--cameras", "cx"], "--cameras: camera 'cx'"),
    (["--situations", "ZZ"], "--situations: situation 'ZZ'"),
    (["--list", "{missing}"], "--list {missing}: no such file"),
    (["--max-videos", "0"], "--max-videos 0"),
]


@pytest.mark.parametrize(("args", "expected"), DOWNLOAD_ARGS, ids=[" ".join(a) for a, _ in DOWNLOAD_ARGS])
def test_download_aist_arguments_are_one_line(
    args: list[str], expected: str, files: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from deepdance import download_aist

    args = [fill(a, files) for a in args]
    argv = (["--root", str(tmp_path / "aist")] if "--root" not in args else []) + args
    if "--list" not in args:
        argv += ["--list", files["file"]]
    parsed = download_aist.parse_args(argv)
    with pytest.raises(DeepdanceError) as caught:
        validate_download_args(parsed)
    assert fill(expected, files) in str(caught.value)
    # main: the same line, exit code 2, nothing downloaded (the terms are not even asked)
    assert download_aist.main(argv) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == f"error: {caught.value}"
    assert not (tmp_path / "aist").exists()


def test_table_covers_every_cli() -> None:
    entries = {entry for entry, _, _ in BAD_COMMANDS}
    assert entries == set(VALIDATORS)
    assert len(BAD_COMMANDS) + len(DOWNLOAD_ARGS) >= 40


def test_user_error_is_found_only_through_explicit_causes() -> None:
    # Hydra's instantiate wraps a user error with ``raise ... from err``: shown as one line
    try:
        try:
            raise DeepdanceError("data.root=/x: no such folder")
        except DeepdanceError as err:
            raise RuntimeError("Error in call to target 'GenreDataModule'") from err
    except RuntimeError as wrapped:
        assert str(find_user_error(wrapped)) == "data.root=/x: no such folder"
    # a bug while handling a bad video is a bug: its own traceback, not the video's message
    try:
        try:
            raise VideoError("clip.mp4: cannot decode")
        except VideoError:
            {}["missing key"]
    except KeyError as bug:
        assert bug.__context__ is not None and find_user_error(bug) is None


CLI_ROWS = [
    ("deepdance.train", ["data.num_frames=abc"], "data.num_frames='abc'"),
    ("deepdance.eval", [], "ckpt_path is required"),
    ("deepdance.generate", ["ckpt_path={classifier}"], "ckpt_path={classifier} holds a"),
    ("deepdance.scan", ["data.root={missing}"], "data.root={missing}"),
    ("deepdance.extract_poses", ["video={five}", "out={five}"], "out={five}: holds the input video"),
    ("deepdance.silhouettes", ["video={five}", "out={five}"], "out={five}: holds the input video"),
    ("deepdance.score_poses", ["rgb_root={missing}"], "rgb_root={missing}: no such folder"),
    (
        "deepdance.download_aist",
        ["--root", "{dir}", "--workers", "abc"],
        "argument --workers: invalid int value",
    ),
]


@pytest.fixture(scope="module")
def time_limit() -> float:
    """10 s, the promise on an idle machine, stretched on a loaded one by how long merely importing
    the stack takes: the error may cost half that again plus 2 s, because the load measured once
    here moves while the module's rows run."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import pytorch_lightning, timm, hydra"], check=True)
    return max(10.0, 1.5 * (time.perf_counter() - start) + 2.0)


@pytest.mark.parametrize(("module", "args", "expected"), CLI_ROWS, ids=[m for m, _, _ in CLI_ROWS])
def test_real_commands_end_with_one_error_line_and_exit_code_2(
    module: str, args: list[str], expected: str, files: dict[str, str], tmp_path: Path, time_limit: float
) -> None:
    args = [fill(a, files) for a in args]
    if module != "deepdance.download_aist":
        args.append(f"hydra.run.dir={tmp_path / 'run'}")
    start = time.perf_counter()
    result = run_cli(module, *args, timeout=60)
    seconds = time.perf_counter() - start
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and fill(expected, files) in last, output
    assert "Traceback" not in output
    assert seconds < time_limit, f"{module} took {seconds:.1f} s"


def test_hydra_composition_error_has_no_traceback(tmp_path: Path) -> None:
    result = run_cli("deepdance.train", "experiment=genre_gruu", f"hydra.run.dir={tmp_path}", timeout=60)
    assert result.returncode == 1 and "Traceback" not in result.stdout + result.stderr
    assert "Could not find 'experiment/genre_gruu'" in result.stderr


def test_nothing_heavy_happens_before_the_error(
    files: dict[str, str], tmp_path: Path, composed: Callable, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bad value with the default synthetic data: no dataset rendered into data.root, no
    datamodule or model built, no video opened; the run ends with exit code 2."""
    import hydra

    from deepdance.data.video import reader as video
    from deepdance.extract_features import extract
    from deepdance.run.fit import train

    built: list[Any] = []
    monkeypatch.setattr(hydra.utils, "instantiate", lambda *a, **k: built.append(a))
    monkeypatch.setattr(video, "open_video", lambda *a, **k: built.append(a))
    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", str(tmp_path / "inductor"))
    root = tmp_path / "data_root"
    root.mkdir()
    for entry, task, overrides in (
        ("train", train, ["data.batch_size=0"]),
        ("extract_features", extract, ["experiment=genre_gru", "data.num_frames=abc"]),
    ):
        cfg = composed(entry, [f"data.root={root}", *overrides])
        with pytest.raises(SystemExit) as stopped:
            task(cfg)
        assert stopped.value.code == 2
    assert built == [] and list(root.iterdir()) == []
