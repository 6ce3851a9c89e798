"""Scale-out: resumable Optuna sweeps, launchers, DDP (one run = one dir = one logger run),
W&B offline runs, compile and pinned-memory switches."""

from __future__ import annotations

import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml

from tests.helpers.runs import REPO, run_cli, synthetic_override, train_in_process


def tiny_overrides(root: Path, searched: bool = False) -> list[str]:
    """The tiny synthetic set at 32 px, frozen random backbone (features computed once); 4 frames
    and no dropout unless ``searched`` leaves them to a sweep (a command-line value fixes a
    searched parameter)."""
    overrides = [
        f"data.root={root}",
        synthetic_override(),
        "data.img_size=32",
        "data.num_workers=0",
        "data.persistent_workers=false",
        "data.train_jitter=false",
        "data.augment=null",
        # decode the clips: the feature store (deepdance.features) is tested on its own
        "data.features.use=false",
        "model.backbone.name=resnet10t",
        "model.backbone.freeze=true",
        "model.frame_diff=false",
        "callbacks.rich_progress_bar=null",
        "print_config=false",
    ]
    return overrides if searched else [*overrides, "data.num_frames=4", "model.head.dropout=0"]


def job_dirs(sweep_dir: Path) -> list[Path]:
    return sorted(
        (p for p in sweep_dir.iterdir() if p.is_dir() and p.name.isdigit()), key=lambda p: int(p.name)
    )


# ------------------------------------------------------------------------ W&B offline runs
def wandb_run_records(run_dir: Path, timeout: float = 30) -> dict[str, object]:
    """The run record (id, group, job type, name) and exit code of an offline W&B run, read from
    its transaction log; wandb-core may still be flushing it just after ``wandb.finish``."""
    deadline = time.monotonic() + timeout
    while True:
        found = _read_wandb_log(run_dir)
        if "exit_code" in found or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def _read_wandb_log(run_dir: Path) -> dict[str, object]:
    """LevelDB log format: 32 KiB blocks of crc32/length/type-framed chunks of protobuf Records."""
    from wandb.proto import wandb_internal_pb2 as pb

    data = next(run_dir.glob("*.wandb")).read_bytes()
    block, pos, pending, records = 32768, 7, b"", []  # 7: the ':W&B' file header
    while pos + 7 <= len(data):
        left = block - pos % block
        if left < 7:
            pos += left
            continue
        _crc, length, kind = struct.unpack("<IHB", data[pos : pos + 7])
        if length == 0 and kind == 0:  # block padding
            pos += left
            continue
        chunk, pos = data[pos + 7 : pos + 7 + length], pos + 7 + length
        if kind == 1:
            records.append(chunk)
        elif kind == 2:
            pending = chunk
        elif kind == 3:
            pending += chunk
        elif kind == 4:
            records.append(pending + chunk)
    found: dict[str, object] = {}
    for raw in records:
        record = pb.Record()
        record.ParseFromString(raw)
        if record.WhichOneof("record_type") == "run":
            found.update(
                id=record.run.run_id,
                group=record.run.run_group,
                job_type=record.run.job_type,
                name=record.run.display_name,
            )
        elif record.WhichOneof("record_type") == "exit":
            found["exit_code"] = record.exit.exit_code
    return found


# ------------------------------------------------------------------------- fast unit tests
def test_resume_study_counts_finished_trials_and_requeues_the_interrupted_one(tmp_path: Path) -> None:
    import optuna
    from optuna.trial import TrialState

    from deepdance.sweeps import heartbeat_path, resume_study, write_heartbeat

    storage = f"sqlite:///{tmp_path / 'study.db'}"
    assert resume_study(storage, "s", 5).remaining == 5  # no study yet: the whole budget
    study = optuna.create_study(study_name="s", storage=storage, direction="maximize")
    done = study.ask()
    done.suggest_float("lr", 1e-4, 1e-2, log=True)
    study.tell(done, 0.5)
    killed = study.ask()  # a kill leaves it RUNNING
    killed_lr = killed.suggest_float("lr", 1e-4, 1e-2, log=True)
    # Its driver ran it in-process on this host (basic launcher) and is gone.
    driver = subprocess.Popen([sys.executable, "-c", "pass"])
    driver.wait()
    write_heartbeat(heartbeat_path(tmp_path, killed.number), "launched", "s", driver.pid)

    plan = resume_study(storage, "s", 3, tmp_path)
    assert (plan.remaining, plan.first_job, plan.finished, plan.rerun) == (2, 2, 1, 1)
    trials = optuna.load_study(study_name="s", storage=storage).get_trials(deepcopy=False)
    assert [t.state for t in trials] == [TrialState.COMPLETE, TrialState.FAIL, TrialState.WAITING]
    assert trials[2].system_attrs["fixed_params"] == {"lr": killed_lr}  # the same point runs again
    again = resume_study(storage, "s", 3, tmp_path)  # resuming twice does not count the interrupted trial
    assert (again.remaining, again.rerun) == (2, 0)


def test_resume_reruns_only_trials_whose_jobs_are_known_dead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import types

    import optuna
    from optuna.trial import TrialState

    from deepdance import sweeps

    storage, sweep_dir = f"sqlite:///{tmp_path / 'study.db'}", tmp_path / "sweep"
    study = optuna.create_study(study_name="s", storage=storage, direction="maximize")
    trials = [study.ask() for _ in range(6)]
    for trial in trials:
        trial.suggest_float("lr", 1e-4, 1e-2, log=True)
    study.tell(trials[0], 0.5)
    real = time.time()

    def beat(job: int, path: Path | None = None, **fields: object) -> None:
        path = path or sweeps.heartbeat_path(sweep_dir, job)
        path.parent.mkdir(parents=True, exist_ok=True)
        base = {"state": "running", "study": "s", "host": "node17", "pid": 4242, "value": None}
        path.write_text(json.dumps({**base, **fields}))

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    # Now = 1000 s after the trials started; timeout 900 s.
    beat(1, time=real + 990)  # 1: another node, fresh: alive
    beat(2, time=real + 50)  # 2: another node, 950 s silent: dead
    elsewhere = tmp_path / "other_sweep_dir" / "3.json"  # 3: found through the study's record
    beat(3, elsewhere, time=real + 990, host=socket.gethostname(), pid=dead.pid)  # this host, pid gone
    study.set_user_attr(sweeps.heartbeat_key(3), str(elsewhere))
    beat(4, time=real + 500, state="done", value=0.7)  # 4: finished after its driver died
    # 5: no heartbeat at all, asked 1000 s ago: dead
    monkeypatch.setattr(sweeps, "time", types.SimpleNamespace(time=lambda: real + 1000))

    plan = sweeps.resume_study(storage, "s", 8, sweep_dir, timeout_s=900)
    assert (plan.finished, plan.live, plan.rerun, plan.remaining, plan.first_job) == (2, 1, 3, 5, 6)
    after = optuna.load_study(study_name="s", storage=storage).get_trials()
    assert [t.state for t in after] == [
        TrialState.COMPLETE,
        TrialState.RUNNING,
        *[TrialState.FAIL] * 2,
        TrialState.COMPLETE,
        TrialState.FAIL,
        *[TrialState.WAITING] * 3,
    ]
    assert after[4].value == 0.7
    assert [t.system_attrs["fixed_params"] for t in after[6:]] == [trials[n].params for n in (2, 3, 5)]


def test_trial_heartbeat_beats_while_the_job_runs_and_records_its_end(tmp_path: Path) -> None:
    from hydra.core.utils import JobReturn, JobStatus
    from omegaconf import OmegaConf

    from deepdance.sweeps import TrialHeartbeat, heartbeat_path, read_heartbeat

    hydra = {
        "mode": "MULTIRUN",
        "sweep": {"dir": "sweep"},
        "runtime": {"cwd": str(tmp_path)},
        "job": {"num": 3},
        "sweeper": {"study_name": "s"},
    }
    config = OmegaConf.create({"hydra": hydra})
    callback = TrialHeartbeat(interval_s=0.05, timeout_s=1)
    callback.on_job_start(config)
    path = heartbeat_path(tmp_path / "sweep", 3)
    first = read_heartbeat(path)
    assert first["state"] == "running" and first["pid"] == os.getpid() and first["study"] == "s"
    time.sleep(0.3)
    assert read_heartbeat(path)["time"] > first["time"]  # refreshed by the beat thread
    ended = JobReturn(status=JobStatus.COMPLETED, _return_value=0.8)
    callback.on_job_end(config, ended)
    last = read_heartbeat(path)
    assert (last["state"], last["value"]) == ("done", 0.8)
    time.sleep(0.2)
    assert read_heartbeat(path) == last  # the beat stopped with the job
    callback.on_job_end(config, JobReturn(status=JobStatus.FAILED, _return_value=ValueError("x")))
    assert read_heartbeat(path)["state"] == "failed"
    single = OmegaConf.create({"hydra": {**hydra, "mode": "RUN", "job": {"num": 4}}})
    callback.on_job_start(single)
    callback.on_job_end(single, ended)
    assert not heartbeat_path(tmp_path / "sweep", 4).exists()  # single runs keep no heartbeat
    with pytest.raises(ValueError, match="interval_s < timeout_s"):
        TrialHeartbeat(interval_s=60, timeout_s=30)


@pytest.mark.parametrize(
    "experiment, search",
    [
        ("genre_small", "genre_gru_optuna"),
        ("genre_gru", "genre_gru_optuna"),
        ("deep_dance_lstm", "deep_dance_optuna"),
    ],
)
def test_search_spaces_name_keys_of_their_experiment(experiment: str, search: str) -> None:
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    import deepdance.utils.run  # noqa: F401  (resolvers)

    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        cfg = compose(
            "train",
            overrides=[f"experiment={experiment}", f"hparams_search={search}"],
            return_hydra_config=True,
        )
    for key in cfg.hydra.sweeper.params:
        assert OmegaConf.select(cfg, key, throw_on_missing=False) is not None, (
            f"{search} searches {key}, absent from {experiment}"
        )
    monitored = cfg.callbacks.model_checkpoint.monitor
    direction = "maximize" if cfg.callbacks.model_checkpoint.mode == "max" else "minimize"
    assert (
        cfg.optimized_metric in (monitored, f"{monitored}_best") and cfg.hydra.sweeper.direction == direction
    )
    assert cfg.hydra.sweeper.study_name and cfg.hydra.mode.name == "MULTIRUN"


def test_ddp_child_command_reruns_exactly_this_job_of_a_sweep(tmp_path: Path) -> None:
    from hydra import compose, initialize_config_dir
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode
    from omegaconf import open_dict

    from deepdance.utils.distributed import hydra_task_module, job_command

    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        cfg = compose(
            "train",
            overrides=["seed=2", "trainer=ddp_sim", "hparams_search=genre_gru_optuna"],
            return_hydra_config=True,
        )
    with open_dict(cfg):
        cfg.hydra.mode = RunMode.MULTIRUN
        cfg.hydra.runtime.output_dir = str(tmp_path / "sweep" / "3")
        cfg.hydra.overrides.hydra = [
            "hydra/launcher=joblib",
            "hydra.sweep.dir=/x",
            "hydra.job_logging.root.level=DEBUG",
        ]
        cfg.hydra.job.config_name = "train"
    HydraConfig.instance().set_config(cfg)
    command, _ = job_command(1, entry_module="deepdance.train")
    assert command[1:3] == ["-m", "deepdance.train"] and "--multirun" not in command
    assert "seed=2" in command and "hparams_search=genre_gru_optuna" in command  # this job's overrides only
    assert "hydra.job_logging.root.level=DEBUG" in command and not any(
        a.startswith(("hydra/launcher", "hydra.sweep.")) for a in command
    )
    assert command[-4:] == [
        f'hydra.run.dir="{tmp_path}/sweep/3"',
        "hydra.job.name=train_ddp_process_1",
        "hydra.output_subdir=null",
        "hydra.mode=RUN",
    ]

    def run_job(task_function):  # the name and argument Hydra's launchers call a job with
        return hydra_task_module()

    assert run_job(task_function=test_ddp_child_command_reruns_exactly_this_job_of_a_sweep) == __name__


def test_sweep_summary_table_is_best_first_and_keeps_only_swept_settings(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from omegaconf import OmegaConf

    from deepdance.sweeps import SweepSummary

    for job, (lr, value) in enumerate([(0.1, 0.2), (0.01, 0.9), (0.001, None)]):
        (tmp_path / str(job) / ".hydra").mkdir(parents=True)
        (tmp_path / str(job) / ".hydra" / "overrides.yaml").write_text(
            yaml.safe_dump([f"model.optimizer.lr={lr}", "seed=1"])
        )
        if value is not None:
            (tmp_path / str(job) / "summary.json").write_text(json.dumps({"val/acc_best": value}))
    config = OmegaConf.create(
        {
            "optimized_metric": "val/acc_best",
            "hydra": {"sweep": {"dir": str(tmp_path)}, "sweeper": {"direction": "maximize"}},
        }
    )
    table = SweepSummary().report(config)
    assert list(table["job"]) == [1, 0, 2] and "seed" not in table.columns  # best first, failed last
    assert (tmp_path / "sweep_summary.csv").read_text().splitlines()[1].startswith("1,0.01,0.9")
    out = capsys.readouterr().out
    assert "maximize val/acc_best" in out and "no summary.json" in out


def test_wandb_is_offline_unless_an_account_is_configured(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from deepdance.utils.resolvers import wandb_account_configured

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("NETRC", raising=False)
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.delenv("WANDB_MODE", raising=False)
    assert not wandb_account_configured()
    (tmp_path / ".netrc").write_text("machine api.wandb.ai\n  login user\n  password abc\n")
    (tmp_path / ".netrc").chmod(0o600)
    assert wandb_account_configured()
    monkeypatch.setenv("WANDB_MODE", "offline")
    assert not wandb_account_configured()


def test_failed_run_finishes_its_wandb_run_marked_failed(tmp_path: Path) -> None:
    import wandb
    from omegaconf import OmegaConf

    from deepdance.utils.run import task_wrapper

    @task_wrapper
    def crashing_task(cfg):
        wandb.init(mode="offline", dir=str(tmp_path), project="deepdance-test")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        crashing_task(OmegaConf.create({"paths": {"output_dir": str(tmp_path)}}))
    assert wandb.run is None  # the next trial of a sweep starts its own run
    (run_dir,) = (tmp_path / "wandb").glob("offline-run-*")
    assert wandb_run_records(run_dir)["exit_code"] == 1


def test_compile_keeps_checkpoint_keys_and_loading_does_not_compile() -> None:
    from deepdance.models.genre_module import GenreClassifier

    kwargs = {
        "backbone": {"name": "resnet10t", "pretrained": False},
        "head": {"gru_sizes": [8], "dense": 8},
        "optimizer": {"_target_": "torch.optim.AdamW", "_partial_": True, "lr": 1e-3},
        "img_size": 32,
    }
    eager, compiled = (
        GenreClassifier.from_hparams(kwargs),
        GenreClassifier.from_hparams({**kwargs, "compile": True}),
    )
    assert compiled.backbone._compiled_call_impl is not None and eager.backbone._compiled_call_impl is None
    assert list(compiled.state_dict()) == list(eager.state_dict())  # no _orig_mod. prefixes
    # a checkpoint's module is not compiled, whatever it was trained with
    assert (
        GenreClassifier.from_hparams({**kwargs, "compile": True}, from_checkpoint=True).config.compile
        is False
    )


def test_pin_memory_follows_the_device_unless_set(tiny_synthetic: Path) -> None:
    from types import SimpleNamespace

    from deepdance.config.data import GenreDataConfig
    from deepdance.data.genre.datamodule import GenreDataModule

    data = GenreDataModule(
        GenreDataConfig(root=str(tiny_synthetic), num_frames=2, img_size=32, num_workers=0)
    )
    data.setup()
    for device, expected in (("cpu", False), ("cuda", True)):
        data.trainer = SimpleNamespace(
            strategy=SimpleNamespace(root_device=torch.device(device)), world_size=1, global_rank=0
        )
        assert data.train_dataloader().pin_memory is expected
    data.config = data.config.model_copy(update={"pin_memory": False})
    assert data.train_dataloader().pin_memory is False


def test_step_timer_records_steps_after_warmup(tmp_path: Path) -> None:
    import pytorch_lightning as pl
    from torch.utils.data import DataLoader, TensorDataset

    from deepdance.callbacks import StepTimer

    class Tiny(pl.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.layer = torch.nn.Linear(4, 1)

        def training_step(self, batch, batch_idx):
            return self.layer(batch[0]).pow(2).mean()

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.1)

    loader = DataLoader(TensorDataset(torch.randn(24, 4)), batch_size=4)
    trainer = pl.Trainer(
        default_root_dir=tmp_path,
        max_epochs=1,
        callbacks=[StepTimer(warmup=2)],
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        accelerator="cpu",
    )
    trainer.fit(Tiny(), loader)
    result = json.loads((tmp_path / "step_time.json").read_text())
    assert (result["steps_timed"], result["warmup_steps"], result["batch_size"]) == (4, 2, 4)
    assert 0 < result["step_ms_median"] <= result["loop_ms_median"] and result["samples_per_s"] > 0
    assert (
        result["device"] == "cpu" and result["peak_memory_mib"] is None and result["precision"] == "32-true"
    )


# ---------------------------------------------------------------------- end-to-end CLI runs
@pytest.mark.slow
def test_killed_optuna_sweep_resumes_with_only_the_remaining_trials(
    tiny_synthetic: Path, tmp_path: Path
) -> None:
    import optuna
    from optuna.trial import TrialState

    sweep_dir, db = tmp_path / "sweep", tmp_path / "optuna.db"
    command = [
        sys.executable,
        "-m",
        "deepdance.train",
        "-m",
        "hparams_search=genre_gru_optuna",
        "hydra.sweeper.n_trials=3",
        "debug=limit",
        *tiny_overrides(tiny_synthetic, searched=True),
        "data.batch_size=10",
        "trainer.max_epochs=1",
        f"hydra.sweeper.storage=sqlite:///{db}",
        f"hydra.sweep.dir={sweep_dir}",
    ]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "WANDB_MODE": "offline"}
    first = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    try:  # kill the whole sweep as soon as its second trial starts
        deadline = time.monotonic() + 400
        while not (sweep_dir / "1").is_dir() and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.5)
        assert (sweep_dir / "1").is_dir(), (
            first.stderr.read().decode()[-3000:] if first.poll() is not None else "timeout"
        )
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    assert (sweep_dir / "0" / "summary.json").is_file() and not (
        sweep_dir / "optimization_results.yaml"
    ).exists()

    second = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stderr[-3000:]
    assert (second.stdout + second.stderr).count(
        "Launching 1 jobs"
    ) == 2  # only what was left: the interrupted trial and one more
    trials = optuna.load_study(study_name="debug_gru_optuna", storage=f"sqlite:///{db}").get_trials()
    assert [t.state for t in trials] == [
        TrialState.COMPLETE,
        TrialState.FAIL,
        TrialState.COMPLETE,
        TrialState.COMPLETE,
    ]
    assert trials[2].params == trials[1].params  # the interrupted point, run again
    assert trials[3].params["model.optimizer.lr"] not in {
        t.params["model.optimizer.lr"] for t in trials[:3]
    }  # a new point
    results = yaml.safe_load((sweep_dir / "optimization_results.yaml").read_text())
    assert results["best_value"] == max(t.value for t in trials if t.value is not None)
    assert set(results["best_params"]) == {
        "model.optimizer.lr",
        "model.head.gru_sizes",
        "model.head.dense",
        "model.head.dropout",
        "data.num_frames",
    }
    assert [p.name for p in job_dirs(sweep_dir)] == ["0", "1", "2", "3"]  # job dirs keep the trial numbers
    for job in ("0", "2", "3"):
        assert (sweep_dir / job / "summary.json").is_file()
    assert (
        "best val/acc_best" in second.stdout and "no summary.json" in second.stdout
    )  # the table, trial 1 marked
    assert len((sweep_dir / "sweep_summary.csv").read_text().splitlines()) == 5


@pytest.mark.slow
def test_ddp_on_two_cpu_processes_matches_a_single_process_in_one_run_dir(
    tiny_synthetic: Path, tmp_path: Path
) -> None:
    """Full-batch training (10 train clips: one batch of 10, or 5 per rank) with no dropout,
    jitter or trainable BatchNorm is the same computation on one process and on two."""
    common = [*tiny_overrides(tiny_synthetic), "trainer.max_epochs=2", f"paths.log_dir={tmp_path / 'logs'}"]
    # the single process in this one, the two DDP ones as the CLI starts them
    train_in_process([*common, "trainer=cpu", "data.batch_size=10", f"hydra.run.dir={tmp_path / 'single'}"])
    ddp = run_cli(
        "deepdance.train",
        *common,
        "trainer=ddp_sim",
        "data.batch_size=5",
        f"hydra.run.dir={tmp_path / 'ddp'}",
    )
    assert ddp.returncode == 0, ddp.stderr[-3000:]

    assert "GLOBAL_RANK: 1" in ddp.stderr + ddp.stdout  # two processes really ran
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("summary.json")) == [
        "ddp/summary.json",
        "single/summary.json",
    ]
    assert not (tmp_path / "logs").exists()  # rank 1 made no run dir of its own
    command = json.loads((tmp_path / "ddp" / "run_info.json").read_text())["command"]
    assert not any("train_ddp_process" in arg for arg in command)  # the user's command, not rank 1's
    assert (
        len(list((tmp_path / "ddp").rglob(".hydra"))) == 1
        and len(list((tmp_path / "ddp").rglob("metrics.csv"))) == 1
    )
    one, two = (json.loads((tmp_path / d / "summary.json").read_text()) for d in ("single", "ddp"))
    assert two["test/acc"] == pytest.approx(one["test/acc"], abs=0.02)
    for key in ("test/loss", "val/loss", "train/loss"):  # sharper than accuracy on 10 clips
        assert two[key] == pytest.approx(one[key], rel=1e-4), key
    assert (tmp_path / "ddp" / "confusion_matrix.csv").read_text() == (
        tmp_path / "single" / "confusion_matrix.csv"
    ).read_text()


@pytest.mark.slow
def test_multirun_of_ddp_jobs_with_wandb_makes_one_dir_and_one_wandb_run_per_job(
    tiny_synthetic: Path, tmp_path: Path
) -> None:
    sweep_dir = tmp_path / "sweep"
    result = run_cli(
        "deepdance.train",
        "-m",
        "seed=1,2",
        "trainer=ddp_sim",
        "logger=wandb",
        *tiny_overrides(tiny_synthetic),
        "data.batch_size=5",
        "trainer.max_epochs=1",
        f"paths.log_dir={tmp_path / 'logs'}",
        f"hydra.sweep.dir={sweep_dir}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert [p.name for p in job_dirs(sweep_dir)] == ["0", "1"] and not (tmp_path / "logs").exists()
    runs = []
    for job, seed in (("0", 1), ("1", 2)):
        assert json.loads((sweep_dir / job / "summary.json").read_text())["seed"] == seed
        (run_dir,) = (sweep_dir / job / "wandb").glob("offline-run-*")  # rank 1 made none
        runs.append(wandb_run_records(run_dir))
        assert (run_dir / "files" / "media" / "images" / "test").is_dir()  # the confusion matrix
    assert runs[0]["id"] != runs[1]["id"]
    assert [r["name"] for r in runs] == ["train-0", "train-1"]
    assert {r["group"] for r in runs} == {"sweep"} and {r["job_type"] for r in runs} == {"train"}
    assert {r["exit_code"] for r in runs} == {0}
    assert len(list(tmp_path.rglob("offline-run-*"))) == 2


@pytest.mark.slow
def test_submitit_local_launcher_runs_a_two_job_sweep(tiny_synthetic: Path, tmp_path: Path) -> None:
    sweep_dir = tmp_path / "sweep"
    result = run_cli(
        "deepdance.train",
        "-m",
        "hydra/launcher=submitit_local",
        "seed=1,2",
        *tiny_overrides(tiny_synthetic),
        "data.batch_size=10",
        "trainer.max_epochs=1",
        "trainer.accelerator=cpu",
        f"hydra.sweep.dir={sweep_dir}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Submitit 'local' sweep" in result.stderr + result.stdout
    assert [json.loads((d / "summary.json").read_text())["seed"] for d in job_dirs(sweep_dir)] == [1, 2]
    assert len(list((sweep_dir / ".submitit").glob("*/*_submitted.pkl"))) == 2  # two submitit jobs


@pytest.mark.slow
def test_slurm_launcher_asks_sbatch_for_the_trainers_gpus_and_nodes(tmp_path: Path) -> None:
    """A stand-in ``sbatch`` records the script submitit writes, then refuses the job."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "sbatch").write_text(
        f'#!/bin/sh\ncat "$@" > {tmp_path}/submitted.sh\necho "sbatch: error: no cluster here" >&2\nexit 1\n'
    )
    (bin_dir / "srun").write_text("#!/bin/sh\nexit 0\n")  # submitit checks that it is on a cluster
    for tool in ("sbatch", "srun"):
        (bin_dir / tool).chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "HF_HUB_OFFLINE": "1"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "deepdance.train",
            "-m",
            "hydra/launcher=slurm",
            "trainer=ddp",
            "trainer.devices=4",
            "trainer.num_nodes=2",
            "hydra.launcher.partition=gpu",
            "hydra.launcher.timeout_min=90",
            f"hydra.sweep.dir={tmp_path / 'sweep'}",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode != 0 and "no cluster here" in result.stderr
    script = (tmp_path / "submitted.sh").read_text()
    for line in (
        "#SBATCH --nodes=2",
        "#SBATCH --gpus-per-node=4",
        "#SBATCH --ntasks-per-node=4",
        "#SBATCH --partition=gpu",
        "#SBATCH --time=90",
        "#SBATCH --mem=64GB",
        "#SBATCH --cpus-per-task=8",
    ):
        assert line in script, line
    assert "export HF_HUB_OFFLINE=1" in script


# ------------------------------------------------------------------------------ GPU only
def _gpu_kwargs() -> dict:
    return {
        "backbone": {"name": "resnet10t", "pretrained": False},
        "head": {"gru_sizes": [16], "dense": 8},
        "optimizer": {"_target_": "torch.optim.AdamW", "_partial_": True, "lr": 1e-3},
        "img_size": 64,
    }


@pytest.mark.gpu
def test_compiled_backbone_matches_eager_on_gpu() -> None:
    from deepdance.models.genre_module import GenreClassifier

    torch.manual_seed(0)
    eager = GenreClassifier.from_hparams(_gpu_kwargs()).cuda().eval()
    compiled = GenreClassifier.from_hparams({**_gpu_kwargs(), "compile": True}).cuda().eval()
    compiled.load_state_dict(eager.state_dict())
    frames = torch.randint(0, 256, (2, 4, 3, 64, 64), dtype=torch.uint8, device="cuda")
    mask = torch.ones(2, 4, dtype=torch.bool, device="cuda")
    with torch.no_grad():
        assert torch.allclose(eager(frames, mask), compiled(frames, mask), atol=1e-3)


def _one_step_dtypes(root: Path, out_dir: Path, *overrides: str) -> tuple[dict[str, torch.dtype], object]:
    """Fit one step of the composed train config (its trainer group, its precision) with forward
    hooks on the backbone's first convolution and on the head: the dtypes that actually ran,
    not what the config says. Returns them and the trainer."""
    import hydra.utils
    from hydra import compose, initialize_config_dir

    from deepdance.models.registry import build_model

    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        cfg = compose("train", overrides=[*tiny_overrides(root), "data.batch_size=4", *overrides])
    from deepdance.run.genre_data import build_datamodule

    model = build_model(cfg.model)
    datamodule = build_datamodule(cfg.data, model, cfg.trainer)
    seen: dict[str, torch.dtype] = {}

    def record(name: str):
        # a forward hook that returns something replaces the output: this one returns None
        def hook(module: torch.nn.Module, args: tuple, out: torch.Tensor) -> None:
            seen.setdefault(name, out.dtype)

        return hook

    conv = next(m for m in model.backbone.modules() if isinstance(m, torch.nn.Conv2d))
    conv.register_forward_hook(record("conv"))
    model.head.register_forward_hook(record("head"))
    trainer = hydra.utils.instantiate(
        cfg.trainer,
        default_root_dir=str(out_dir),
        max_steps=1,
        limit_val_batches=0,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(model, datamodule=datamodule)
    # autocast leaves the weights and the optimiser in fp32
    assert next(model.head.parameters()).dtype == torch.float32
    return seen, trainer


@pytest.mark.parametrize("precision, dtype", [("32", torch.float32), ("bf16-mixed", torch.bfloat16)])
def test_cpu_trainer_precision_is_the_dtype_the_forward_pass_runs_in(
    tiny_synthetic: Path, tmp_path: Path, precision: str, dtype: torch.dtype
) -> None:
    seen, _ = _one_step_dtypes(tiny_synthetic, tmp_path, "trainer=cpu", f"trainer.precision={precision}")
    assert seen == {"conv": dtype, "head": dtype}


@pytest.mark.gpu
@pytest.mark.slow
def test_gpu_trainer_trains_in_bf16_with_pinned_memory(tiny_synthetic: Path, tmp_path: Path) -> None:
    seen, trainer = _one_step_dtypes(tiny_synthetic, tmp_path / "step", "trainer=gpu")
    assert seen == {"conv": torch.bfloat16, "head": torch.bfloat16}
    assert trainer.train_dataloader.pin_memory
    result = run_cli(
        "deepdance.train",
        "trainer=gpu",
        *tiny_overrides(tiny_synthetic),
        "data.batch_size=10",
        "trainer.max_epochs=1",
        f"hydra.run.dir={tmp_path / 'run'}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "test/acc" in json.loads((tmp_path / "run" / "summary.json").read_text())
