"""Judge the pose-space generator in joint space, beside its baselines, on the very same windows.

The latent LSTM's evaluator (``rollout_evaluator``) with poses for frames: a "frame" is a pose in
the data's normalised units (root-centred, one torso length = 1), so

* **one step**: ``{split}/next_mse{suffix}`` (per coordinate) and ``{split}/next_mpjpe{suffix}``
  (mean per-joint position error, in torso lengths) of the LSTM and of ``_repeat``, ``_extrap``
  and ``_ridge``;
* **rollout errors** (test): ``test/rollout{h}_mse`` and ``_mpjpe`` after h steps;
* **liveliness**: mean joint speed per step (torso lengths per frame, over all joints) of rollouts
  over the longest horizon against the real poses' (``_ratio``: 1 dances as fast as the data,
  0 is frozen, far above 1 is jitter). At 30 fps, a horizon of 120 steps is the 4 s the field
  reports. There is no decoder, so no ``_recon``.
"""

from __future__ import annotations

import torch
from torchmetrics import Metric

from deepdance.metrics.motion.scores import joint_speed
from deepdance.models.latent_lstm import extrapolate
from deepdance.models.rollout_evaluator import MeasuredModel, MotionSums, RolloutEvaluator
from deepdance.pose.skeleton import NUM_JOINTS

# One-step methods by summary-key suffix (no decoder: no reconstruction).
POSE_METHODS = {"model": "", "repeat": "_repeat", "extrap": "_extrap", "ridge": "_ridge"}


def joint_positions(poses: torch.Tensor, dims: int) -> torch.Tensor:
    """(..., J * dims) flat poses -> (..., J, dims)."""
    return poses.reshape(*poses.shape[:-1], -1, dims)


def pose_errors(pred: torch.Tensor, real: torch.Tensor, dims: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Per item (leading axis), the mean squared coordinate error and the mean per-joint distance."""
    mse = (pred - real).pow(2).flatten(1).mean(1)
    mpjpe = (joint_positions(pred, dims) - joint_positions(real, dims)).norm(dim=-1).flatten(1).mean(1)
    return mse, mpjpe


class PoseErrors(Metric):
    """The mean ``pose_errors`` over the batches seen: ``{"mse", "mpjpe"}``."""

    def __init__(self, dims: int) -> None:
        super().__init__()
        self.dims = dims
        self.add_state("mse", torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("mpjpe", torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("count", torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")

    def update(self, pred: torch.Tensor, real: torch.Tensor) -> None:
        mse, mpjpe = pose_errors(pred.double(), real.double(), self.dims)
        self.mse += mse.sum()
        self.mpjpe += mpjpe.sum()
        self.count += len(mse)

    def compute(self) -> dict[str, torch.Tensor]:
        count = self.count.clamp(min=1)
        return {"mse": (self.mse / count).float(), "mpjpe": (self.mpjpe / count).float()}


class JointMotion(MotionSums):
    """Summed mean joint speed per step, per source: liveliness in joint space."""

    def __init__(self, dims: int) -> None:
        super().__init__()
        self.dims = dims

    def add(self, suffix: str, frames: torch.Tensor) -> None:
        """Add the steps of (..., T, J * D) poses (the motion metrics' ``joint_speed``, per step)."""
        T = frames.shape[-2]
        joints = joint_positions(frames.detach().float().cpu(), self.dims).reshape(
            -1, T, NUM_JOINTS, self.dims
        )
        steps = len(joints) * (T - 1)
        acc = self.sums.setdefault(suffix, [0.0, 0.0])
        acc[0] += joint_speed(joints.numpy(), fps=1.0) * steps
        acc[1] += steps


class PoseRolloutEvaluator(RolloutEvaluator):
    """``RolloutEvaluator`` on poses of ``dims`` coordinates per joint."""

    ERRORS = ("mse", "mpjpe")
    RECONSTRUCTS = False

    def __init__(self, dims: int = 2) -> None:
        super().__init__(lambda: PoseErrors(dims), POSE_METHODS)
        self.dims = dims

    def frames_at(self, model: MeasuredModel, video: int, index: torch.Tensor) -> torch.Tensor:
        """The real poses (..., J * D) at ``index`` of ``video``: rows of the model's table."""
        owner = torch.full(index.shape, video, dtype=torch.long)
        return model.table.latents[model.table.rows(owner, index)].to(model.device)

    def frame_errors(self, pred: torch.Tensor, real: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return pose_errors(pred, real, self.dims)

    def motion_sums(self) -> JointMotion:
        return JointMotion(self.dims)

    @torch.no_grad()
    def update(
        self,
        model: MeasuredModel,
        split: str,
        batch: dict[str, torch.Tensor],
        z: torch.Tensor,
        prediction: torch.Tensor,
    ) -> None:
        """Score the model's (B, J * D) ``prediction`` of the windows' (B, L + 1, J * D) poses ``z``,
        and each baseline's, against the real next pose."""
        context, true_next = z[:, :-1], z[:, -1]
        candidates = {
            "model": prediction,
            "repeat": context[:, -1],
            "extrap": extrapolate(context),
            "ridge": model.ridge_forecast(context, model.window_genres(batch)),
        }
        for method, pose in candidates.items():
            self.metrics[f"{split}_{method}"].update(pose, true_next)
