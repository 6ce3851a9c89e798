"""The synthetic dancers: deterministic, AIST++-named, reusable, and genre visible only in motion."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deepdance.data.aist import GENRES, parse_aist_name
from deepdance.data.synthetic import (
    FAMILIES,
    JOINTS,
    SyntheticConfig,
    direction_of,
    ensure_synthetic_dataset,
    family_of,
    joint_angles,
    render_dance,
    render_silhouettes,
    speed_of,
    video_jobs,
)
from deepdance.data.video.writer import write_mp4
from deepdance.errors import DeepdanceError
from deepdance.make_synthetic import main

TINY = SyntheticConfig(seed=3, dancers_per_genre=3, cameras=1, musics=1, seconds=1.0, fps=30, size=64)


@pytest.fixture(scope="module")
def tiny_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_synthetic_dataset(tmp_path_factory.mktemp("synthetic"), TINY, workers=2)


def _mtimes(root: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in root.glob("*.mp4")}


# ---------------------------------------------------------------------------- rendering


def test_render_is_deterministic_and_seeded() -> None:
    args = {"genre": "PO", "dancer_seed": 7, "camera": 2, "music": 1, "num_frames": 12, "fps": 30, "size": 48}
    a = render_dance(**args, rng_seed=11)
    assert a.shape == (12, 48, 48, 3) and a.dtype == np.uint8
    np.testing.assert_array_equal(a, render_dance(**args, rng_seed=11))
    assert not np.array_equal(a, render_dance(**args, rng_seed=12))


def test_render_silhouette_mode_is_black_on_white() -> None:
    frames = render_dance("JS", 1, 1, 0, 6, 30, (48, 64), 5, silhouette=True)
    assert frames.shape == (6, 48, 64, 3)
    values = frames[..., 0]
    assert np.array_equal(frames[..., 0], frames[..., 2])
    assert np.mean((values == 0) | (values == 255)) > 0.9
    assert ((values < 128).sum(axis=(1, 2)) > 20).all()


@pytest.mark.parametrize("genre", [None, "KR"])
def test_render_silhouettes(genre: str | None) -> None:
    frames = render_silhouettes(24, height=120, width=200, fps=3.0, seed=1, genre=genre, segment_seconds=3.0)
    assert frames.shape == (24, 120, 200) and frames.dtype == np.uint8
    assert np.mean((frames == 0) | (frames == 255)) > 0.9
    dancer = (frames < 128).sum(axis=(1, 2))
    assert (dancer > 200).all(), "the dancer must be visible in every frame"
    assert (frames[:, :, :5] == 255).all() and (frames[:, :, -5:] == 255).all(), "centred in a wide frame"
    np.testing.assert_array_equal(
        frames, render_silhouettes(24, 120, 200, 3.0, seed=1, genre=genre, segment_seconds=3.0)
    )


# ---------------------------------------------------------------------------- motion design


def _period_samples(genre: str, n: int = 4000) -> tuple[np.ndarray, float]:
    """``n`` poses evenly over one period of ``genre``'s own motion (half as long in double time)."""
    tempo = 100.0
    period = family_of(genre).beats * 60.0 / tempo / speed_of(genre)
    t = np.arange(n) / n * period
    return joint_angles(genre, t, tempo_bpm=tempo, phase=0.3), period


def _signed_area(x: np.ndarray, y: np.ndarray) -> float:
    """Shoelace area of a closed trajectory: its sign is the direction it is traversed in."""
    return 0.5 * float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
def test_family_pair_same_poses_opposite_direction_double_time(family) -> None:
    forward, backward = (_period_samples(g)[0] for g in family.genres)
    # A single frame cannot tell them apart: identical per-joint pose statistics over a period.
    np.testing.assert_allclose(forward.mean(axis=0), backward.mean(axis=0), atol=1e-3)
    np.testing.assert_allclose(forward.std(axis=0), backward.std(axis=0), atol=1e-3)
    # ... but motion can: every joint-pair loop runs the other way round.
    areas = {
        (i, j): _signed_area(forward[:, i], forward[:, j])
        for i in range(len(JOINTS))
        for j in range(i + 1, len(JOINTS))
    }
    (i, j), area = max(areas.items(), key=lambda kv: abs(kv[1]))
    assert abs(area) > 0.1, f"{family.name}: no joint pair moves in a loop"
    assert _signed_area(backward[:, i], backward[:, j]) == pytest.approx(-area, rel=1e-3)
    assert direction_of(family.genres[0]) == 1 and direction_of(family.genres[1]) == -1
    assert speed_of(family.genres[0]) == 1 and speed_of(family.genres[1]) == 2


@settings(max_examples=40, deadline=None)
@given(
    pair=st.sampled_from(FAMILIES),
    t=st.floats(0.0, 10.0),
    tempo=st.floats(80.0, 130.0),
    phase=st.floats(0.0, 2 * np.pi),
)
def test_second_genre_is_first_genre_played_backwards_in_double_time(
    pair, t: float, tempo: float, phase: float
) -> None:
    first, second = pair.genres
    np.testing.assert_allclose(
        joint_angles(second, t, tempo, phase), joint_angles(first, -2 * t, tempo, phase), atol=1e-9
    )


def test_double_time_moves_further_between_sampled_frames() -> None:
    """The cue a multi-frame model can use: at 12 frames over 3 s, the second genre's pose
    changes more from one sampled frame to the next (mean absolute joint change), at every phase."""
    t = (np.arange(12) + 0.5) * 3.0 / 12
    for family in FAMILIES:
        for phase in np.linspace(0, 2 * np.pi, 8, endpoint=False):
            first, second = (
                np.abs(np.diff(joint_angles(g, t, phase=phase), axis=0)).mean() for g in family.genres
            )
            assert second > 1.3 * first, (family.name, phase)


def test_families_move_different_limbs() -> None:
    """Families differ in which joints move a lot, so the family is visible in a clip."""
    movers = {}
    for family in FAMILIES:
        spread = _period_samples(family.genres[0])[0].std(axis=0)
        movers[family.name] = frozenset(JOINTS[i] for i in np.flatnonzero(spread > 0.5 * spread.max()))
    assert len(set(movers.values())) == len(FAMILIES), movers


def test_dance_periods_suit_sparse_frame_sampling() -> None:
    """12 frames over 3 s are 0.25 s apart: periods of 1.3-2 s (first genre) and 0.65-1 s
    (double time) keep them under half a period apart, so neither timing aliases."""
    for family in FAMILIES:
        lo, hi = family.tempo_bpm
        assert 80 <= lo <= hi <= 130
        assert 1.3 <= family.beats * 60 / hi and family.beats * 60 / lo <= 2.0 * 1.01, family.name
        assert family.beats * 60 / hi / speed_of(family.genres[1]) > 2 * 0.25, family.name


def test_every_genre_has_a_family() -> None:
    assert sorted(g for f in FAMILIES for g in f.genres) == sorted(GENRES)
    with pytest.raises(ValueError, match="unknown genre"):
        family_of("XX")


# ---------------------------------------------------------------------------- dataset files


def test_dataset_names_and_dancers(tiny_root: Path) -> None:
    videos = sorted(tiny_root.glob("*.mp4"))
    assert len(videos) == len(GENRES) * TINY.dancers_per_genre * TINY.cameras * TINY.musics
    names = [parse_aist_name(v.name) for v in videos]
    dancers_of = {g: {n.dancer for n in names if n.genre == g} for g in GENRES}
    assert all(len(d) == TINY.dancers_per_genre for d in dancers_of.values())
    all_dancers = [d for ds in dancers_of.values() for d in ds]
    assert len(all_dancers) == len(set(all_dancers)), "a dancer dances one genre only"
    assert {n.situation for n in names} == {"BM"} and {n.music for n in names if n.genre == "BR"} == {"BR0"}
    assert json.loads((tiny_root / "synthetic.json").read_text())["config"]["seed"] == TINY.seed


def test_dataset_videos_decode(tiny_root: Path) -> None:
    decord = pytest.importorskip("decord")
    for video in sorted(tiny_root.glob("*.mp4"))[::7]:
        reader = decord.VideoReader(str(video))
        assert len(reader) == TINY.num_frames
        assert reader[0].shape == (TINY.size, TINY.size, 3)
        assert reader.get_avg_fps() == pytest.approx(TINY.fps)


def test_dataset_files_match_render(tiny_root: Path) -> None:
    """The files hold what render_dance draws (up to H.264 loss)."""
    decord = pytest.importorskip("decord")
    job = video_jobs(TINY)[4]
    frames = render_dance(
        job.name.genre,
        job.dancer_seed,
        job.camera,
        job.music,
        TINY.num_frames,
        TINY.fps,
        TINY.size,
        job.rng_seed,
    )
    decoded = decord.VideoReader(str(tiny_root / job.name.filename())).get_batch([0, 10]).asnumpy()
    assert np.abs(decoded.astype(int) - frames[[0, 10]].astype(int)).mean() < 4


def test_reuse_and_regeneration(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    config = SyntheticConfig(dancers_per_genre=1, cameras=1, musics=1, seconds=0.3, size=32)
    cli = [
        "--root",
        str(tmp_path),
        "--dancers-per-genre",
        "1",
        "--cameras",
        "1",
        "--musics",
        "1",
        "--seconds",
        "0.3",
        "--size",
        "32",
        "--workers",
        "1",
    ]
    main(cli)
    assert "10 videos" in capsys.readouterr().out
    first = _mtimes(tmp_path)
    assert len(first) == 10
    ensure_synthetic_dataset(tmp_path, config, workers=1)
    assert _mtimes(tmp_path) == first, "a second call with the same config must not rewrite"

    victim = tmp_path / sorted(first)[0]
    victim.unlink()
    ensure_synthetic_dataset(tmp_path, config, workers=1)
    again = _mtimes(tmp_path)
    assert victim.exists() and {k: v for k, v in again.items() if k != victim.name} == {
        k: v for k, v in first.items() if k != victim.name
    }

    (tmp_path / "notes.txt").write_text("keep me")
    main(cli + ["--seed", "1"])
    changed = _mtimes(tmp_path)
    assert set(changed) == set(first) and all(changed[k] != first[k] for k in first), (
        "a new config regenerates all"
    )
    assert json.loads((tmp_path / "synthetic.json").read_text())["config"]["seed"] == 1
    assert (tmp_path / "notes.txt").read_text() == "keep me"

    (tmp_path / "synthetic.json").write_text("{not json")
    with pytest.raises(DeepdanceError, match="synthetic.json is not a record deepdance can read"):
        ensure_synthetic_dataset(tmp_path, SyntheticConfig(**{**config.__dict__, "seed": 1}), workers=1)
    assert _mtimes(tmp_path) == changed, "an unreadable record proves nothing: no file is touched"


def test_config_validation() -> None:
    with pytest.raises(ValueError, match="even"):
        SyntheticConfig(size=63)
    with pytest.raises(ValueError, match="decord"):
        SyntheticConfig(size=48)
    with pytest.raises(ValueError, match="dancers_per_genre"):
        SyntheticConfig(dancers_per_genre=10)


# ---------------------------------------------------------------------------- mp4 writer


def test_write_mp4_gray_gop_and_errors(tmp_path: Path) -> None:
    decord = pytest.importorskip("decord")
    frames = np.arange(20, dtype=np.uint8)[:, None, None] * 10 + np.zeros((1, 32, 64), np.uint8)
    path = write_mp4(tmp_path / "gray.mp4", frames, fps=25, gop=5)
    reader = decord.VideoReader(str(path))
    assert len(reader) == 20 and reader[0].shape == (32, 64, 3)
    assert list(reader.get_key_indices()) == [0, 5, 10, 15]
    assert not list(tmp_path.glob(".*tmp*")), "no temporary file left behind"
    with pytest.raises(ValueError, match="odd.mp4"):
        write_mp4(tmp_path / "odd.mp4", np.zeros((2, 31, 32, 3), np.uint8), fps=25)
    assert not (tmp_path / "odd.mp4").exists()
    padded = write_mp4(tmp_path / "padded.mp4", np.zeros((2, 31, 33, 3), np.uint8), fps=25, pad_odd=True)
    assert decord.VideoReader(str(padded))[0].shape == (32, 34, 3)
    with pytest.raises(ValueError, match="uint8"):
        write_mp4(tmp_path / "float.mp4", np.zeros((2, 32, 32, 3), np.float32), fps=25)
