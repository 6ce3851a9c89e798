"""deepdance: PyTorch Lightning + Hydra experiments on dance videos."""

__version__ = "0.1.0"
