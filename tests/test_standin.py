"""The one stand-in writer: make_standins' dancer-split sets in AIST++'s container format."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from deepdance.data.aist import parse_aist_name
from deepdance.data.aist.standin import make_standin, standin_format
from deepdance.data.synthetic.dataset import SyntheticConfig
from deepdance.data.video import keyframe_indices, probe_video
from deepdance.errors import DeepdanceError
from deepdance.make_standins import main

TINY = {"width": 64, "height": 40, "fps": 10.0, "seconds": 1.0, "gop_seconds": 0.5, "preset": "ultrafast"}


def _first_frame(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        return next(container.decode(video=0)).to_ndarray(format="rgb24")


def test_make_standin_writes_aist_named_videos_in_the_asked_format(tmp_path: Path) -> None:
    config = SyntheticConfig(seed=1, dancers_per_genre=1, cameras=2, musics=1)
    paths = make_standin(tmp_path, config, standin_format(**TINY), workers=1)
    assert len(paths) == 20 and {parse_aist_name(p.name).genre for p in paths} >= {"BR", "PO"}
    info = probe_video(paths[0])
    assert (info.width, info.height, info.num_frames) == (64, 40, 10)
    # a fixed GOP: a key frame every 0.5 s, none from scene cuts
    assert keyframe_indices(paths[0]).tolist() == [0, 5]
    with av.open(str(paths[0])) as container:
        assert [s.codec_context.name for s in container.streams if s.type == "audio"] == ["aac"]
    # two cameras film one dancer: different views, not copies
    cameras = sorted(p for p in paths if "_d01_" in p.name)
    assert len(cameras) == 2 and not np.array_equal(_first_frame(cameras[0]), _first_frame(cameras[1]))
    stamps = [p.stat().st_mtime_ns for p in paths]
    assert [p.stat().st_mtime_ns for p in make_standin(tmp_path, config, standin_format(**TINY))] == stamps


def test_a_bad_format_is_one_line() -> None:
    with pytest.raises(DeepdanceError, match="stand-in format: width and height must be even"):
        standin_format(**{**TINY, "height": 41})


def test_the_cli_refuses_an_odd_size_with_exit_code_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--root", str(tmp_path / "s"), "--height", "107", "--width", "192"])
    assert done.value.code == 2
    assert capsys.readouterr().err.strip() == (
        "error: stand-in format: width and height must be even and >= 32 (H.264 yuv420p), got 192x107"
    )
    assert not (tmp_path / "s").exists()
