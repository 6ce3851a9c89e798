"""How much a warm inductor cache saves: the first call of a compiled GenreClassifier backbone.

    TORCHINDUCTOR_CACHE_DIR=/tmp/inductor python experiments/precision/compile_cache.py   # cold
    TORCHINDUCTOR_CACHE_DIR=/tmp/inductor python experiments/precision/compile_cache.py   # warm

Builds the eager and the compiled model from the same seed, runs one forward of each and checks
that they agree; prints the time of the first (compiling) call. Add --device cuda on a GPU.
"""

from __future__ import annotations

import argparse
import os
import time

import torch

from deepdance.models.genre_module import GenreClassifier

parser = argparse.ArgumentParser()
parser.add_argument("--device", default="cpu")
parser.add_argument("--size", type=int, default=32)
args = parser.parse_args()

kwargs = {
    "backbone": {"name": "resnet10t", "pretrained": False},
    "head": {"gru_sizes": [8], "dense": 8},
    "optimizer": {"_target_": "torch.optim.AdamW", "_partial_": True, "lr": 1e-3},
    "img_size": args.size,
}
torch.manual_seed(0)
eager = GenreClassifier.from_hparams(kwargs).to(args.device).eval()
torch.manual_seed(0)
compiled = GenreClassifier.from_hparams({**kwargs, "compile": True}).to(args.device).eval()
frames = torch.randint(
    0, 255, (2, 3, 3, args.size, args.size), dtype=torch.uint8, device=args.device
)  # (B, T, 3, S, S)
mask = torch.ones(2, 3, dtype=torch.bool, device=args.device)
with torch.no_grad():
    expected = eager(frames, mask)
    start = time.perf_counter()
    got = compiled(frames, mask)
    seconds = time.perf_counter() - start
print(
    f"cache {os.environ.get('TORCHINDUCTOR_CACHE_DIR', '(default)')}: first compiled call {seconds:.1f} s, "
    f"matches eager: {torch.allclose(expected, got, atol=1e-4)}"
)
