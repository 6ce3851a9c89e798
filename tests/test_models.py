"""Backbone factory, GRU head and classifier: shapes, masks, and honest weight loading."""

from __future__ import annotations

import socket
import time

import huggingface_hub.constants
import pytest
import timm
import torch
from safetensors.torch import save_file

from deepdance.errors import DeepdanceError
from deepdance.models.backbones import create_backbone
from deepdance.models.genre_module import GenreClassifier
from deepdance.models.sequence_heads import GRUHead

OPTIMIZER = {"_target_": "torch.optim.Adam", "_partial_": True, "lr": 1e-3}


def test_head_output_shape_and_mask_ignores_padding() -> None:
    torch.manual_seed(0)
    head = GRUHead(32, num_classes=10).eval()
    features = torch.randn(3, 6, 32)
    mask = torch.tensor([[1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0], [1, 0, 0, 0, 0, 0]], dtype=torch.bool)
    logits = head(features, mask)
    assert logits.shape == (3, 10)
    # Changing padded frames must not change the result; changing a real frame must.
    noisy = features.clone()
    noisy[1, 3:] = 100.0
    noisy[2, 1:] = -100.0
    assert torch.allclose(head(noisy, mask), logits, atol=1e-6)
    noisy[1, 0, :16] += 5.0
    assert not torch.allclose(head(noisy, mask)[1], logits[1])


def test_head_sizes_come_from_config() -> None:
    head = GRUHead(8, num_classes=4, gru_sizes=(12, 6, 5), dense=7)
    assert [g.hidden_size for g in head.grus] == [12, 6, 5]
    assert head(torch.randn(2, 4, 8), torch.ones(2, 4, dtype=torch.bool)).shape == (2, 4)


def _classifier(**backbone) -> GenreClassifier:
    return GenreClassifier.from_hparams(
        {
            "backbone": {"name": "resnet10t", "pretrained": False, **backbone},
            "head": {"gru_sizes": [16, 8]},
            "optimizer": OPTIMIZER,
            "img_size": 32,
        }
    )


def test_classifier_runs_only_real_frames_through_the_cnn() -> None:
    model = _classifier().eval()
    frames = torch.randint(0, 255, (2, 5, 3, 32, 32), dtype=torch.uint8)
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 0, 0, 0]], dtype=torch.bool)
    calls = []
    model.backbone.register_forward_hook(lambda m, i, o: calls.append(i[0].shape[0]))
    features = model.frame_features(frames, mask)
    assert calls == [7] and features.shape == (2, 5, model.spec.num_features)
    assert (features[1, 2:] == 0).all()
    assert model(frames, mask).shape == (2, 10)


def test_stored_features_skip_the_backbone() -> None:
    model = _classifier(freeze=True).train()
    assert not model.backbone.training  # frozen BatchNorm statistics stay frozen
    calls = []
    model.backbone.register_forward_hook(lambda m, i, o: calls.append(i[0].shape[0]))
    batch = {
        "features": torch.randn(2, 4, model.spec.num_features).half(),
        "mask": torch.ones(2, 4, dtype=torch.bool),
        "label": torch.tensor([1, 2]),
    }
    loss, logits = model._step(batch)
    assert calls == [] and logits.shape == (2, 10) and loss.requires_grad  # only the head runs, and it trains


def test_frame_diff_shows_the_backbone_each_frame_and_its_change_since_the_previous_one() -> None:
    model = GenreClassifier.from_hparams(
        {
            "backbone": {"name": "resnet10t", "pretrained": False},
            "head": {"gru_sizes": [16, 8]},
            "optimizer": OPTIMIZER,
            "img_size": 32,
            "frame_diff": True,
            "channels_last": False,
        }
    ).eval()
    seen = []
    model.backbone.register_forward_hook(lambda m, i, o: seen.append(i[0]))
    frames = torch.randint(0, 255, (2, 4, 3, 32, 32), dtype=torch.uint8)
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]], dtype=torch.bool)
    assert model(frames, mask).shape == (2, 10)
    x = seen[0]
    assert x.shape == (7, 6, 32, 32)  # real frames only, 6 channels
    normalised = (frames.float() - model.mean) / model.std
    assert torch.allclose(x[:4, :3], normalised[0], atol=1e-5)
    assert torch.allclose(
        x[1:4, 3:], normalised[0, 1:] - normalised[0, :3], atol=1e-5
    )  # change since the previous frame
    assert (x[0, 3:] == 0).all() and (x[4, 3:] == 0).all()  # a clip's first frame: no motion yet
    still = frames[:, :1].expand(-1, 4, -1, -1, -1)  # the same frame 4 times: no motion at all
    seen.clear()
    model(still, torch.ones(2, 4, dtype=torch.bool))
    assert (seen[0][:, 3:] == 0).all()
    with pytest.raises(DeepdanceError, match="freeze=false"):
        GenreClassifier.from_hparams(
            {
                "backbone": {"name": "resnet10t", "pretrained": False, "freeze": True},
                "head": {},
                "optimizer": OPTIMIZER,
                "img_size": 32,
                "frame_diff": True,
            }
        )


def test_predict_runs_a_frame_diff_model_clip_by_clip(tiny_synthetic) -> None:
    """Single-video prediction of a frame_diff model equals its forward pass on the same clips
    (its per-frame input depends on the previous frame, so frames cannot be embedded alone)."""
    import numpy as np

    from deepdance.data.video import probe_video, read_clip, sample_frame_indices
    from deepdance.data.video.clip_sampling import clip_offsets
    from deepdance.predict import genre_probabilities

    torch.manual_seed(0)
    model = GenreClassifier.from_hparams(
        {
            "backbone": {"name": "resnet10t", "pretrained": False},
            "head": {"gru_sizes": [16, 8]},
            "optimizer": OPTIMIZER,
            "img_size": 32,
            "frame_diff": True,
        }
    ).eval()
    video = sorted(tiny_synthetic.glob("*.mp4"))[0]
    probs, _ = genre_probabilities(model, video, num_frames=4, img_size=32, clips=2)
    info = probe_video(video)
    picks = [sample_frame_indices(info.num_frames, 4, random=False, offset=o) for o in clip_offsets(2)]
    clips = torch.stack([read_clip(video, indices, 32, info) for indices, _ in picks])  # (2, 4, 3, 32, 32)
    mask = torch.from_numpy(np.stack([m for _, m in picks]))
    with torch.no_grad():
        expected = model(clips, mask).softmax(dim=-1).mean(dim=0)
    assert torch.allclose(probs, expected, atol=1e-5)
    with pytest.raises(DeepdanceError, match="frame_features"):
        model.embed_frames(clips[0])


def test_unknown_backbone_is_a_one_line_error() -> None:
    with pytest.raises(DeepdanceError, match="expected a timm model name"):
        create_backbone("inception_v99", pretrained=False)


def _full_timm_state(name: str) -> dict[str, torch.Tensor]:
    """A timm model's whole state dict, classifier included, as a weights file holds it."""
    model = timm.create_model(name, pretrained=False)
    return {key: value.contiguous() for key, value in model.state_dict().items()}


def _assert_backbone_holds(state: dict[str, torch.Tensor], backbone: torch.nn.Module) -> None:
    loaded = backbone.state_dict()
    # the factory drops the classifier (num_classes=0); every other tensor comes from the file
    assert set(loaded) == {key for key in state if not key.startswith("fc.")}
    for key, tensor in loaded.items():
        assert torch.equal(tensor, state[key]), key


@pytest.fixture
def hub_cache(tmp_path, monkeypatch: pytest.MonkeyPatch):
    """An empty Hugging Face cache in tmp_path, in place of the user's."""
    cache = tmp_path / "hub"
    cache.mkdir()
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    return cache


def test_uncached_weights_without_a_hub_are_a_one_line_error_before_timm_tries(
    hub_cache, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Not HF_HUB_OFFLINE's shortcut: the reachability check itself, on a node with no network.
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    dialled = []

    def unreachable(address, timeout=None, *args, **kwargs):
        dialled.append(address)
        raise OSError("Network is unreachable")

    monkeypatch.setattr(socket, "create_connection", unreachable)
    monkeypatch.setattr(timm, "create_model", lambda *a, **k: pytest.fail("timm was asked to download"))
    start = time.perf_counter()
    with pytest.raises(DeepdanceError) as err:
        create_backbone("inception_v3", pretrained=True)
    message = str(err.value)
    assert dialled == [("huggingface.co", 443)]
    assert "\n" not in message and "not cached" in message
    assert "model.backbone.weights=/path/to/inception_v3.safetensors" in message
    assert time.perf_counter() - start < 10


def test_cached_hub_weights_load_offline(hub_cache) -> None:
    # What a user gets after downloading once: timm's hub file in the HF cache, used offline.
    torch.manual_seed(1)
    state = _full_timm_state("resnet10t")
    hub_id = timm.models.get_pretrained_cfg("resnet10t").hf_hub_id
    revision = "0" * 40
    repo = hub_cache / f"models--{hub_id.replace('/', '--')}"
    (repo / "snapshots" / revision).mkdir(parents=True)
    save_file(state, repo / "snapshots" / revision / "model.safetensors")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(revision)
    _assert_backbone_holds(state, create_backbone("resnet10t", pretrained=True))


@pytest.mark.parametrize("suffix", [".pth", ".safetensors"])
def test_local_weights_file_is_loaded(tmp_path, suffix: str) -> None:
    torch.manual_seed(2)
    state = _full_timm_state("resnet10t")
    path = tmp_path / f"resnet10t{suffix}"
    if suffix == ".pth":
        torch.save(state, path)
    else:
        save_file(state, path)
    # the factory's own random init would differ from the file's
    torch.manual_seed(3)
    _assert_backbone_holds(state, create_backbone("resnet10t", weights=str(path)))


def test_missing_local_weights_file_names_the_path(tmp_path) -> None:
    with pytest.raises(DeepdanceError, match="no such file"):
        create_backbone("resnet10t", weights=str(tmp_path / "nope.pth"))


def test_image_size_below_backbone_minimum_is_refused() -> None:
    with pytest.raises(DeepdanceError, match="expected an integer >= 75"):
        GenreClassifier.from_hparams(
            {
                "backbone": {"name": "inception_v3", "pretrained": False},
                "head": {},
                "optimizer": OPTIMIZER,
                "img_size": 64,
            }
        )


@pytest.mark.parametrize("name", ["lcnet_050", "resnet10t"])
def test_feature_width_matches_what_the_backbone_returns(name: str) -> None:
    from deepdance.models.backbones import backbone_spec

    model = create_backbone(name, pretrained=False).eval()
    assert model(torch.zeros(1, 3, 64, 64)).shape[-1] == backbone_spec(model, name).num_features
