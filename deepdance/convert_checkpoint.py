"""``python -m deepdance.convert_checkpoint OLD.ckpt NEW.ckpt``: re-save a checkpoint you trust
(e.g. written by an older deepdance, with OmegaConf objects inside) as plain data, which
deepdance loads with ``weights_only=True``. The only full unpickling in the code."""

from __future__ import annotations

import argparse
from pathlib import Path

from deepdance.utils.checkpoints import convert_trusted_checkpoint


def main(argv: list[str] | None = None) -> None:
    """Parse the two paths and convert."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("source", type=Path, help="the checkpoint you trust")
    parser.add_argument("target", type=Path, help="where the plain-data checkpoint goes")
    args = parser.parse_args(argv)
    print(f"wrote {convert_trusted_checkpoint(args.source, args.target)}")


if __name__ == "__main__":
    main()
