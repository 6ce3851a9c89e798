"""Everything between a video file on disk and a batch of tensors.

One job per subpackage, each ``__init__`` exporting its public names:

* ``video/``: open and probe, decode chosen frames (``reader``), write mp4 (``writer``), pick
  clip indices (``clip_sampling``), and find bad videos (``bad_videos``, ``scan``);
* ``aist/``: AIST++ names and the manifest (``names``), splits (``splits``), the downloader
  (``download``) and stand-in videos (``standin``);
* ``genre/``: the genre datamodule, its clip datasets and clip augmentation;
* ``silhouette/``: silhouette preprocessing, its disk cache and the Deep-Dance datamodule;
* ``synthetic/``: the synthetic dancers (``kinematics``, ``renderer``) and the folders they
  are written to (``dataset``, ``silhouettes``).

``owned_folder`` and ``resumable`` are shared blocks used by several subpackages.
A video's path: ``aist.names.find_videos`` -> manifest and split (``aist.splits``) ->
``genre.GenreDataModule`` probes it (``video.bad_videos``) -> a clip dataset picks indices
(``video.clip_sampling``) -> ``video.reader.read_clip`` decodes only those frames.
"""
