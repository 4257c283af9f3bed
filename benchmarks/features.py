"""The speed features, each timed on and off on this device (the zoo's DDPM as the workload).

    feature            what is compared                                        default
    precision          autocast fp32 vs bf16 (and fp16 on a GPU)               bf16 on GPUs that have it
    channels_last      NCHW vs NHWC U-Net and batch                            on for CUDA (trainer)
    fused Adam         optimizer.step: fused vs foreach vs for-loop            fused on CPU and CUDA
    attention          the shipped SDPA attention vs explicit softmax(QK^T)V   SDPA
    no-grad sampling   DDIM with and without autograd recording                no-grad (generate)
    batched sampling   n images in one batch vs one at a time                  batched (generate)
    cudnn.benchmark    off vs on (GPU only)                                    on (engine)
    torch.compile      eager vs compiled training step (--with-compile)        off: slow to start

    python benchmarks/features.py                 # all but compile
    python benchmarks/features.py --with-compile  # adds torch.compile (minutes of compilation on CPU)
"""

from __future__ import annotations

import argparse
import time

import common


def _engine(device, args, **train_kw):
    return common.zoo_engine("ddpm", {"res": args.res, "channels": args.channels},
                             {"batch_size": args.batch, "lr": 2e-4, "grad_clip": 1.0, **train_kw}, device)


def _pair(a, b, steps: int, device) -> tuple[float, float]:
    t = common.interleaved({"a": a, "b": b}, steps, warmup=1, device=device)
    return common.median(t["a"]), common.median(t["b"])


def _row(feature: str, a: str, b: str, ta: float, tb: float, default: str) -> list:
    return [feature, a, b, ta * 1000, tb * 1000, f"{ta / tb:.2f}x", default]


def precision(args, device, steps):
    import torch

    rows = []
    base = _engine(device, args, precision="fp32")
    lowp = ["bf16"] + (["fp16"] if device.type == "cuda" else [])
    for p in lowp:
        if p == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
            continue
        other = _engine(device, args, precision=p)
        ta, tb = _pair(base.step, other.step, steps, device)
        default = "yes (auto)" if p == "bf16" and device.type == "cuda" else "no (--precision " + p + ")"
        rows.append(_row("precision (train step)", "fp32", p, ta, tb, default))
    return rows


def channels_last(args, device, steps):
    import torch

    plain, nhwc = _engine(device, args, precision="fp32"), _engine(device, args, precision="fp32")
    for engine, fmt in ((plain, torch.contiguous_format), (nhwc, torch.channels_last)):
        engine.model.unet.to(memory_format=fmt)  # the trainer makes it channels_last on CUDA; set both ways
        batch = next(engine.batches)
        batch["image"] = batch["image"].contiguous(memory_format=fmt)
    ta, tb = _pair(plain.step, nhwc.step, steps, device)
    return [_row("channels_last (train step)", "NCHW", "NHWC", ta, tb, "yes (trainer, CUDA)" if device.type == "cuda"
                 else "no (CUDA only)")]


def optimizers(args, device, steps):
    import torch
    from zoo_ddpm.config import DDPMConfig
    from zoo_ddpm.model import DDPM

    unet = DDPM(DDPMConfig(res=args.res, channels=args.channels)).unet.to(device)
    for p in unet.parameters():
        p.grad = torch.randn_like(p) * 1e-3
    kinds = {"for-loop": {"foreach": False}, "foreach": {"foreach": True}, "fused": {"fused": True}}
    opts = {}
    for name, kw in kinds.items():
        try:
            opts[name] = torch.optim.Adam(unet.parameters(), lr=1e-6, **kw)
        except RuntimeError:
            pass
    if "fused" not in opts:
        return [["fused Adam (optimizer.step)", "-", "-", "-", "-", "-", "fused Adam not available here"]]
    t = common.interleaved({k: o.step for k, o in opts.items()}, steps * 4, warmup=2, device=device)
    fused = common.median(t["fused"])
    return [_row("fused Adam (optimizer.step)", name, "fused", common.median(t[name]), fused, "yes (fused)")
            for name in opts if name != "fused"]


def attention(args, device, steps):
    import torch
    from zoo_ddpm.unet import Attention

    ch, side = args.channels * 2, 16  # the width and feature map where the DDPM U-Net attends
    layer = Attention(ch).to(device)
    torch.nn.init.normal_(layer.proj.weight, std=0.02)
    x = torch.randn(args.batch, ch, side, side, device=device, requires_grad=True)

    def explicit():
        b, c, h, w = x.shape
        qkv = layer.qkv(layer.norm(x)).reshape(b, 3, c, h * w)
        q, k, v = qkv[:, 0], qkv[:, 1], qkv[:, 2]
        attn = torch.softmax(torch.einsum("bci,bcj->bij", q, k) / c**0.5, dim=-1)
        out = torch.einsum("bij,bcj->bci", attn, v).reshape(b, c, h, w)
        return x + layer.proj(out)

    with torch.no_grad():
        assert torch.allclose(explicit(), layer(x), atol=1e-4), "explicit attention disagrees with the layer"
    ta, tb = _pair(lambda: explicit().square().mean().backward(), lambda: layer(x).square().mean().backward(),
                   steps * 3, device)
    return [_row(f"SDPA attention ({ch} ch, {side}x{side}, fwd+bwd)", "explicit softmax", "SDPA", ta, tb, "yes")]


def sampling(args, device, steps):
    import torch
    from zoo_ddpm.config import DDPMConfig
    from zoo_ddpm.model import DDPM
    from zoo_ddpm.samplers import ddim

    model = DDPM(DDPMConfig(res=args.res, channels=args.channels)).to(device).eval()
    n, k = args.batch, 10

    def grad_on():
        with torch.enable_grad():
            ddim(model, n, generator=torch.Generator().manual_seed(0), steps=k)

    def one_by_one():
        model.generate(n, seed=0, sampler="ddim", steps=k, batch_size=1)

    nograd = lambda: model.generate(n, seed=0, sampler="ddim", steps=k, batch_size=n)  # noqa: E731
    ta, tb = _pair(grad_on, nograd, steps, device)
    tc, td = _pair(one_by_one, nograd, steps, device)
    return [_row(f"no-grad sampling (DDIM {k}, {n} images)", "autograd on", "no_grad", ta, tb, "yes (generate)"),
            _row(f"batched sampling (DDIM {k}, {n} images)", "batch 1", f"batch {n}", tc, td, "yes (generate)")]


def cudnn(args, device, steps):
    import torch

    if device.type != "cuda":
        return []
    engine = _engine(device, args)

    def with_flag(flag):
        def step():
            torch.backends.cudnn.benchmark = flag
            engine.step()
        return step

    ta, tb = _pair(with_flag(False), with_flag(True), steps, device)
    torch.backends.cudnn.benchmark = True
    return [_row("cudnn.benchmark (train step)", "off", "on", ta, tb, "yes (engine, CUDA)")]


def compiled(args, device, steps):
    eager, comp = _engine(device, args), _engine(device, args, compile=True)
    t0 = time.perf_counter()
    comp.step()
    first = time.perf_counter() - t0
    ta, tb = _pair(eager.step, comp.step, steps, device)
    return [_row(f"torch.compile (train step; first step {first:.0f} s)", "eager", "compiled", ta, tb,
                 "no (--compile)")]


def run(args, device) -> list[dict]:
    import torch

    args.res = args.res or (64 if device.type == "cuda" else 32)
    args.channels = args.channels or (64 if device.type == "cuda" else 32)
    args.batch = args.batch or (32 if device.type == "cuda" else 8)
    steps = args.steps or (3 if args.quick else 8)
    parts = [precision, channels_last, optimizers, attention, sampling, cudnn] + ([compiled] if args.with_compile
                                                                                 else [])
    rows = []
    for part in parts:
        try:
            rows += part(args, device, steps)
        except Exception as exc:  # noqa: BLE001 - one feature failing must not hide the others
            rows.append([part.__name__, "-", "-", "-", "-", "-", f"failed: {type(exc).__name__}: {exc}"[:90]])
        torch.manual_seed(0)
    common.print_table(
        f"Speed features, off (A) vs on (B) ({device}; DDPM {args.res}x{args.res}, base width {args.channels}, "
        f"batch {args.batch}; median ms)", ["feature", "A", "B", "A ms", "B ms", "B speed-up", "on by default?"], rows)
    return [{"bench": "features", "feature": r[0], "a": r[1], "b": r[2], "a_ms": r[3], "b_ms": r[4],
             "device": str(device)} for r in rows]


def add_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--res", type=int, default=None, help="DDPM resolution (default: 32 CPU, 64 GPU)")
    p.add_argument("--channels", type=int, default=None, help="DDPM base width (default: 32 CPU, 64 GPU)")
    p.add_argument("--batch", type=int, default=None, help="images per step (default: 8 CPU, 32 GPU)")
    p.add_argument("--steps", type=int, default=None, help="timed calls per variant (default 8; quick 3)")
    p.add_argument("--with-compile", action="store_true", help="also time torch.compile (minutes on CPU)")


def main(argv=None) -> None:
    common.script_main(__doc__, add_args, run, argv)


if __name__ == "__main__":
    main()
