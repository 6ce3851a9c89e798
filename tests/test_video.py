"""Frame sampling and masks: which frames a clip reads, and which are padding."""

from __future__ import annotations

import numpy as np
import pytest

from deepdance.data.video import decode_size, sample_frame_indices


def test_eval_indices_sit_at_segment_centres() -> None:
    indices, mask = sample_frame_indices(100, 10, random=False)
    assert indices.tolist() == [5, 15, 25, 35, 45, 55, 65, 75, 85, 95]
    assert mask.all()


def test_offsets_move_eval_clips() -> None:
    first, _ = sample_frame_indices(100, 10, random=False, offset=0.0)
    last, _ = sample_frame_indices(100, 10, random=False, offset=0.99)
    assert first.tolist() == list(range(0, 100, 10)) and last.tolist() == list(range(9, 100, 10))


def test_train_indices_stay_inside_their_segments() -> None:
    rng = np.random.default_rng(0)
    draws = np.stack([sample_frame_indices(200, 8, random=True, rng=rng)[0] for _ in range(200)])
    segment = draws // 25
    assert (segment == np.arange(8)).all()
    assert len(np.unique(draws[:, 0])) > 10  # jitter really varies
    assert (np.diff(draws, axis=1) > 0).all()


def test_short_video_is_padded_and_masked() -> None:
    indices, mask = sample_frame_indices(3, 6, random=True)
    assert indices.tolist() == [0, 1, 2, 2, 2, 2]
    assert mask.tolist() == [True, True, True, False, False, False]


@pytest.mark.parametrize("bad", [0, -1])
def test_rejects_non_positive_frame_counts(bad: int) -> None:
    with pytest.raises(ValueError, match="positive"):
        sample_frame_indices(10, bad, random=False)


def test_decode_size_keeps_aspect_with_short_side_at_target() -> None:
    assert decode_size(1080, 1920, 299) == (299, 532)
    assert decode_size(300, 200, 100) == (150, 100)


def _bar_video(path, height: int, width: int):
    """A dark video with a white vertical bar over the middle third."""
    from deepdance.data.video.writer import write_mp4

    frames = np.full((6, height, width, 3), 20, dtype=np.uint8)
    frames[:, :, width // 3 : width - width // 3] = 255
    return write_mp4(path, frames, fps=10)


def test_decord_fails_at_exactly_the_listed_widths(tmp_path) -> None:
    """The trigger: decoding at a listed width fails (or comes back wrong-sized); one column
    wider works. A decord that no longer fails lets the list shrink."""
    import decord

    from deepdance.data.video import DECORD_BAD_WIDTHS

    path = str(_bar_video(tmp_path / "bar.mp4", 64, 96))

    def decodes(width: int) -> bool:
        try:
            frames = decord.VideoReader(path, width=width, height=40).get_batch([0]).asnumpy()
        except decord.DECORDError:
            return False
        return frames.shape == (1, 40, width, 3)

    assert not any(decodes(w) for w in sorted(DECORD_BAD_WIDTHS))
    assert all(decodes(w + 1) for w in sorted(DECORD_BAD_WIDTHS))
    assert all(decodes(w) for w in (10, 14, 18, 22, 32, 46, 50, 64, 70, 74))


@pytest.mark.parametrize("img_size", [6, 16, 24, 48, 72, 64])
def test_read_clip_at_decord_bad_widths_gives_the_right_frames(tmp_path, img_size: int, caplog) -> None:
    """A portrait video: its short side is the width, so the decode width is ``img_size``
    itself, a width decord fails at for all but 64; a landscape one whose file width is bad."""
    from deepdance.data.video import read_clip

    for name, height, width in (("portrait", 160, 90), ("landscape", 32, 48)):
        path = _bar_video(tmp_path / f"{name}.mp4", height, width)
        with caplog.at_level("WARNING", logger="deepdance.data.video.reader"):
            clip = read_clip(path, np.array([0, 2, 5]), img_size)
        assert clip.shape == (3, 3, img_size, img_size)
        # The crop is centred on the bar; the edges stay dark (no misread, shifted rows).
        assert clip[:, :, :, img_size // 2].float().mean() > 200
        assert clip[:, :, :, 0].float().mean() < 100 and clip[:, :, :, -1].float().mean() < 100
    assert "resizing" not in caplog.text  # the right size straight from the decoder


def test_fallback_resize_warns_when_the_decoder_returns_another_size(tmp_path, monkeypatch, caplog) -> None:
    """A decoder that hands back fewer pixels than asked is resized to the requested size (the
    crop must not wrap around), and the log says so."""
    from deepdance.data.video import reader as video

    path = _bar_video(tmp_path / "bar.mp4", 90, 90)
    honest = video.open_video

    def rounding_decoder(path, **size):
        if size:
            size = {"height": size["height"] - 4, "width": size["width"] - 3}
        return honest(path, **size)

    monkeypatch.setattr(video, "open_video", rounding_decoder)
    with caplog.at_level("WARNING", logger="deepdance.data.video.reader"):
        clip = video.read_clip(path, np.array([0, 1]), 32)
    assert clip.shape == (2, 3, 32, 32)
    assert clip[:, :, :, 16].float().mean() > 200
    (record,) = [r for r in caplog.records if "resizing" in r.getMessage()]
    assert (
        record.levelname == "WARNING"
        and "decoded at 29x28 instead of the 32x32 asked for" in record.getMessage()
    )


def test_decode_size_never_asks_decord_for_a_bad_width() -> None:
    from deepdance.data.video import DECORD_BAD_WIDTHS

    for height, width in ((90, 160), (160, 90), (64, 64), (1080, 1920), (1920, 1080)):
        for img_size in range(4, 320):
            out_height, out_width = decode_size(height, width, img_size)
            assert out_width not in DECORD_BAD_WIDTHS and min(out_height, out_width) >= img_size
