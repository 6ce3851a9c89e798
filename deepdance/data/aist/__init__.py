"""AIST++: video names and the manifest, leak-free splits, and the downloader.

The stand-in writer (``deepdance.data.aist.standin``) is not imported here: it renders
synthetic dancers and needs PyAV, which reading names and splits does not.
"""

from deepdance.data.aist.download import DownloadError, VideoSource, download_all, download_one
from deepdance.data.aist.names import (
    GENRE_NAMES,
    GENRES,
    MANIFEST_COLUMNS,
    SITUATIONS,
    VIDEO_SUFFIXES,
    AistName,
    build_manifest,
    find_videos,
    normalise_cameras,
    normalise_situations,
    parse_aist_name,
)
from deepdance.data.aist.splits import (
    SPLIT_SETS,
    dancers_shared_between_splits,
    describe_split,
    filter_manifest,
    list_entry,
    read_sequence_list,
    sequence_name,
    split_at_random,
    split_by_dancer,
    split_by_files,
    split_files,
)

__all__ = [
    "GENRES",
    "GENRE_NAMES",
    "MANIFEST_COLUMNS",
    "SITUATIONS",
    "SPLIT_SETS",
    "VIDEO_SUFFIXES",
    "AistName",
    "DownloadError",
    "VideoSource",
    "build_manifest",
    "dancers_shared_between_splits",
    "describe_split",
    "download_all",
    "download_one",
    "filter_manifest",
    "find_videos",
    "list_entry",
    "normalise_cameras",
    "normalise_situations",
    "parse_aist_name",
    "read_sequence_list",
    "sequence_name",
    "split_at_random",
    "split_by_dancer",
    "split_by_files",
    "split_files",
]
