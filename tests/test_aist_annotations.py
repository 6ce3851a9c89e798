"""AIST++ annotation loaders: the real shared files (shapes, units, cameras that project onto
the 2D keypoints) and files written here (round trips, bad shapes, foreign pickles, SMPL)."""

from __future__ import annotations

import json
import os
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest

from deepdance.data.aist.annotations import (
    AnnotationFolder,
    Camera,
    Keypoints2D,
    StandardisedKeypoints2D,
    load_annotation,
    load_cameras,
    load_keypoints2d,
    load_keypoints3d,
    load_mapping,
    load_standardised_2d,
    safe_load,
    write_cameras,
    write_keypoints2d,
    write_keypoints3d,
    write_mapping,
)
from deepdance.data.aist.names import parse_sequence_name
from deepdance.data.aist.splits import split_by_dancer, split_by_files
from deepdance.errors import DeepdanceError

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data" / "aist_annotations"
SEQ = "gBR_sBM_cAll_d04_mBR0_ch03"
needs_shared = pytest.mark.skipif(
    not (SHARED / "keypoints2d").is_dir(),
    reason=f"the real AIST++ annotation sample is not at {SHARED} (a clone has no ../shared)",
)


def one_line(err: pytest.ExceptionInfo[BaseException]) -> str:
    message = str(err.value)
    assert "\n" not in message, message
    return message


# ---- the real files ------------------------------------------------------------------


@needs_shared
def test_real_keypoints2d_shapes_dtypes_units() -> None:
    names = sorted(p.stem for p in (SHARED / "keypoints2d").glob("*.pkl"))
    assert len(names) == 7
    for name in names:
        keypoints = load_keypoints2d(SHARED / "keypoints2d" / f"{name}.pkl")
        assert keypoints.keypoints.shape == (9, 720, 17, 3) and keypoints.keypoints.dtype == np.float32
        assert keypoints.det_scores.shape == (9, 720) and keypoints.det_scores.dtype == np.float32
        assert keypoints.timestamps.shape == (720,) and keypoints.timestamps.dtype == np.int64
        assert keypoints.landmarks is None
        # microseconds at 60 fps, from 0
        assert keypoints.timestamps[0] == 0
        assert keypoints.fps() == pytest.approx(60.0, abs=0.01)
        assert np.all(np.diff(keypoints.timestamps) > 0)
        # pixels of a 1920x1080 frame (confident joints inside it, give or take a margin)
        xy = keypoints.keypoints[..., :2][keypoints.keypoints[..., 2] > 0.5]
        assert xy[:, 0].min() > -50 and xy[:, 0].max() < 1970
        assert xy[:, 1].min() > -50 and xy[:, 1].max() < 1130
        # a dancer, not a dot: the spread of x covers many pixels
        assert np.ptp(xy[:, 0]) > 100


@needs_shared
def test_real_keypoints3d_raw_and_optim_in_cm() -> None:
    path = SHARED / "keypoints3d" / f"{SEQ}.pkl"
    optim, raw = load_keypoints3d(path), load_keypoints3d(path, optim=False)
    for joints in (optim, raw):
        assert joints.shape == (720, 17, 3) and joints.dtype == np.float64
    assert not np.array_equal(optim, raw)
    # centimetres: a standing person is 100-250 units tall (nose above ankles), not 1-2 (m) or 1000s (mm)
    height = np.nanmedian(np.abs(optim[:, 0] - optim[:, 15:17].mean(axis=1)).max(axis=-1))
    assert 100 < height < 250
    assert isinstance(load_annotation(path), np.ndarray)


@needs_shared
def test_real_cameras_and_load_annotation_dispatch() -> None:
    cameras = load_cameras(SHARED / "cameras" / "setting1.json")
    assert [c.name for c in cameras] == [f"c{v:02d}" for v in range(1, 10)]
    for camera in cameras:
        assert camera.size == (1920, 1080)
        assert camera.matrix.shape == (3, 3) and camera.rotation.shape == (3,)
        assert camera.translation.shape == (3,) and camera.distortions.shape == (5,)
    assert isinstance(load_annotation(SHARED / "keypoints2d" / f"{SEQ}.pkl"), Keypoints2D)
    assert len(load_annotation(SHARED / "cameras" / "setting1.json")) == 9


@needs_shared
def test_real_keypoints3d_project_onto_keypoints2d() -> None:
    """Must show: keypoints3d_optim through setting1.json lands on keypoints2d (median < 10 px)
    in at least 8 of the 9 views, over confident, finite joints."""
    folder = AnnotationFolder(SHARED)
    joints = folder.keypoints3d(SEQ)
    keypoints = folder.keypoints2d(SEQ)
    errors = {}
    for view, camera in enumerate(folder.cameras(SEQ)):
        projected = camera.project(joints)
        observed = keypoints.keypoints[view]
        keep = (observed[..., 2] > 0.5) & np.isfinite(projected).all(-1) & np.isfinite(observed).all(-1)
        assert keep.sum() > 1000
        errors[camera.name] = float(np.median(np.linalg.norm(projected - observed[..., :2], axis=-1)[keep]))
    print("median reprojection error (px):", {k: round(v, 1) for k, v in errors.items()})
    assert sum(error < 10 for error in errors.values()) >= 8, errors


@needs_shared
def test_real_folder_lists_sequences_views_and_manifest() -> None:
    folder = AnnotationFolder(SHARED)
    assert len(folder.sequences) == 7 and folder.rejected == []
    entry = folder[SEQ]
    assert not entry.per_camera and entry.keypoints3d is not None
    assert folder["gBR_sBM_cAll_d04_mBR0_ch01"].keypoints3d is None
    # one setting file and no mapping.txt: that setting films every sequence
    assert folder.setting_of("gBR_sBM_cAll_d04_mBR0_ch01") == "setting1"
    assert folder.view_names(SEQ)[0] == "c01"
    manifest = folder.manifest()
    assert len(manifest) == 7 and set(manifest["genre"]) == {"BR"} and set(manifest["camera"]) == {"All"}
    assert len(folder.manifest(need="keypoints3d")) == 1
    with pytest.raises(DeepdanceError) as err:
        folder.keypoints3d("gBR_sBM_cAll_d04_mBR0_ch01")
    assert "keypoints3d" in one_line(err)


@needs_shared
def test_real_standardised_2d_loaded_and_labelled() -> None:
    files = sorted((SHARED / "normalized_2d").glob("*.npy"))
    assert len(files) == 9
    for path in files:
        sequence = load_standardised_2d(path)
        assert isinstance(sequence, StandardisedKeypoints2D)
        assert sequence.coords.shape[1:] == (17, 2) and 960 <= sequence.num_frames <= 1439
        assert sequence.fps == 30.0 and "not pixels" in sequence.units
        # standardised, not pixels: values of order 1
        assert np.abs(sequence.coords).max() < 20


# ---- files written here ---------------------------------------------------------------


def make_keypoints(views: int = 2, frames: int = 5, landmarks: bool = False) -> Keypoints2D:
    rng = np.random.default_rng(0)
    points = rng.uniform(0, 1000, size=(views, frames, 17, 3)).astype(np.float32)
    points[0, 1, :, :2] = np.nan
    points[0, 1, :, 2] = 0
    return Keypoints2D(
        keypoints=points,
        det_scores=rng.uniform(size=(views, frames)).astype(np.float32),
        timestamps=(np.arange(frames) * 1e6 / 60).astype(np.int64),
        landmarks=rng.uniform(size=(views, frames, 33, 3)).astype(np.float32) if landmarks else None,
    )


@pytest.mark.parametrize("landmarks", [False, True])
def test_keypoints2d_round_trip(tmp_path: Path, landmarks: bool) -> None:
    original = make_keypoints(landmarks=landmarks)
    path = write_keypoints2d(tmp_path / "keypoints2d" / "gBR_sBM_c01_d04_mBR0_ch01.pkl", original)
    loaded = load_keypoints2d(path)
    np.testing.assert_array_equal(loaded.keypoints, original.keypoints)
    np.testing.assert_array_equal(loaded.det_scores, original.det_scores)
    np.testing.assert_array_equal(loaded.timestamps, original.timestamps)
    assert (loaded.landmarks is None) == (not landmarks)
    # the official format: a plain dict, readable by the standard pickle too (it is our own file)
    with open(path, "rb") as handle:
        raw = pickle.load(handle)
    assert set(raw) == {"keypoints2d", "det_scores", "timestamps"} | ({"landmarks"} if landmarks else set())
    # atomic: no temporary file is left beside it
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_keypoints3d_round_trip(tmp_path: Path) -> None:
    raw = np.random.default_rng(1).normal(size=(4, 17, 3))
    path = write_keypoints3d(tmp_path / f"{SEQ}.pkl", raw, raw + 1)
    np.testing.assert_array_equal(load_keypoints3d(path, optim=False), raw)
    np.testing.assert_array_equal(load_keypoints3d(path), raw + 1)
    # no optimised joints: the same ones under both keys
    path = write_keypoints3d(tmp_path / "same.pkl", raw)
    np.testing.assert_array_equal(load_keypoints3d(path), load_keypoints3d(path, optim=False))


def test_cameras_and_mapping_round_trip(tmp_path: Path) -> None:
    camera = Camera(
        name="c01",
        size=(640, 360),
        matrix=[[500.0, 0, 320], [0, 500, 180], [0, 0, 1]],
        rotation=[0.1, -0.2, 0.05],
        translation=[5.0, -10.0, 400.0],
        distortions=[0.01, 0, 0, 0, 0],
    )
    path = write_cameras(tmp_path / "cameras" / "setting1.json", [camera])
    (loaded,) = load_cameras(path)
    assert loaded.name == "c01" and loaded.size == (640, 360)
    points = np.random.default_rng(2).normal(scale=50, size=(3, 7, 3))
    np.testing.assert_allclose(loaded.project(points), camera.project(points))
    mapping = {SEQ: "setting1", "gKR_sFM_cAll_d28_mKR0_ch01": "setting2"}
    write_mapping(tmp_path / "cameras" / "mapping.txt", mapping)
    assert (tmp_path / "cameras" / "mapping.txt").read_text().splitlines()[0] == f"{SEQ} setting1"
    assert load_mapping(tmp_path / "cameras" / "mapping.txt") == mapping


def test_project_matches_pinhole_and_keeps_nan() -> None:
    """No rotation or distortion: u = f x / z + cx; a NaN joint projects to NaN, not an error."""
    camera = Camera(
        "c01",
        (100, 100),
        np.diag([200.0, 200.0, 1.0]) + [[0, 0, 50], [0, 0, 40], [0, 0, 0]],
        np.zeros(3),
        np.array([0.0, 0.0, 100.0]),
        np.zeros(5),
    )
    points = np.array([[[10.0, -20.0, 0.0], [np.nan, 0.0, 0.0]]])
    projected = camera.project(points)
    assert projected.shape == (1, 2, 2)
    np.testing.assert_allclose(projected[0, 0], [50 + 200 * 10 / 100, 40 - 200 * 20 / 100])
    assert np.isnan(projected[0, 1]).all()


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("keypoints2d", np.zeros((2, 5, 18, 3), np.float32), "(*, *, 17, 3)"),
        ("keypoints2d", np.zeros((5, 17, 3), np.float32), "(*, *, 17, 3)"),
        ("det_scores", np.zeros((2, 4), np.float32), "(2, 5)"),
        ("timestamps", np.zeros((5, 1), np.int64), "(5,)"),
    ],
)
def test_keypoints2d_wrong_shape_refused_in_one_line(
    tmp_path: Path, key: str, value: np.ndarray, expected: str
) -> None:
    data = {
        "keypoints2d": np.zeros((2, 5, 17, 3), np.float32),
        "det_scores": np.zeros((2, 5), np.float32),
        "timestamps": np.arange(5, dtype=np.int64),
    }
    data[key] = value
    path = tmp_path / "bad.pkl"
    path.write_bytes(pickle.dumps(data, protocol=4))
    with pytest.raises(DeepdanceError) as err:
        load_keypoints2d(path)
    message = one_line(err)
    assert str(path) in message and repr(key) in message and expected in message
    assert str(value.shape).replace(" ", "") in message.replace(" ", "")


def test_keypoints3d_wrong_shape_and_missing_key(tmp_path: Path) -> None:
    path = tmp_path / "k3.pkl"
    path.write_bytes(pickle.dumps({"keypoints3d_optim": np.zeros((4, 17, 2))}, protocol=4))
    with pytest.raises(DeepdanceError) as err:
        load_keypoints3d(path)
    assert "(4, 17, 2)" in one_line(err) and "(*, 17, 3)" in str(err.value)
    with pytest.raises(DeepdanceError) as err:
        load_keypoints3d(path, optim=False)
    assert "'keypoints3d'" in one_line(err)


class _Exploit:
    """A pickle that would create ``target`` when loaded by an unrestricted unpickler."""

    def __init__(self, target: Path, via: str) -> None:
        self.target, self.via = target, via

    def __reduce__(self):  # noqa: ANN204
        if self.via == "os.system":
            return (os.system, (f"touch {self.target}",))
        return (eval, (f"open({str(self.target)!r}, 'w').close()",))


@pytest.mark.parametrize("via", ["os.system", "builtins.eval"])
def test_foreign_global_refused_and_nothing_runs(tmp_path: Path, via: str) -> None:
    target = tmp_path / "pwned"
    payload = pickle.dumps({"keypoints2d": _Exploit(target, via)}, protocol=4)
    # the payload works: an unrestricted pickle.loads runs it (on a harmless control target)
    control = tmp_path / "control"
    pickle.loads(pickle.dumps(_Exploit(control, via), protocol=4))
    assert control.exists()
    path = tmp_path / "keypoints2d" / f"{SEQ}.pkl"
    path.parent.mkdir()
    path.write_bytes(payload)
    for load in (safe_load, load_keypoints2d, load_annotation):
        with pytest.raises(DeepdanceError) as err:
            load(path)
        message = one_line(err)
        assert str(path) in message and "refused pickle global" in message
        assert (
            ("posix.system" in message or "os.system" in message)
            if via == "os.system"
            else "builtins.eval" in message
        )
    assert not target.exists()


def test_other_foreign_contents_refused(tmp_path: Path) -> None:
    cases = {
        "list.pkl": [np.zeros(3)],
        "object.pkl": {"a": np.array([1, "x"], dtype=object)},
        "string.pkl": {"a": "text"},
        "intkey.pkl": {1: np.zeros(3)},
        "set.pkl": {"a": np.zeros(2), "b": {1, 2}},
        "path.pkl": {"a": Path("x")},
    }
    for name, obj in cases.items():
        path = tmp_path / name
        path.write_bytes(pickle.dumps(obj, protocol=4))
        with pytest.raises(DeepdanceError) as err:
            safe_load(path)
        assert str(path) in one_line(err)
    (tmp_path / "junk.pkl").write_bytes(b"not a pickle at all")
    with pytest.raises(DeepdanceError) as err:
        safe_load(tmp_path / "junk.pkl")
    assert "junk.pkl" in one_line(err)


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_numpy_pickles_of_any_protocol_load(tmp_path: Path, protocol: int) -> None:
    data = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "s": np.float64(1.5), "n": 3, "f": 0.5}
    path = tmp_path / "ok.pkl"
    path.write_bytes(pickle.dumps(data, protocol=protocol))
    loaded = safe_load(path)
    np.testing.assert_array_equal(loaded["a"], data["a"])
    assert loaded["s"] == 1.5 and loaded["n"] == 3 and loaded["f"] == 0.5


def test_legacy_numpy_core_names_load(tmp_path: Path) -> None:
    """Pickles written by numpy 1 name ``numpy.core.multiarray`` (as the official files do)."""
    data = pickle.dumps({"a": np.arange(3, dtype=np.int64), "s": np.float32(2.0)}, protocol=4)
    # drop the (optional) frame header, whose length the renaming would break
    assert data[2:3] == b"\x95"
    legacy = data[:2] + data[11:].replace(b"\x16numpy._core.multiarray", b"\x15numpy.core.multiarray")
    assert legacy != data
    path = tmp_path / "legacy.pkl"
    path.write_bytes(legacy)
    loaded = safe_load(path)
    np.testing.assert_array_equal(loaded["a"], [0, 1, 2])
    assert loaded["s"] == 2.0


def test_smpl_motions_refused(tmp_path: Path) -> None:
    smpl = {"smpl_poses": np.zeros((3, 72)), "smpl_trans": np.zeros((3, 3)), "smpl_scaling": np.ones(1)}
    elsewhere = tmp_path / "elsewhere.pkl"
    elsewhere.write_bytes(pickle.dumps(smpl, protocol=4))
    in_motions = tmp_path / "motions" / f"{SEQ}.pkl"
    in_motions.parent.mkdir()
    # not even opened when it sits in motions/: an unreadable file gives the same answer
    in_motions.write_bytes(b"garbage")
    for load in (load_annotation, load_keypoints3d, load_keypoints2d):
        for path in (elsewhere, in_motions):
            with pytest.raises(DeepdanceError) as err:
                load(path)
            message = one_line(err)
            assert "SMPL" in message and "keypoints3d/" in message and str(path) in message


def test_bad_camera_files_refused_in_one_line(tmp_path: Path) -> None:
    good = {
        "name": "c01",
        "size": [1920, 1080],
        "matrix": np.eye(3).tolist(),
        "rotation": [0, 0, 0],
        "translation": [0, 0, 100],
        "distortions": [0, 0, 0, 0, 0],
    }
    cases = {
        "missing": ({k: v for k, v in good.items() if k != "rotation"}, "rotation"),
        "matrix": ({**good, "matrix": [[1, 0], [0, 1]]}, "'matrix'"),
        "distortions": ({**good, "distortions": [0, 0, 0]}, "'distortions'"),
        "size": ({**good, "size": [0, 1080]}, "'size'"),
    }
    for name, (entry, expected) in cases.items():
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps([entry]))
        with pytest.raises(DeepdanceError) as err:
            load_cameras(path)
        assert str(path) in one_line(err) and expected in str(err.value)
    (tmp_path / "dup.json").write_text(json.dumps([good, good]))
    with pytest.raises(DeepdanceError, match="repeat"):
        load_cameras(tmp_path / "dup.json")
    (tmp_path / "notjson.json").write_text("{")
    with pytest.raises(DeepdanceError) as err:
        load_cameras(tmp_path / "notjson.json")
    one_line(err)
    mapping = tmp_path / "mapping.txt"
    mapping.write_text(f"{SEQ} setting1 extra\n")
    with pytest.raises(DeepdanceError) as err:
        load_mapping(mapping)
    assert "mapping.txt:1" in one_line(err)
    mapping.write_text("not_a_sequence setting1\n")
    with pytest.raises(DeepdanceError) as err:
        load_mapping(mapping)
    assert "mapping.txt:1" in one_line(err)


def test_parse_sequence_name() -> None:
    fields = parse_sequence_name(f"{SEQ}.pkl")
    assert fields.camera == "All" and fields.dancer == "04" and fields.sequence == SEQ
    assert parse_sequence_name("gBR_sBM_c02_d04_mBR0_ch03").camera == "02"
    with pytest.raises(ValueError):
        parse_sequence_name("gXX_sBM_cAll_d04_mBR0_ch03")


def _write_folder(root: Path) -> None:
    """A small annotation folder: two genres x two dancers, two settings, a per-camera file."""
    cameras = [
        Camera(
            f"c{v:02d}",
            (640, 360),
            [[500.0, 0, 320], [0, 500, 180], [0, 0, 1]],
            [0, 0.3 * v, 0],
            [0, 0, 400],
            [0] * 5,
        )
        for v in (1, 2)
    ]
    write_cameras(root / "cameras" / "setting1.json", cameras)
    write_cameras(root / "cameras" / "setting2.json", cameras[:1] + cameras[:1][:0] + [cameras[1]])
    mapping = {}
    for genre, dancers in (("BR", ("01", "02")), ("KR", ("03", "04"))):
        for dancer in dancers:
            seq = f"g{genre}_sBM_cAll_d{dancer}_m{genre}0_ch01"
            mapping[seq] = "setting1" if genre == "BR" else "setting2"
            write_keypoints2d(root / "keypoints2d" / f"{seq}.pkl", make_keypoints(views=2))
            write_keypoints3d(root / "keypoints3d" / f"{seq}.pkl", np.zeros((5, 17, 3)))
    write_mapping(root / "cameras" / "mapping.txt", mapping)
    write_keypoints2d(root / "keypoints2d" / "gBR_sBM_c01_d01_mBR0_ch02.pkl", make_keypoints(views=1))
    (root / "keypoints2d" / "notes.txt").write_text("stray")
    (root / "ignore_list.txt").write_text("gKR_sBM_cAll_d04_mKR0_ch01\n")
    (root / "splits").mkdir()
    for split, names in {
        "train": ["gBR_sBM_cAll_d01_mBR0_ch01", "gBR_sBM_c01_d01_mBR0_ch02", "gKR_sBM_cAll_d03_mKR0_ch01"],
        "val": [],
        "test": ["gBR_sBM_cAll_d02_mBR0_ch01"],
    }.items():
        (root / "splits" / f"pose_{split}.txt").write_text("".join(f"{n}\n" for n in names))


def test_folder_layout_splits_and_ignore_list(tmp_path: Path) -> None:
    _write_folder(tmp_path)
    folder = AnnotationFolder(tmp_path)
    names = [entry.name for entry in folder.sequences]
    assert len(names) == 5 and "gBR_sBM_c01_d01_mBR0_ch02" in names
    assert [path.name for path, _ in folder.rejected] == ["notes.txt"]
    per_camera = folder["gBR_sBM_c01_d01_mBR0_ch02"]
    assert per_camera.per_camera and per_camera.sequence == "gBR_sBM_cAll_d01_mBR0_ch02"
    assert folder.keypoints2d(per_camera.name).num_views == 1
    assert folder.view_names(per_camera.name) == ["c01"]
    assert folder.setting_of("gKR_sBM_cAll_d03_mKR0_ch01") == "setting2"
    assert folder.keypoints2d("gKR_sBM_cAll_d03_mKR0_ch01").num_views == 2
    assert folder.keypoints3d("gBR_sBM_cAll_d01_mBR0_ch01").shape == (5, 17, 3)
    # ignore_list.txt at the root, as AIST++ ships it
    manifest = folder.manifest()
    assert "gKR_sBM_cAll_d04_mKR0_ch01" not in set(manifest["name"]) and len(manifest) == 4
    assert len(folder.manifest(drop_ignored=False)) == 5
    # the splits of data=aist apply to the manifest unchanged
    split = split_by_files(manifest, folder.split_dir, "pose")
    by_name = dict(zip(manifest["name"], split, strict=True))
    assert by_name["gBR_sBM_cAll_d02_mBR0_ch01"] == "test"
    assert by_name["gBR_sBM_c01_d01_mBR0_ch02"] == "train"
    manifest = manifest.assign(split=split_by_dancer(manifest, seed=0, val_dancers=0))
    assert manifest.groupby("dancer")["split"].nunique().max() == 1


def test_folder_errors_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(DeepdanceError) as err:
        AnnotationFolder(tmp_path / "absent")
    one_line(err)
    (tmp_path / "motions").mkdir()
    with pytest.raises(DeepdanceError) as err:
        AnnotationFolder(tmp_path)
    assert "keypoints3d/" in one_line(err)
    _write_folder(tmp_path)
    # a per-camera file with 2 views
    write_keypoints2d(tmp_path / "keypoints2d" / "gBR_sBM_c02_d01_mBR0_ch02.pkl", make_keypoints(views=2))
    # a sequence the mapping does not list, with two settings to choose from
    write_keypoints2d(tmp_path / "keypoints2d" / "gBR_sBM_cAll_d01_mBR0_ch09.pkl", make_keypoints(views=2))
    # a sequence with more views than its setting's cameras
    write_keypoints2d(tmp_path / "keypoints2d" / "gBR_sBM_cAll_d01_mBR0_ch01.pkl", make_keypoints(views=3))
    folder = AnnotationFolder(tmp_path)
    for name, expected in (
        ("gBR_sBM_c02_d01_mBR0_ch02", "1 view"),
        ("gBR_sBM_cAll_d01_mBR0_ch01", "2 cameras"),
        ("gBR_sBM_cAll_d09_mBR0_ch01", "no annotation"),
    ):
        with pytest.raises(DeepdanceError) as err:
            folder.keypoints2d(name)
        assert expected in one_line(err)
    with pytest.raises(DeepdanceError) as err:
        folder.cameras("gBR_sBM_cAll_d01_mBR0_ch09")
    assert "mapping.txt does not list it" in one_line(err)
    shutil.rmtree(tmp_path / "keypoints2d")
    shutil.rmtree(tmp_path / "keypoints3d")
    (tmp_path / "keypoints2d").mkdir()
    (tmp_path / "keypoints2d" / "dance.pkl").write_bytes(b"")
    with pytest.raises(DeepdanceError) as err:
        AnnotationFolder(tmp_path)
    assert "AIST++ name" in one_line(err)


def test_keypoints2d_checked_on_construction_and_write(tmp_path: Path) -> None:
    """The synthetic export and the front end build Keypoints2D themselves: a wrong shape fails
    there, and a writer given one (changed after construction) writes nothing."""
    built = Keypoints2D([[[[1, 2, 1]] * 17]], [[0.5]], [0])
    assert built.keypoints.dtype == np.float32 and built.timestamps.dtype == np.int64
    with pytest.raises(DeepdanceError) as err:
        Keypoints2D(np.zeros((1, 2, 17, 3)), np.zeros((1, 3)), np.zeros(2, np.int64))
    assert "'det_scores'" in one_line(err)
    keypoints = make_keypoints()
    keypoints.timestamps = keypoints.timestamps[:-1]
    target = tmp_path / "out" / f"{SEQ}.pkl"
    with pytest.raises(DeepdanceError) as err:
        write_keypoints2d(target, keypoints)
    assert "'timestamps'" in one_line(err)
    assert not target.exists()
    with pytest.raises(DeepdanceError):
        write_keypoints3d(target, np.zeros((4, 17, 3)), np.zeros((5, 17, 3)))
    assert not target.exists()
