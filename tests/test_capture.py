"""Capture: to_artifact schema and values, refusal of unready models, atomic non-clobbering save."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import fx, nn

from tinyqat import quant
from tinyqat.artifact import load_artifact, validate_artifact
from tinyqat.capture import ArtifactExistsError, CaptureError, save, to_artifact
from tinyqat.errors import TinyQatError
from tinyqat.fixedpoint import INT32_MAX, INT32_MIN
from tinyqat.qat import QuantConv2d, calibrate, prepare_qat

pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning")


class Net(nn.Module):
    """Every artifact op: conv(+BN+ReLU), standalone relu6 after a pool, conv, flatten, linear."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(2, 4, 3, stride=2, padding=1)
        self.bn1 = nn.BatchNorm2d(4)
        self.pool = nn.MaxPool2d(2, padding=1, ceil_mode=True)
        self.conv2 = nn.Conv2d(4, 6, 2, padding="same", bias=False)
        self.fc = nn.Linear(6 * 3 * 3, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu6(self.pool(x))
        x = self.conv2(x)
        return self.fc(torch.flatten(x, 1))


@pytest.fixture
def calibrated() -> fx.GraphModule:
    torch.manual_seed(0)
    gm = prepare_qat(Net(), (torch.randn(1, 2, 10, 10),))
    return calibrate(gm, [torch.randn(8, 2, 10, 10) for _ in range(3)])


def test_artifact_nodes_and_values(calibrated: fx.GraphModule) -> None:
    art = to_artifact(calibrated)
    validate_artifact(art)
    assert art["input"]["name"] == "x" and art["input"]["shape"] == [2, 10, 10]
    s_in, zp_in = calibrated.input_quantizer.qparams()
    assert art["input"]["scale"] == s_in.item() and art["input"]["zero_point"] == zp_in.item()
    assert [(n["name"], n["op"], n["module"], n["inputs"]) for n in art["nodes"]] == [
        ("conv1", "conv2d", "conv1", ["x"]),
        ("pool", "max_pool2d", "pool", ["conv1"]),
        ("relu6", "relu6", "relu6", ["pool"]),
        ("conv2", "conv2d", "conv2", ["relu6"]),
        ("flatten", "flatten", "flatten", ["conv2"]),
        ("fc", "linear", "fc", ["flatten"]),
    ]
    assert art["output"] == "fc"
    conv1, pool, relu6, conv2, _, fc = art["nodes"]
    assert conv1["attrs"] == {"activation": "relu", "bn_eps": 1e-5, "stride": [2, 2], "padding": [1, 1, 1, 1]}
    assert conv2["attrs"]["padding"] == [0, 0, 1, 1] and conv2["attrs"]["activation"] == "none"
    assert pool["attrs"] == {"kernel": [2, 2], "stride": [2, 2], "padding": [1, 1], "ceil_mode": True}
    assert relu6["qparams"] is None and pool["qparams"] is None
    assert torch.equal(conv2["params"]["bias"], torch.zeros(6))
    assert torch.equal(conv1["params"]["bn_var"], calibrated.conv1.bn.running_var)
    for node in (conv1, conv2, fc):
        assert type(node["qparams"]["scale"]) is float and type(node["qparams"]["zero_point"]) is int
        for t in node["params"].values():
            assert t.dtype == torch.float32 and t.is_contiguous() and not t.requires_grad
    assert conv1["params"]["weight"].data_ptr() != calibrated.conv1.layer.weight.data_ptr()


def test_artifact_reproduces_eval_forward(calibrated: fx.GraphModule) -> None:
    """What lowering does: fold, quantize and run from the artifact alone; equals the QAT eval forward."""
    art = to_artifact(calibrated)
    x = torch.randn(3, 2, 10, 10)
    inp = art["input"]
    s, zp = torch.tensor(inp["scale"]), torch.tensor(inp["zero_point"])
    h = quant.dequantize(quant.quantize(x, s, zp, -128, 127), s, zp)
    for node in art["nodes"]:
        a, p = node["attrs"], node["params"]
        if node["op"] in ("conv2d", "linear"):
            w, b = p["weight"], p["bias"]
            if "bn_weight" in p:
                w, b = quant.fold_bn(w, b, p["bn_weight"], p["bn_bias"], p["bn_mean"], p["bn_var"], a["bn_eps"])
            s_w = quant.weight_scales(w)
            sw = quant.channel_view(s_w, w.dim())
            w_q = quant.dequantize(quant.quantize(w, sw, 0, -127, 127), sw, 0)
            s_b = quant.bias_scale(s, s_w)
            b_q = quant.dequantize(quant.quantize(b, s_b, 0, INT32_MIN, INT32_MAX), s_b, 0)
            if node["op"] == "conv2d":
                top, left, bottom, right = a["padding"]
                h = F.conv2d(F.pad(h, (left, right, top, bottom)), w_q, b_q, a["stride"])
            else:
                h = F.linear(h, w_q, b_q)
            h = {"none": h, "relu": F.relu(h), "relu6": F.relu6(h)}[a["activation"]]
            s, zp = torch.tensor(node["qparams"]["scale"]), torch.tensor(node["qparams"]["zero_point"])
        elif node["op"] == "max_pool2d":
            h = F.max_pool2d(h, a["kernel"], a["stride"], a["padding"], ceil_mode=a["ceil_mode"])
        elif node["op"] == "flatten":
            h = torch.flatten(h, 1)
        else:
            h = F.relu(h) if node["op"] == "relu" else F.relu6(h)
        h = quant.dequantize(quant.quantize(h, s, zp, -128, 127), s, zp)
    with torch.no_grad():
        assert torch.equal(calibrated.eval()(x), h)


def test_save_round_trip_weights_only(calibrated: fx.GraphModule, tmp_path: Path) -> None:
    path = tmp_path / "model.pt"
    save(calibrated, path)
    loaded = torch.load(path, weights_only=True)
    expected = to_artifact(calibrated)
    assert loaded.keys() == expected.keys() and loaded["input"] == expected["input"]
    for got, want in zip(loaded["nodes"], expected["nodes"], strict=True):
        assert {k: v for k, v in got.items() if k != "params"} == {k: v for k, v in want.items() if k != "params"}
        assert got["params"].keys() == want["params"].keys()
        assert all(torch.equal(got["params"][k], want["params"][k]) for k in want["params"])
    assert load_artifact(path)["output"] == "fc"
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"]  # no temp file left behind


def test_save_refuses_to_overwrite(calibrated: fx.GraphModule, tmp_path: Path) -> None:
    path = tmp_path / "model.pt"
    path.write_bytes(b"precious")
    with pytest.raises(ArtifactExistsError) as info:
        save(calibrated, path)
    assert isinstance(info.value, TinyQatError) and isinstance(info.value, FileExistsError)
    assert "\n" not in str(info.value) and "overwrite=True" in str(info.value)
    assert path.read_bytes() == b"precious"
    save(calibrated, path, overwrite=True)
    assert load_artifact(path)["format"] == "tinyqat.artifact"


def test_save_never_replaces_a_file_created_meanwhile(calibrated: fx.GraphModule, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A file that appears between the existence check and the final step is not replaced (the
    name is taken with a hard link, which fails on an existing name), and no temp file is left."""
    import tinyqat.capture as capture

    path = tmp_path / "model.pt"
    real_encode = capture.encode_artifact

    def encode_then_race(artifact: dict) -> bytes:
        path.write_bytes(b"written by someone else")
        return real_encode(artifact)

    monkeypatch.setattr(capture, "encode_artifact", encode_then_race)
    with pytest.raises(ArtifactExistsError):
        save(calibrated, path)
    assert path.read_bytes() == b"written by someone else"
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"]


def test_save_leaves_the_umask_alone(calibrated: fx.GraphModule, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The process-wide umask is never flipped (other threads may create files meanwhile); the file
    still gets the usual permissions, 0o666 less the umask."""
    import os

    umask = os.umask(0o027)
    try:
        monkeypatch.setattr(os, "umask", lambda *_: pytest.fail("save changed the process umask"))
        save(calibrated, tmp_path / "model.pt")
    finally:
        monkeypatch.undo()
        os.umask(umask)
    assert (tmp_path / "model.pt").stat().st_mode & 0o777 == 0o640


def test_refuses_unobserved_model(tmp_path: Path) -> None:
    gm = prepare_qat(Net(), (torch.randn(1, 2, 10, 10),))
    with pytest.raises(CaptureError, match="train or calibrate it first"):
        to_artifact(gm)
    with pytest.raises(CaptureError):
        save(gm, tmp_path / "m.pt")
    assert not (tmp_path / "m.pt").exists()


@pytest.mark.parametrize("model", [nn.Sequential(nn.Linear(3, 2)), fx.symbolic_trace(nn.Sequential(nn.Linear(3, 2)))])
def test_refuses_model_not_from_prepare_qat(model: nn.Module) -> None:
    with pytest.raises(CaptureError, match="prepare_qat") as info:
        to_artifact(model)
    assert "\n" not in str(info.value)


def test_trained_model_captures_after_training(tmp_path: Path) -> None:
    torch.manual_seed(1)
    gm = prepare_qat(Net(), (torch.randn(1, 2, 10, 10),))
    opt = torch.optim.SGD(gm.parameters(), lr=0.01)
    for _ in range(3):
        loss = gm(torch.randn(4, 2, 10, 10)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    save(gm, tmp_path / "m.pt")
    art = load_artifact(tmp_path / "m.pt")
    conv = next(m for m in gm.modules() if isinstance(m, QuantConv2d))
    assert torch.equal(art["nodes"][0]["params"]["weight"], conv.layer.weight.detach())
