"""Keypoint sequences for the skeleton genre models (``data=aist_pose``): AIST++ annotation
folders, the synthetic dancers' exported annotations, or ``extract_poses`` output."""

from deepdance.data.pose.datamodule import PoseDataModule

__all__ = ["PoseDataModule"]
