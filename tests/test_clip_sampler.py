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

from deepdance.data.clips import CENTRE, clip_offsets, nearest_clips, plan_eval_clips
from deepdance.data.video import sample_frame_indices

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


# ---- today's call patterns (main ae7ef51) ----


def pick_train(n: int, t: int, keys: np.ndarray | None, seed: int) -> tuple[np.ndarray, np.ndarray]:
    generator = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(int(torch.randint(2**62, (), generator=generator).item()))
    return sample_frame_indices(n, t, random=True, rng=rng, keyframes=keys)


def pick_eval(n: int, t: int, keys: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    return sample_frame_indices(n, t, random=False, keyframes=keys)


def _stack(picks: list) -> tuple[np.ndarray, np.ndarray]:
    return np.stack([p[0] for p in picks]), np.stack([p[1] for p in picks])


def pick_test(n: int, t: int, keys: np.ndarray | None, k: int) -> tuple[np.ndarray, np.ndarray]:
    offsets = clip_offsets(k)
    return _stack([sample_frame_indices(n, t, random=False, offset=o, keyframes=keys) for o in offsets])


def pick_plan(n: int, t: int, keys: np.ndarray | None, k: int) -> tuple[np.ndarray, np.ndarray]:
    offsets = plan_eval_clips(k).offsets
    return _stack([sample_frame_indices(n, t, random=False, offset=o, keyframes=keys) for o in offsets])


def pick_stored(c: int, k: int, seed: int) -> tuple:
    offsets = clip_offsets(c)
    generator = torch.Generator().manual_seed(seed)
    random_clip = int(torch.randint(len(offsets), (), generator=generator).item())
    centre = nearest_clips(offsets, [CENTRE])[0]
    plan = plan_eval_clips(k)
    multi_clips = nearest_clips(offsets, [o for o, m in zip(plan.offsets, plan.multi) if m])
    clips = [centre] + [x for x in multi_clips if x != centre]
    return random_clip, centre, clips, [centre in multi_clips] + [True] * (len(clips) - 1)


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
