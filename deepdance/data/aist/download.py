"""Download the AIST++ videos from the AIST Dance Video Database, resumably and verified.

    python -m deepdance.download_aist --root data/aist --accept-terms --workers 8
    python -m deepdance.download_aist --root data/aist --genres BR PO --cameras 1 --situations BM \
        --max-videos 50

The official list (``--list``: a URL or a local file) names one video per line; a name is
fetched from ``--base-url`` + name + ``.mp4``, a full URL as it is. Every file is written to
``NAME.mp4.part`` and renamed only once complete and verified (decord opens it and it has
frames), so an interrupted run leaves no half file under a final name: the next run skips
complete files and resumes ``.part`` files with an HTTP Range request. Retries follow one
urllib3 ``Retry`` per video (exponential backoff): refused connections, timeouts and 408/429/5xx
answers are retried inside urllib3, and a connection dropped mid-file or a file that is not a
video spend the same budget, resuming from where the ``.part`` stops; a 404 is not retried.
A table at the end says what was downloaded, skipped and failed (with reasons); the exit code
is 1 when anything failed.

The AIST Dance Video Database asks every user to accept its Terms of Use before
downloading: the command asks, or takes ``--accept-terms`` for non-interactive use.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlparse

import urllib3
from urllib3.exceptions import HTTPError, MaxRetryError
from urllib3.util import Retry, Timeout

from deepdance.data.aist.names import parse_aist_name

log = logging.getLogger(__name__)

# Those of the official AIST++ downloader (github.com/google/aistplusplus_api, downloader.py).
LIST_URL = "https://storage.googleapis.com/aist_plusplus_public/20121228/video_list.txt"
SOURCE_URL = "https://aistdancedb.ongaaccel.jp/v1.0.0/video/10M/"
TERMS_URL = "https://aistdancedb.ongaaccel.jp/terms_of_use/"
CHUNK = 1 << 20
# Answers that a later attempt may not get; any other non-2xx (404, 403, ...) is final.
RETRY_STATUSES = (408, 429, 500, 502, 503, 504)
USER_AGENT = "deepdance-download-aist/1"


class DownloadError(Exception):
    """A download attempt that failed; ``retry`` says whether another attempt may succeed;
    ``left`` is the retry state after urllib3's own retries of the request (None: unknown)."""

    def __init__(self, reason: str, retry: bool = True, left: Retry | None = None) -> None:
        super().__init__(reason)
        self.retry = retry
        self.left = left


@dataclass(frozen=True)
class VideoSource:
    """One AIST++ video to fetch: its file name and where it comes from."""

    # file name, e.g. gBR_sBM_c01_d04_mBR0_ch01.mp4
    name: str
    url: str


@dataclass
class Outcome:
    """What happened to one video, for the summary table and the exit code."""

    source: VideoSource
    # downloaded | skipped | failed
    status: str
    reason: str = ""
    bytes: int = 0
    attempts: int = 0


# --------------------------------------------------------------------------------------------
# The video list
# --------------------------------------------------------------------------------------------


def retry_policy(retries: int, backoff: float) -> Retry:
    """urllib3's retry budget for one download: ``retries`` after the first attempt. The first
    retry is immediate, retry n waits ``backoff * 2**(n-1)`` s plus up to ``backoff`` s of
    jitter (at most 120 s), or what a server's Retry-After asks."""
    return Retry(
        total=retries,
        backoff_factor=backoff,
        backoff_jitter=backoff,
        status_forcelist=RETRY_STATUSES,
        allowed_methods={"GET"},
        raise_on_status=False,
        respect_retry_after_header=True,
    )


def _describe(err: BaseException) -> str:
    """A short reason for a failed request: the innermost cause urllib3 wraps."""
    if isinstance(err, MaxRetryError) and err.reason is not None:
        err = err.reason
    return f"{type(err).__name__}: {str(err)[:120]}"


def read_list(location: str, timeout: float = 60.0, retries: int = 3) -> list[str]:
    """Lines of the video list from a URL or a local file (blank lines and ``#`` comments skipped)."""
    if "://" in location and not location.startswith("file://"):
        pool = urllib3.PoolManager(headers={"User-Agent": USER_AGENT})
        try:
            response = pool.request("GET", location, retries=retry_policy(retries, 1.0), timeout=timeout)
        except HTTPError as err:
            raise SystemExit(f"error: cannot read the video list {location}: {_describe(err)}") from None
        if response.status != 200:
            answer = f"HTTP {response.status} {response.reason}"
            raise SystemExit(f"error: cannot read the video list {location}: {answer}")
        text = response.data.decode("utf-8")
    else:
        path = Path(location.removeprefix("file://")).expanduser()
        if not path.is_file():
            raise SystemExit(
                f"error: --list {location}: no such file (give a URL or a text file with one video name or "
                f"URL per line)"
            )
        text = path.read_text()
    lines = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    return [line for line in lines if line]


def to_source(line: str, base_url: str) -> VideoSource:
    """A list line (a name like ``gBR_sBM_c01_d04_mBR0_ch01`` or a full URL) -> file name and URL."""
    if "://" in line:
        name = Path(urlparse(line).path).name
        return VideoSource(name=name, url=line)
    name = line if Path(line).suffix else f"{line}.mp4"
    return VideoSource(
        name=Path(name).name, url=urljoin(base_url if base_url.endswith("/") else base_url + "/", name)
    )


def select(
    sources: list[VideoSource],
    genres: list[str] | None,
    situations: list[str] | None,
    cameras: list[str] | None,
    max_videos: int | None,
) -> list[VideoSource]:
    """Keep the videos whose AIST++ name matches every filter given, then the first ``max_videos``."""
    if genres or situations or cameras:
        kept = []
        for source in sources:
            try:
                fields = parse_aist_name(source.name)
            except ValueError:
                # a filter asks for AIST++ fields this name does not have
                continue
            if genres and fields.genre not in genres:
                continue
            if situations and fields.situation not in situations:
                continue
            if cameras and fields.camera not in cameras:
                continue
            kept.append(source)
        sources = kept
    return sources[:max_videos] if max_videos is not None else sources


# --------------------------------------------------------------------------------------------
# One video
# --------------------------------------------------------------------------------------------


def verify_video(path: Path) -> None:
    """Raise ``DownloadError`` unless decord opens ``path`` and it has frames."""
    from deepdance.data.video.reader import VideoError, probe_video

    try:
        probe_video(path)
    except VideoError as err:
        raise DownloadError(str(err).replace(str(path), path.name), retry=True) from None


def _request(
    pool: urllib3.PoolManager, source: VideoSource, have: int, retry: Retry, timeout: float
) -> urllib3.BaseHTTPResponse:
    """GET the video from byte ``have`` on, retried by urllib3 until it gets an answer."""
    headers = {"Range": f"bytes={have}-"} if have else {}
    try:
        return pool.request(
            "GET",
            source.url,
            headers=headers,
            retries=retry,
            preload_content=False,
            timeout=Timeout(connect=timeout, read=timeout),
        )
    except MaxRetryError as err:
        # urllib3 already spent the whole budget on refused connections or timeouts
        raise DownloadError(f"connection failed ({_describe(err)})", retry=False) from None
    except HTTPError as err:
        raise DownloadError(f"connection failed ({_describe(err)})") from None


def _resume_point(response: urllib3.BaseHTTPResponse, have: int) -> tuple[int, str]:
    """Where the answer starts and how to open the ``.part``: append on a matching 206, else
    start over (200: the server ignored or was not asked for a range)."""
    if response.status not in (200, 206):
        # a RETRY_STATUSES answer here means urllib3 has used up the budget
        raise DownloadError(f"HTTP {response.status} {response.reason}", retry=False)
    if have and response.status == 206:
        start = response.headers.get("Content-Range", "").split(" ")[-1].split("-")[0]
        if start.isdigit() and int(start) != have:
            raise DownloadError(f"server resumed at byte {start}, not {have}")
        return have, "ab"
    return 0, "wb"


def _stream(
    response: urllib3.BaseHTTPResponse, part: Path, mode: str, progress: Callable[[int], None]
) -> None:
    try:
        with open(part, mode) as handle:
            # read1: what has arrived, so a drop keeps every byte received (read(n) would lose them)
            while chunk := response.read1(CHUNK):
                handle.write(chunk)
                progress(len(chunk))
    except (HTTPError, OSError) as err:
        # reset, timeout, dropped mid-file (urllib3 enforces Content-Length)
        raise DownloadError(f"connection dropped ({_describe(err)})") from None


def _fetch_into(
    pool: urllib3.PoolManager,
    source: VideoSource,
    part: Path,
    retry: Retry,
    timeout: float,
    progress: Callable[[int], None],
) -> Retry:
    """One request, retried by urllib3 until it gets an answer: append to ``part`` from where it
    stops. Returns the retry state left (urllib3 may have spent some); raises ``DownloadError``."""
    have = part.stat().st_size if part.exists() else 0
    response = _request(pool, source, have, retry, timeout)
    left = response.retries or retry
    try:
        # nothing left past our offset: the .part may already be whole (the verify step decides)
        if response.status == 416 and have:
            return left
        have, mode = _resume_point(response, have)
        length = response.headers.get("Content-Length")
        expected = have + int(length) if length and length.isdigit() else None
        _stream(response, part, mode, progress)
    except DownloadError as err:
        err.left = left
        raise
    finally:
        response.release_conn()
    size = part.stat().st_size
    if expected is not None and size != expected:
        raise DownloadError(f"connection dropped at byte {size} of {expected}", left=left)
    return left


def download_one(
    source: VideoSource,
    root: Path,
    retries: int = 5,
    timeout: float = 60.0,
    backoff: float = 1.0,
    verify: bool = True,
    progress: Callable[[int], None] = lambda n: None,
    pool: urllib3.PoolManager | None = None,
) -> Outcome:
    """Download one video to ``root/name`` via ``name.part``; skip it if already complete.

    urllib3 retries a request until it gets an answer; what fails after that (the body, the
    verification) is charged to the same ``Retry`` with ``increment`` and waits its backoff,
    then the next request resumes the ``.part`` with a Range header.
    """
    dest = root / source.name
    if dest.exists():
        return Outcome(source, "skipped", "already complete")
    part = dest.with_name(dest.name + ".part")
    pool = pool or urllib3.PoolManager(headers={"User-Agent": USER_AGENT})
    retry = retry_policy(retries, backoff)
    while True:
        try:
            retry = _fetch_into(pool, source, part, retry, timeout, progress)
            if verify:
                try:
                    verify_video(part)
                except DownloadError:
                    # a whole file that is not a video: start over
                    part.unlink(missing_ok=True)
                    raise
            size = part.stat().st_size
            try:
                # publish by hard link: a file that appeared at dest meanwhile is never replaced
                os.link(part, dest)
            except FileExistsError:
                part.unlink()
                return Outcome(source, "skipped", f"{dest} appeared during the download; left as it is")
            part.unlink()
            return Outcome(source, "downloaded", bytes=size, attempts=len(retry.history) + 1)
        except DownloadError as err:
            reason = str(err)
            retry = err.left or retry
            # no state left: urllib3 raised after spending the whole budget itself
            attempts = len(retry.history) + 1 if err.left or err.retry else retries + 1
            if not err.retry:
                break
            try:
                retry = retry.increment("GET", source.url, error=err)
            except MaxRetryError:
                break
            log.info("%s: attempt %d failed (%s); retrying", source.name, attempts, reason)
            retry.sleep()
    if part.exists() and part.stat().st_size == 0:
        part.unlink()
    plural = "s" if attempts > 1 else ""
    return Outcome(source, "failed", f"{reason} (after {attempts} attempt{plural})", attempts=attempts)


# --------------------------------------------------------------------------------------------
# Many videos
# --------------------------------------------------------------------------------------------


def download_all(
    sources: list[VideoSource],
    root: Path,
    workers: int = 8,
    retries: int = 5,
    timeout: float = 60.0,
    backoff: float = 1.0,
    verify: bool = True,
    show_progress: bool = True,
) -> list[Outcome]:
    """Download ``sources`` with ``workers`` threads (network-bound), with a progress bar."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    root.mkdir(parents=True, exist_ok=True)
    outcomes: list[Outcome] = []
    received = [0]
    lock = threading.Lock()
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[mb]:.1f} MB"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, disable=not show_progress, transient=False) as bar:
        task = bar.add_task("AIST++ videos", total=len(sources), mb=0.0)

        def progress(n: int) -> None:
            with lock:
                received[0] += n
                bar.update(task, mb=received[0] / 1e6)

        # one connection pool for all threads (urllib3's pools are thread-safe)
        http = urllib3.PoolManager(maxsize=max(1, workers), headers={"User-Agent": USER_AGENT})
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            futures = [
                pool.submit(download_one, s, root, retries, timeout, backoff, verify, progress, http)
                for s in sources
            ]
            for future in as_completed(futures):
                outcome = future.result()
                outcomes.append(outcome)
                if outcome.status == "failed":
                    log.warning("%s failed: %s", outcome.source.name, outcome.reason)
                bar.advance(task)
    order = {s.name: i for i, s in enumerate(sources)}
    return sorted(outcomes, key=lambda o: order[o.source.name])
