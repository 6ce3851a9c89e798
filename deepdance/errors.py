"""Errors a user can fix: the CLI prints them as one line instead of a traceback."""

from __future__ import annotations


class DeepdanceError(Exception):
    """Bad input or configuration; the message names the file or setting and what is accepted."""


class VideoError(DeepdanceError):
    """A video file that cannot be opened or decoded; the message starts with its path."""


class SettingError(DeepdanceError, ValueError):
    """A value a settings object refuses (still a ValueError for callers that catch one);
    the start-up checks prefix it with the config key it came from."""
