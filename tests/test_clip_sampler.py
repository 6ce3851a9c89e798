"""One ClipSampler picks every clip's frame indices: the same indices as before it existed.

The tables below are literal: they were computed from main at ae7ef51, before the sampler,
by calling ``sample_frame_indices`` exactly as each of the four sites called it then
(the genre datasets, feature extraction, predict, the benchmark). Training draws come from an
item generator seeded as ``ResumableSampler`` seeds it.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
import torch

from deepdance.data.video.clip_sampling import SAMPLING_RULE, ClipSampler, unique_frames
from deepdance.errors import DeepdanceError

# Key-frame sets: none (exact sampling), a single key frame, a GOP of 10 and of 120 (AIST++),
# and an irregular set.
KEYSETS = {
    "none": lambda n: None,
    "first": lambda n: np.array([0]),
    "gop10": lambda n: np.arange(0, 40, 10),
    "gop120": lambda n: np.arange(0, max(n, 1), 120),
    "odd": lambda n: np.array([0, 7, 31, 64]),
}

# (video frames, num_frames, key frames) -> indices per mode; "mask" is the eval clip's padding mask.
TABLE = {
    (1, 4, "none"): {
        "eval": [0, 0, 0, 0],
        "mask": [1, 0, 0, 0],
        "plan_k2": [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]],
        "test_k3": [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]],
        "train_seed7": [0, 0, 0, 0],
    },
    (3, 6, "first"): {
        "eval": [0, 1, 2, 2, 2, 2],
        "mask": [1, 1, 1, 0, 0, 0],
        "plan_k2": [[0, 1, 2, 2, 2, 2], [0, 1, 2, 2, 2, 2], [0, 1, 2, 2, 2, 2]],
        "test_k3": [[0, 1, 2, 2, 2, 2], [0, 1, 2, 2, 2, 2], [0, 1, 2, 2, 2, 2]],
        "train_seed7": [0, 1, 2, 2, 2, 2],
    },
    (15, 4, "none"): {
        "eval": [1, 5, 9, 13],
        "mask": [1, 1, 1, 1],
        "plan_k2": [[1, 5, 9, 13], [0, 4, 8, 12], [2, 6, 10, 14]],
        "test_k3": [[0, 4, 8, 11], [1, 5, 9, 13], [3, 6, 10, 14]],
        "train_seed7": [3, 3, 10, 12],
    },
    (21, 20, "none"): {
        "eval": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20],
        "mask": [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
        "plan_k2": [
            [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20],
            [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 16, 17, 18, 19, 20],
            [0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20],
        ],
        "test_k3": [
            [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18, 19, 20],
            [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20],
            [0, 1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20],
        ],
        "train_seed7": [0, 1, 2, 3, 4, 5, 6, 8, 8, 9, 11, 12, 12, 13, 14, 16, 17, 18, 19, 20],
    },
    (40, 8, "gop10"): {
        "eval": [0, 10, 11, 20, 21, 30, 31, 32],
        "mask": [1, 1, 1, 1, 1, 1, 1, 1],
        "plan_k2": [
            [0, 10, 11, 20, 21, 30, 31, 32],
            [0, 10, 11, 20, 21, 30, 31, 32],
            [0, 10, 11, 20, 21, 30, 31, 32],
        ],
        "test_k3": [
            [0, 1, 10, 11, 20, 21, 30, 31],
            [0, 10, 11, 20, 21, 30, 31, 32],
            [0, 10, 11, 20, 21, 30, 31, 32],
        ],
        "train_seed7": [0, 1, 10, 20, 21, 30, 31, 32],
    },
    (100, 10, "odd"): {
        "eval": [7, 8, 31, 32, 33, 64, 65, 66, 67, 68],
        "mask": [1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
        "plan_k2": [
            [7, 8, 31, 32, 33, 64, 65, 66, 67, 68],
            [0, 7, 31, 32, 33, 64, 65, 66, 67, 68],
            [7, 8, 31, 32, 33, 64, 65, 66, 67, 68],
        ],
        "test_k3": [
            [0, 7, 31, 32, 33, 64, 65, 66, 67, 68],
            [7, 8, 31, 32, 33, 64, 65, 66, 67, 68],
            [7, 8, 31, 32, 64, 65, 66, 67, 68, 69],
        ],
        "train_seed7": [7, 8, 31, 32, 33, 64, 65, 66, 67, 68],
    },
    (599, 20, "gop120"): {
        "eval": [
            0,
            1,
            120,
            121,
            122,
            123,
            240,
            241,
            242,
            243,
            360,
            361,
            362,
            363,
            480,
            481,
            482,
            483,
            484,
            485,
        ],
        "mask": [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
        "plan_k2": [
            [0, 1, 120, 121, 122, 123, 240, 241, 242, 243, 360, 361, 362, 363, 480, 481, 482, 483, 484, 485],
            [0, 1, 120, 121, 122, 123, 240, 241, 242, 243, 360, 361, 362, 363, 480, 481, 482, 483, 484, 485],
            [0, 1, 120, 121, 122, 123, 240, 241, 242, 243, 360, 361, 362, 363, 480, 481, 482, 483, 484, 485],
        ],
        "test_k3": [
            [0, 1, 120, 121, 122, 123, 240, 241, 242, 243, 360, 361, 362, 363, 480, 481, 482, 483, 484, 485],
            [0, 1, 120, 121, 122, 123, 240, 241, 242, 243, 360, 361, 362, 363, 480, 481, 482, 483, 484, 485],
            [0, 1, 120, 121, 122, 123, 240, 241, 242, 243, 360, 361, 362, 363, 480, 481, 482, 483, 484, 485],
        ],
        "train_seed7": [
            0,
            1,
            120,
            121,
            122,
            123,
            240,
            241,
            242,
            243,
            360,
            361,
            362,
            363,
            364,
            480,
            481,
            482,
            483,
            484,
        ],
    },
}


# Per mode: (rows, sha256 of the JSON rows) over the grid of ``_grid`` below.
DIGESTS = {
    "eval": (300, "d84a5e4c515b41cfabe746d64bda05ba3cf47b9a4ef27ac642df2a24f7f4004f"),
    "plan": (1200, "e244bf5042ff0649c41b0d546200dbd58f16c65ea36efea2a860298bb57367ae"),
    "stored": (84, "0a28ee3b8f4fcde50abd96b5fdcd2b00b17f8f18f4b6849b6c2f5494332a2865"),
    "test": (1200, "fa49ef7a7942652f55e209c421277f078580ef5d6dbcec00b39fb819faa6d94c"),
    "train": (600, "7070b2a7b3fdeeff4679b0e9677a3cbdcd6dc365025b25be444691ddbaac8669"),
}

# (stored clips C, test clips K) -> (random training clip for seed 11, eval clip, test clips, multi)
STORED = {
    (1, 1): (0, 0, [0], [True]),
    (4, 2): (1, 1, [1, 0, 2], [False, True, True]),
    (5, 1): (1, 2, [2], [True]),
    (5, 2): (1, 2, [2, 1, 3], [False, True, True]),
    (5, 3): (1, 2, [2, 0, 4], [True, True, True]),
    (5, 5): (1, 2, [2, 0, 1, 3, 4], [True, True, True, True, True]),
}


def _pair(pair: tuple[np.ndarray, np.ndarray]) -> list:
    return [pair[0].tolist(), pair[1].tolist()]


# ---- the same picks through the sampler, as each site now asks it ----


def _sampler(t: int, keys: np.ndarray | None, clips: int = 1) -> ClipSampler:
    return ClipSampler(t, "exact" if keys is None else "keyframe", clips)


def pick_train(n: int, t: int, keys: np.ndarray | None, seed: int) -> tuple[np.ndarray, np.ndarray]:
    # the training datasets: the item's generator, seeded by ResumableSampler
    return _sampler(t, keys).train_indices(n, keys, torch.Generator().manual_seed(seed))


def pick_eval(n: int, t: int, keys: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    # validation and the benchmark
    return _sampler(t, keys).eval_indices(n, keys)


def pick_test(n: int, t: int, keys: np.ndarray | None, k: int) -> tuple[np.ndarray, np.ndarray]:
    # feature extraction and predict (K from the sampler, or predict's clips= override)
    assert (
        _sampler(t, keys, k).test_indices(n, keys)[0].tolist()
        == _sampler(t, keys).test_indices(n, keys, k)[0].tolist()
    )
    return _sampler(t, keys, k).test_indices(n, keys)


def pick_plan(n: int, t: int, keys: np.ndarray | None, k: int) -> tuple[np.ndarray, np.ndarray]:
    # the test dataset: the centre clip, then the K clips
    return _sampler(t, keys, k).test_plan_indices(n, keys)


def pick_stored(c: int, k: int, seed: int) -> tuple:
    # the stored-feature datasets: clips written with C offsets, chosen for K test clips
    stored = ClipSampler(4, clips=c).test_offsets
    sampler = ClipSampler(4, clips=k)
    random_clip = sampler.train_stored_clip(stored, torch.Generator().manual_seed(seed))
    clips, multi = sampler.test_stored_clips(stored)
    return random_clip, sampler.eval_stored_clip(stored), clips, multi


# ---- the checks ----


@pytest.mark.parametrize("case", list(TABLE), ids=lambda c: "-".join(map(str, c)))
def test_indices_match_the_frozen_table(case: tuple[int, int, str]) -> None:
    n, t, keyset = case
    keys, want = KEYSETS[keyset](n), TABLE[case]
    indices, mask = pick_eval(n, t, keys)
    assert indices.tolist() == want["eval"] and mask.astype(int).tolist() == want["mask"]
    assert pick_train(n, t, keys, 7)[0].tolist() == want["train_seed7"]
    assert pick_test(n, t, keys, 3)[0].tolist() == want["test_k3"]
    assert pick_plan(n, t, keys, 2)[0].tolist() == want["plan_k2"]


def _grid() -> dict[str, list]:
    rows: dict[str, list] = {"eval": [], "test": [], "plan": [], "train": [], "stored": []}
    for n in [1, 3, 4, 7, 15, 16, 21, 40, 45, 100, 101, 599]:
        for t in [1, 4, 8, 16, 20]:
            for name, keyset in KEYSETS.items():
                keys = keyset(n)
                rows["eval"].append(["eval", n, t, name, _pair(pick_eval(n, t, keys))])
                for k in (1, 2, 3, 5):
                    rows["test"].append(["test", n, t, name, k, _pair(pick_test(n, t, keys, k))])
                    rows["plan"].append(["plan", n, t, name, k, _pair(pick_plan(n, t, keys, k))])
                for seed in (1, 2**40 + 3):
                    rows["train"].append(["train", n, t, name, seed, _pair(pick_train(n, t, keys, seed))])
    for c in range(1, 8):
        for k in range(1, c + 1):
            for seed in (0, 5, 2**50):
                rows["stored"].append(["stored", c, k, seed, list(pick_stored(c, k, seed))])
    return rows


def test_indices_match_the_frozen_digests_over_a_grid() -> None:
    found = {}
    for mode, rows in _grid().items():
        found[mode] = (len(rows), hashlib.sha256(json.dumps(rows).encode()).hexdigest())
    assert found == DIGESTS


@pytest.mark.parametrize("case", list(STORED), ids=lambda c: f"C{c[0]}-K{c[1]}")
def test_stored_clip_choices_match_the_frozen_table(case: tuple[int, int]) -> None:
    assert pick_stored(*case, seed=11) == STORED[case]


def test_training_jitter_takes_one_draw_from_the_item_generator() -> None:
    """The draws after the jitter (augmentation) see the stream they saw before the sampler,
    and an int item (no generator) draws from torch's global RNG as before."""
    used, reference = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    ClipSampler(8).train_indices(100, generator=used)
    torch.randint(2**62, (), generator=reference)
    assert torch.equal(used.get_state(), reference.get_state())
    torch.manual_seed(7)
    global_rng = ClipSampler(20).train_indices(21)[0].tolist()
    assert global_rng == TABLE[(21, 20, "none")]["train_seed7"]


def test_exact_sampling_ignores_key_frames_and_keyframe_sampling_needs_them() -> None:
    keys = np.array([0, 98])
    assert ClipSampler(4).eval_indices(100, keys)[0].tolist() == [12, 37, 62, 87]
    assert ClipSampler(4, "keyframe").eval_indices(100, keys)[0].tolist() == [0, 1, 98, 99]
    with pytest.raises(ValueError, match="keyframe needs the video's key frames"):
        ClipSampler(4, "keyframe").eval_indices(100)
    with pytest.raises(DeepdanceError, match="data.sampling='nearest'.*exact.*keyframe"):
        ClipSampler(4, "nearest")


def test_exact_sampling_opens_no_file_for_key_frames(tmp_path) -> None:
    assert ClipSampler(4).keyframes_of(tmp_path / "not-a-video.mp4") is None


def test_short_video_is_padded_and_masked_in_every_mode() -> None:
    sampler = ClipSampler(6, clips=3)
    for indices, mask in [sampler.eval_indices(3), sampler.train_indices(3, generator=torch.Generator())]:
        assert indices.tolist() == [0, 1, 2, 2, 2, 2] and mask.tolist() == [True] * 3 + [False] * 3
    indices, mask = sampler.test_indices(3)
    assert indices.shape == mask.shape == (3, 6) and mask.sum(axis=1).tolist() == [3, 3, 3]


def test_unique_frames_decode_each_shared_frame_once() -> None:
    indices, _ = ClipSampler(6, clips=2).test_indices(8)
    unique, inverse = unique_frames(indices)
    assert len(unique) < indices.size and (unique[inverse] == indices).all()


def test_from_config_reads_the_data_settings() -> None:
    data = {"num_frames": 20, "sampling": "keyframe", "test_clips": 5, "img_size": 299}
    assert ClipSampler.from_config(data) == ClipSampler(20, "keyframe", 5)
    assert ClipSampler.from_config({"num_frames": 8}) == ClipSampler(8, "exact", 1)


def test_feature_store_key_names_the_same_rule_as_before(tmp_path) -> None:
    """The store key's sampling field, literal as main wrote it: the same settings find the same store."""
    from types import SimpleNamespace

    from deepdance.bench.extraction import Backbone, bench_store
    from deepdance.features.extract import SAMPLING_RULE as extract_rule
    from deepdance.features.extract import FrameEmbedder, feature_key

    before = (
        "one frame per equal segment at offset (k+0.5)/C for clip k of C "
        "(deepdance.data.video.sample_frame_indices v1); data.sampling="
    )
    assert extract_rule == SAMPLING_RULE
    linear = torch.nn.Linear(2, 2)
    model = SimpleNamespace(
        hparams=SimpleNamespace(backbone={"name": "tiny"}),
        backbone=linear,
        spec=SimpleNamespace(mean=(0.5,) * 3, std=(0.5,) * 3),
    )
    for sampling in ("exact", "keyframe"):
        key = feature_key(FrameEmbedder.of_classifier(model), ClipSampler(4, sampling, 3), 32, "fp32")
        assert (key.sampling, key.num_frames, key.clips) == (before + sampling, 4, 3)
        backbone = Backbone(linear, torch.zeros(1, 3, 1, 1), torch.ones(1, 3, 1, 1), torch.device("cpu"))
        assert bench_store(tmp_path, backbone, "tiny", 32, 4, sampling).key.sampling == before + sampling


def test_datamodule_items_use_the_sampler_with_their_own_generator(tiny_synthetic) -> None:
    """Through the genre datasets: a training item (index, seed) jitters as the table says,
    validation takes the centres, test the plan (15-frame videos, 4 frames a clip)."""
    from deepdance.config.data import GenreDataConfig
    from deepdance.data.genre.datamodule import GenreDataModule

    config = GenreDataConfig(root=str(tiny_synthetic), num_frames=4, img_size=32, num_workers=0, test_clips=2)
    datamodule = GenreDataModule(config)
    datamodule.setup()
    want = TABLE[(15, 4, "none")]
    assert datamodule.manifest["frames"].eq(15).all()
    assert datamodule.datasets["train"][(0, 7)]["indices"].tolist() == want["train_seed7"]
    assert datamodule.datasets["val"][0]["indices"].tolist() == want["eval"]
    assert datamodule.datasets["test"][0]["indices"].tolist() == want["plan_k2"]
