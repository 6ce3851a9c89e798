"""The bench config schema: checked before anything heavy is imported, with one-line errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

from deepdance.bench.config import BenchSettings, StandInSpec, validate_bench
from deepdance.errors import DeepdanceError
from tests.helpers.runs import REPO, compose_config


def test_checking_the_bench_config_imports_no_decoder_or_renderer() -> None:
    # timm (and torch under it) is what the check needs: a stand-in keeps this test fast
    code = (
        "import sys, types\n"
        "sys.modules['timm'] = types.SimpleNamespace(is_model=lambda name: True)\n"
        "from hydra import compose, initialize_config_dir\n"
        "from deepdance.bench.config import validate_bench\n"
        f"with initialize_config_dir(config_dir={str(REPO / 'conf')!r}, version_base='1.3'):\n"
        "    validate_bench(compose(config_name='bench', overrides=['bench=smoke']))\n"
        "heavy = ('av', 'cv2', 'decord', 'torch', 'deepdance.data.synthetic.renderer',\n"
        "         'deepdance.bench.inputs')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_smoke_config_validates_to_typed_settings() -> None:
    settings = validate_bench(compose_config("bench", ["bench=smoke"]))
    assert isinstance(settings, BenchSettings)
    assert (
        settings.sets == ["tiny"] and settings.training.epochs == 2 and settings.profiles.cpu.num_workers == 1
    )


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("bench.profiles.cpu.batch_videos=0", "bench.profiles.cpu.batch_videos=0: expected an integer >= 1"),
        (
            "bench.samplings=[exact,nope]",
            "bench.samplings=['exact', 'nope']: expected a list of exact, keyframe that includes exact",
        ),
        ("bench.training.epochs=1", "bench.training.epochs=1: expected an integer >= 2"),
        ("bench.device=tpu", "bench.device='tpu': expected auto, cpu, cuda or cuda:N"),
        ("bench.training.set=other", "bench.training.set='other': expected null or one of bench.sets"),
    ],
)
def test_bad_values_are_one_line_naming_the_key(override: str, message: str) -> None:
    with pytest.raises(DeepdanceError) as err:
        validate_bench(compose_config("bench", ["bench=smoke", override]))
    assert str(err.value) == message


def test_standin_spec_names_its_set() -> None:
    with pytest.raises(DeepdanceError, match="bench.inputs.s.count must be >= 1"):
        StandInSpec("s", count=0)
    with pytest.raises(DeepdanceError, match="bench.inputs.s: .*unexpected keyword argument 'colour'"):
        StandInSpec("s", colour="red")
    assert StandInSpec("s", count=2, width=64, height=40).record()["width"] == 64
