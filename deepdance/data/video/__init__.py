"""Video files: open, probe and decode chosen frames; write mp4; report and scan bad videos."""

from deepdance.data.video.bad_videos import (
    ON_BAD_VIDEO,
    REPORT_NAME,
    BadVideoReport,
    SkipBadVideos,
    collate_skipping_bad,
    probe_videos,
)
from deepdance.data.video.clip_sampling import ClipSampler, unique_frames
from deepdance.data.video.reader import (
    DECORD_BAD_WIDTHS,
    VideoInfo,
    decode_size,
    keyframe_indices,
    open_video,
    probe_video,
    read_clip,
    sample_frame_indices,
    snap_to_keyframes,
)
from deepdance.data.video.scan import check_video, scan_videos
from deepdance.data.video.writer import new_video_file, write_mp4
from deepdance.errors import VideoError

__all__ = [
    "ClipSampler",
    "unique_frames",
    "DECORD_BAD_WIDTHS",
    "ON_BAD_VIDEO",
    "REPORT_NAME",
    "BadVideoReport",
    "SkipBadVideos",
    "VideoError",
    "VideoInfo",
    "check_video",
    "collate_skipping_bad",
    "decode_size",
    "keyframe_indices",
    "new_video_file",
    "open_video",
    "probe_video",
    "probe_videos",
    "read_clip",
    "sample_frame_indices",
    "scan_videos",
    "snap_to_keyframes",
    "write_mp4",
]
