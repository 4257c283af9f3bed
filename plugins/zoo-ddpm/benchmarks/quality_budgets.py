"""The quality benchmark a user can read (issue 20, item 4): zoo's DDPM (or, with ``--family iddpm``,
iDDPM) defaults vs diffusers' ``train_unconditional`` recipe at three training budgets, each trained model
scored per sampler and sampling-step count, written as a markdown table and two PNG plots.

What is compared, and why it is fair:

* the same U-Net (benchmarks/matched.py maps the zoo config to ``UNet2DModel``, iDDPM's scale-shift
  norm and residual up/down-sampling included; parameter counts are printed and checked within 2%),
  the same images in the same seeded order, the same batch and steps;
* zoo side: ``zoo train ddpm`` / ``zoo train iddpm`` with its defaults (on gray data that is a 1-channel
  model; iDDPM's are learned variances with the hybrid loss on a cosine schedule);
  reference side: the recipe as users run it (RGB, AdamW lr 1e-4, 500 warm-up steps then cosine,
  EMA inv_gamma 1 / power 3/4 up to 0.9999, eps prediction, linear betas, fixed variance), for iDDPM
  too: it is what a user of diffusers would run on that U-Net (the one architectural difference, the
  attention heads, is explained in matched.py);
* both trained models are sampled by the same code: the reference U-Net is converted to a zoo model
  (``zoo convert``'s diffusers importer) and sampled with zoo's ancestral / DPM-Solver++ samplers,
  which equal diffusers' DDPMScheduler / DPMSolverMultistepScheduler step for step
  (plugins/zoo-ddpm/tests/test_few_step_samplers.py); so every gap is the training recipe's. An iDDPM
  model's ancestral sampler uses its learned variances, DPM-Solver++ only its mean (eps) prediction;
* scores: Inception FID and KID (benchmarks/quality_metrics.py; the offline weights route is in
  docs/metrics.md) on ``--n`` samples against ``--n`` reference real images, and the colour cast
  (mean spread between R, G and B, grey levels) on gray data. FID is biased upward at small ``--n``:
  compare only rows of one table. ``--real-stats FILE`` keeps the real side's Inception pass for
  later runs (split runs, ``--load``), and the two-halves floor reuses its features.

It sizes itself to the machine: on a GPU 1,500 / 6,000 / 24,000 steps x batch 64, 2,000 samples,
every sampler at 10, 20, 50, 100 and 1,000 steps for every budget; on a CPU it takes the budgets
given (see docs/performance.md for the run made here and its exact command).

    python plugins/zoo-ddpm/benchmarks/quality_budgets.py --fid-weights inception-2015-12-05.safetensors
    python plugins/zoo-ddpm/benchmarks/quality_budgets.py --budgets 60,120,240 --batch 16 --n 48 \\
        --sweep last --zoo-args="--channel-mults 1,2 --num-res-blocks 1 --attn-res 32"    # a small CPU run
    python plugins/zoo-ddpm/benchmarks/quality_budgets.py --family iddpm \\
        --fid-weights inception-2015-12-05.safetensors                      # iDDPM: docs/quality_iddpm.md
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shlex
import sys
import tempfile
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parents[2] / "benchmarks")]
import common  # noqa: E402
import matched  # noqa: E402
import quality_ddpm  # noqa: E402
import quality_metrics  # noqa: E402
from line_chart import line_plot  # noqa: E402
from recipes import colour_cast, gray_folder  # noqa: E402

GPU = {"budgets": "1500,6000,24000", "batch": 64, "n": 2000, "sweep": "all"}
CPU = {"budgets": "300,600,1200", "batch": 32, "n": 256, "sweep": "last"}
GRID = "ancestral:10,20,50,100,1000 dpm++:10,20,50,100,1000"
FAMILIES = {"ddpm": "DDPM", "iddpm": "iDDPM"}  # --family -> the name in the report


def parse_grid(text: str) -> list[tuple[str, int]]:
    """ "ancestral:10,1000 dpm++:20" -> [("ancestral", 10), ("ancestral", 1000), ("dpm++", 20)]."""
    out = []
    for item in text.split():
        name, _, steps = item.partition(":")
        if not name or not all(s.isdigit() for s in steps.split(",")):
            raise SystemExit(f"--grid: expected SAMPLER:STEPS,STEPS items such as dpm++:10,20, got {item!r}")
        out += [(name, int(s)) for s in steps.split(",")]
    return out


def reference_model(args, zoo_cfg, steps: int, folder: Path):
    """Train the diffusers recipe for ``steps`` and return it as a zoo model (for the same samplers)."""
    from zoo_ddpm.importers import convert

    from zoo_core.hub import from_pretrained

    cfg = dataclasses.replace(zoo_cfg, in_channels=3)  # the recipe converts every image to RGB
    batches = quality_ddpm.reference_batches(args.data, args.res, args.batch, args.seed)
    unet, sched = quality_ddpm.train_diffusers(steps, args.seed, cfg, batches, args.torch_device)
    unet.save_pretrained(folder / "diffusers")
    sched.save_pretrained(folder / "diffusers")
    return from_pretrained(convert(folder / "diffusers", folder / "zoo"), device=args.torch_device), unet


def sides_arg(value: str) -> list[str]:
    """``--sides``: ``zoo``, ``diffusers``, ``zoo,diffusers`` or ``both``; anything else is refused (a typo
    would otherwise train nothing and score nothing)."""
    sides = ["zoo", "diffusers"] if value.strip() == "both" else [s.strip() for s in value.split(",")]
    if not sides or any(s not in ("zoo", "diffusers") for s in sides):
        raise argparse.ArgumentTypeError(f"expected zoo, diffusers or both, got {value!r}")
    return sides


def points_for(args, budget: int, grid, curve) -> list[tuple[str, int]]:
    """The (sampler, steps) pairs scored for a model trained ``budget`` steps with ``grid``."""
    if args.sweep == "all" or budget == args.budget_list[-1]:
        return list(dict.fromkeys([*grid, curve]))
    return [curve]


def run(args) -> list[dict]:
    from zoo_core.hub import from_pretrained

    grids = {"zoo defaults": parse_grid(args.grid), "diffusers recipe": parse_grid(args.ref_grid or args.grid)}
    curve = parse_grid(args.curve)[0]
    scorer = quality_ddpm.reference_scorer(args, args.torch_device)
    held_out = scorer.held_out
    args.metric = scorer.name
    records: list[dict] = []
    extra = tuple(shlex.split(args.zoo_args))
    with tempfile.TemporaryDirectory() as tmp:
        for budget in args.budget_list:
            if args.load:
                sides = [(side, from_pretrained(saved_model(Path(args.load), side, budget), device=args.torch_device), 0)
                         for side in grids if side.split()[0] in args.sides]
                score_sides(args, budget, sides, grids, curve, scorer, records)
                continue
            t0 = time.perf_counter()
            quality_ddpm.train_zoo(args, Path(tmp) / f"zoo{budget}", budget if "zoo" in args.sides else 1,
                                   args.family, extra)  # 1 step: the resolved config, for the reference
            zoo = from_pretrained(Path(tmp) / f"zoo{budget}" / "final", device=args.torch_device)
            if args.keep and "zoo" in args.sides:
                keep_model(Path(args.keep), "zoo", budget, Path(tmp) / f"zoo{budget}" / "final")
            sides = [("zoo defaults", zoo, time.perf_counter() - t0)] if "zoo" in args.sides else []
            if "diffusers" in args.sides:
                t0 = time.perf_counter()
                ref, unet = reference_model(args, zoo.config, budget, Path(tmp) / f"ref{budget}")
                if args.keep:
                    keep_model(Path(args.keep), "diffusers", budget, Path(tmp) / f"ref{budget}" / "zoo")
                sides.append(("diffusers recipe", ref, time.perf_counter() - t0))
                n_zoo, n_ref = common.count_params(zoo.unet), common.count_params(unet)
                print(f"parameters: zoo {n_zoo:,}, diffusers {n_ref:,} (heads: zoo {zoo.config.num_heads}, "
                      f"diffusers {ref.config.num_heads})", flush=True)
                matched.check_params(n_zoo, n_ref)
            score_sides(args, budget, sides, grids, curve, scorer, records)
    floor = {"side": "real vs real (floor)", "budget": 0, "sampler": "", "steps": 0,
             **floor_scores(args, scorer, held_out), "cast": colour_cast(held_out)}
    print(json.dumps(floor), flush=True)
    return [floor, *records]


def floor_scores(args, scorer, held_out) -> dict:
    """The real-vs-real score: a second seeded draw of ``--n`` real images against the reference. When the
    folder holds no more than ``--n`` images the reference is all of them (samples are scored against the
    whole folder, as FID usually is) and no second draw exists, so the floor compares its two halves
    (``n_floor`` images each: at that smaller n it sits above the true floor), from the Inception features
    the scores already extracted (run last for that reason: no second pass over the real images)."""
    if len(held_out) == args.n:
        return scorer(quality_ddpm.real_images(args.data, args.res, args.n, args.seed + 2))
    half = len(held_out) // 2
    print(f"note: {args.data} holds {len(held_out)} images, fewer than --n {args.n}: samples are scored against "
          f"all of them, and the real-vs-real floor compares two halves of {half}", flush=True)
    pool = scorer.real_features()
    if pool is not None:
        return {**quality_metrics.floor_from_features(pool), "n_real": len(pool)}
    first, second = held_out[:half], held_out[half:2 * half]
    halves = quality_metrics.Scorer(torch.utils.data.TensorDataset(second), args.res, half, args.fid_weights,
                                    args.torch_device, seed=args.seed + 2, pixel=args.pixel_fd, held_out=second)
    return {**halves(first), "n_floor": half, "n_real": len(held_out)}


def score_sides(args, budget: int, sides, grids, curve, scorer, records: list[dict]) -> None:
    """Sample and score each (side, model, training seconds) at its grid's points; append the records."""
    for side, model, train_s in sides:
        for sampler, steps in points_for(args, budget, grids[side], curve):
            t0 = time.perf_counter()
            images = model.generate(args.n, seed=args.seed, sampler=sampler, steps=steps,
                                    batch_size=args.sample_batch).cpu()
            rec = {"side": side, "budget": budget, "sampler": sampler, "steps": steps,
                   "in_channels": model.config.in_channels, "train_s": round(train_s),
                   "sample_s": round(time.perf_counter() - t0), **scorer(images),
                   "cast": colour_cast(images.expand(-1, 3, -1, -1))}
            records.append(rec)
            print(json.dumps(rec), flush=True)
            if args.keep:
                keep_samples(Path(args.keep), rec, images)


def keep_model(folder: Path, side: str, budget: int, model: Path) -> Path:
    """Save a trained model (a zoo model folder) as ``folder/SIDE_BUDGET_model``, so more samplers or sample
    counts can be scored later (``--load``) without training again."""
    import shutil

    dest = folder / f"{side}_{budget}_model"
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(model, dest)
    return dest


def saved_model(folder: Path, side: str, budget: int) -> Path:
    """The model ``keep_model`` saved for ``side`` at ``budget`` in ``folder``; a one-line exit when it is not there."""
    path = folder / f"{side.split()[0]}_{budget}_model"
    if not (path / "config.json").is_file():
        raise SystemExit(f"--load {folder}: no saved model {path.name} (train it with --keep {folder} --budgets "
                         f"{budget}, or pass --sides and --budgets that were kept)")
    return path


def keep_samples(folder: Path, rec: dict, images) -> Path:
    """Save one record's samples as uint8 safetensors (``images``, N x C x H x W), for checks made after the
    run (class coverage, residual noise, grids) without sampling again."""
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    side = rec["side"].split()[0]
    path = folder / f"{side}_{rec['budget']}_{rec['sampler']}{rec['steps']}.safetensors"
    levels = ((images.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).contiguous()
    save_file({"images": levels}, str(path))
    return path


# ------------------------------------------------------------------ the report
def fmt(rec: dict) -> str:
    kid = f" / {1000 * rec['kid']:.1f}" if "kid" in rec else ""
    return f"{rec['fid']:.1f}{kid}"


def markdown(args, records: list[dict]) -> str:
    curve = parse_grid(args.curve)[0]
    floor = records[0]
    sides = ["zoo defaults", "diffusers recipe"]
    score = f"{args.metric}{' / KID x 1000' if 'kid' in floor else ''}"
    halves = f" (two halves of {floor['n_floor']} images: the folder holds fewer than --n)" if "n_floor" in floor else ""
    reference = f"all {floor['n_real']}" if "n_real" in floor else args.n
    lines = [f"# {FAMILIES[args.family]} sample quality at three training budgets ({args.device_name})", "",
             f"`zoo train {args.family}` with its defaults vs diffusers' train_unconditional recipe on the same "
             f"U-Net. Data {args.data_name}, {args.res} px, batch {args.batch}, {args.n} samples per score against "
             f"{reference} reference real images; scores are {score} (lower is better); real vs real{halves}: "
             f"{fmt(floor)}. Written by `{args.command}`.", "",
             f"## Score vs training steps ({curve[0]} {curve[1]} steps)", "",
             "| side | " + " | ".join(f"{b:,} steps" for b in args.budget_list) + " | colour cast, last budget |",
             "|---|" + "---|" * (len(args.budget_list) + 1)]
    for side in sides:
        row = {r["budget"]: r for r in records if r["side"] == side and (r["sampler"], r["steps"]) == curve}
        last = row.get(args.budget_list[-1])
        cast = f"{last['cast']:.1f} (real {floor['cast']:.1f})" if last else "not scored"
        lines.append(f"| {side} | " + " | ".join(fmt(row[b]) if b in row else "" for b in args.budget_list)
                     + f" | {cast} |")
    lines += ["", "## Score per sampler and sampling steps", "",
              "| side | training steps | sampler | sampling steps | score | colour cast | sampling s |",
              "|---|---|---|---|---|---|---|"]
    for r in records[1:]:
        lines.append(f"| {r['side']} | {r['budget']:,} | {r['sampler']} | {r['steps']} | {fmt(r)} | "
                     f"{r['cast']:.1f} | {r['sample_s']} |")
    lines += ["", f"![{args.metric} vs sampling steps]({args.plot_prefix.name}_sampling_steps.png)",
              f"![{args.metric} vs training steps]({args.plot_prefix.name}_training_steps.png)", ""]
    return "\n".join(lines)


def plots(args, records: list[dict]) -> None:
    floor = records[0]["fid"]
    by_steps: dict[str, list] = {}
    for r in records[1:]:
        by_steps.setdefault((r["side"].split()[0], r["budget"], r["sampler"]), []).append((r["steps"], r["fid"]))
    swept = {k: pts for k, pts in by_steps.items() if len(pts) > 1}  # a lone point is no line
    kinds = sorted({(budget, sampler) for _, budget, sampler in swept})
    names = {k: f"{k[0]} {k[1]:,}, {k[2]}" for k in swept}
    line_plot(Path(f"{args.plot_prefix}_sampling_steps.png"), f"{args.metric} ({args.n} samples) vs sampling "
              "steps; thin lines: diffusers", "sampling steps", {names[k]: swept[k] for k in swept}, floor,
              colours={names[k]: kinds.index(k[1:]) for k in swept},
              thin={names[k] for k in swept if k[0] != "zoo"})
    curve = parse_grid(args.curve)[0]
    by_budget: dict[str, list] = {}
    for r in records[1:]:
        if (r["sampler"], r["steps"]) == curve:
            by_budget.setdefault(r["side"], []).append((r["budget"], r["fid"]))
    line_plot(Path(f"{args.plot_prefix}_training_steps.png"), f"{args.metric} vs training steps "
              f"({curve[0]} {curve[1]})", "training steps", by_budget, floor)


SETTINGS = ("family", "data", "res", "batch", "n")  # what a --json file records of its run, and --merge checks


def merged_records(paths: list[str]) -> tuple[list[dict], dict]:
    """The records of earlier runs, read from their ``--json`` files or logs (any line that is a JSON record),
    the real-vs-real floor first; a later record of the same side, budget, sampler and steps replaces an
    earlier one. So split runs (one side per core, ``--load`` for more samplers) make one report. Also the
    runs' settings (data, resolution, batch, sample count) where the files record them: files that
    disagree are refused, since their scores are not on one scale."""
    floor, rows, settings, seen = None, {}, {}, {}
    for path in paths:
        for line in Path(path).read_text().splitlines():
            if not line.startswith("{"):
                continue
            rec = json.loads(line)
            for key in (k for k in SETTINGS if k in rec and "rows" in rec):  # a --json file's header
                if key in settings and settings[key] != rec[key]:
                    raise SystemExit(f"--merge: {seen[key]} and {path} were run with different {key} "
                                     f"({settings[key]} vs {rec[key]}): one report compares one setting")
                settings[key], seen[key] = rec[key], path
            for r in rec.get("rows", [rec]):
                if "side" not in r or "fid" not in r:
                    continue
                if r["budget"] == 0:
                    floor = floor or r
                else:
                    rows[(r["side"], r["budget"], r["sampler"], r["steps"])] = r
    if floor is None or not rows:
        raise SystemExit(f"--merge: no records with a real-vs-real floor and scored rows in {', '.join(paths)}")
    order = {"zoo defaults": 0, "diffusers recipe": 1}
    return [floor, *sorted(rows.values(), key=lambda r: (r["budget"], order.get(r["side"], 2), r["sampler"],
                                                         r["steps"]))], settings


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common.add_common_args(p)
    quality_metrics.add_args(p)
    p.add_argument("--family", default="ddpm", choices=list(FAMILIES), help="the zoo model family trained with "
                                                                          "its defaults on the zoo side")
    p.add_argument("--data", default="gray", help="images (default gray: the built-in shapes as gray RGB PNGs)")
    p.add_argument("--res", type=int, default=16)
    p.add_argument("--budgets", default=None, help=f"training steps, comma-separated (GPU {GPU['budgets']}, "
                                                   f"CPU {CPU['budgets']})")
    p.add_argument("--batch", type=int, default=None, help=f"batch size (GPU {GPU['batch']}, CPU {CPU['batch']})")
    p.add_argument("--n", type=int, default=None, help=f"samples per score (GPU {GPU['n']}, CPU {CPU['n']})")
    p.add_argument("--grid", default=GRID, help="SAMPLER:STEPS,... items scored for each swept model")
    p.add_argument("--ref-grid", default=None, help="--grid for the diffusers side (default: --grid)")
    p.add_argument("--curve", default="dpm++:20", help="the SAMPLER:STEPS scored at every budget")
    p.add_argument("--sweep", choices=["all", "last"], default=None,
                   help="which budgets get the whole --grid (GPU all, CPU last; the others get --curve)")
    p.add_argument("--zoo-args", default="", help="extra `zoo train` flags for both sides' U-Net (e.g. a "
                                                  "smaller network on a CPU)")
    p.add_argument("--sample-batch", type=int, default=256)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--sides", default="zoo,diffusers", type=sides_arg,
                   help="which sides to train and score: zoo, diffusers, or both (zoo,diffusers; e.g. the "
                        "reference alone at 4x the steps)")
    p.add_argument("--keep", default=None, help="folder to save every scored sample set in (uint8 safetensors)")
    p.add_argument("--load", default=None, help="a --keep folder of an earlier run: score its saved models "
                                                 "(SIDE_BUDGET_model) at this --grid instead of training")
    p.add_argument("--merge", nargs="+", default=None, metavar="FILE",
                   help="write the report and plots from earlier runs' records (--json files or logs) instead "
                        "of training: split runs become one report")
    p.add_argument("--md", default=None, help="the markdown report, plots beside it (default "
                                               "docs/quality_FAMILY.md)")
    args = p.parse_args(argv)
    args.command = "python plugins/zoo-ddpm/benchmarks/quality_budgets.py " + " ".join(
        shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))
    args.torch_device = common.setup_torch(args)
    args.device = str(args.torch_device)  # `zoo train --device` for the zoo side
    sized = GPU if args.torch_device.type == "cuda" else CPU
    for key, value in sized.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args.budget_list = sorted(int(b) for b in args.budgets.split(","))
    args.device_name = "GPU" if args.torch_device.type == "cuda" else f"CPU, {torch.get_num_threads()} thread(s)"
    common.print_machine()
    args.data_name = "builtin:shapes as gray RGB PNGs (1,024 images)" if args.data == "gray" else args.data
    if args.merge:
        records, settings = merged_records(args.merge)
        for key, value in settings.items():  # the runs' own settings, not this command's defaults
            setattr(args, "data_name" if key == "data" else key, value)
        args.metric = "Inception FID" if "kid" in records[0] else "pixel FD"
        args.budget_list = sorted({r["budget"] for r in records[1:]})
    md = Path(args.md or HERE.parents[2] / "docs" / f"quality_{args.family}.md")
    args.plot_prefix = md.with_suffix("")
    if not args.merge:
        with tempfile.TemporaryDirectory() as tmp:
            if args.data == "gray":
                args.data = gray_folder(Path(tmp) / "gray", 1024)
            records = run(args)
    md.parent.mkdir(parents=True, exist_ok=True)
    md.write_text(markdown(args, records))
    plots(args, records)
    common.save_json(args, {"benchmark": "quality_budgets", "metric": args.metric, "family": args.family,
                            "data": args.data_name, "res": args.res, "batch": args.batch, "n": args.n,
                            "rows": records})
    print(f"wrote {md} and {args.plot_prefix}_*.png")


if __name__ == "__main__":
    main()
