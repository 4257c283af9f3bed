"""``zoo sample`` (and the other commands that load a trained model)."""

from __future__ import annotations

from pathlib import Path

import click

from .errors import ZooError
from .progress import every_option


def _read_prompts(prompt: str | None, prompts_file: str | None) -> list[str] | None:
    if prompts_file:
        path = Path(prompts_file)
        if not path.exists() or path.is_dir():  # not is_file(): `--prompts <(...)` is a pipe
            raise ZooError(f"--prompts {path} is not a file of prompts")
        lines = [ln.strip() for ln in path.read_text().splitlines() if ln.strip()]
        if not lines:
            raise ZooError(f"--prompts {path} holds no prompt (one per line)")
        return lines
    return [prompt] if prompt else None


def _sampler_name(model, sampler: str | None) -> str | None:
    """The sampler ``generate`` will use, for the PNG metadata (None if the model has none registered)."""
    from .generation import sampler_fn

    try:
        return sampler_fn(model, sampler)[0]
    except ZooError:
        return sampler


@click.command()
@click.argument("src")
@click.option("--n", "n", type=click.IntRange(min=1), default=16, show_default=True, help="number of images")
@click.option("--out", type=click.Path(), default="samples.png", show_default=True,
              help="a .png path for one grid, or a folder for one PNG per image")
@click.option("--sampler", default=None, help="sampler name (see `zoo info NAME`); default: the model's first")
@click.option("--steps", type=click.IntRange(min=1), default=None, help="sampling steps (diffusion models)")
@click.option("--seed", type=int, default=0, show_default=True, help="same seed, same images")
@click.option("--batch-size", type=click.IntRange(min=1), default=None, help="images generated at once")
@click.option("--prompt", default=None, help="text prompt (text-to-image models)")
@click.option("--prompts", "prompts_file", type=click.Path(dir_okay=False), default=None,
              help="file of prompts, one per line")
@click.option("--class", "label", type=int, default=None, help="class index (class-conditional models)")
@click.option("--truncation", type=float, default=None, help="latent truncation in (0, 1] (GANs)")
@click.option("--eta", type=float, default=None, help="DDIM eta (0: deterministic)")
@click.option("--interpolate", default=None, metavar="A,B",
              help="GANs: slerp between the latents of seeds A and B")
@click.option("--frames", type=click.IntRange(min=2), default=16, show_default=True, help="with --interpolate")
@click.option("--device", default="auto", show_default=True)
@click.option("--revision", default=None, help="Hub revision when SRC is a repo id")
@click.option("--trust-code", is_flag=True, help="let SRC's config import the code it names (trust its author)")
@every_option
def sample(src, n, out, sampler, steps, seed, batch_size, prompt, prompts_file, label, truncation, eta,
           interpolate, frames, device, revision, trust_code):
    """Draw images from SRC: a run folder, a saved-model folder or a Hub repo id."""
    from .hub import from_pretrained
    from .images import save_gif, save_grid, save_images

    model = from_pretrained(src, revision=revision, device=device, trust_code=trust_code)
    extra = {k: v for k, v in {"label": label, "truncation": truncation, "eta": eta}.items() if v is not None}
    prompts = _read_prompts(prompt, prompts_file)
    if prompts is not None:
        extra["prompt"] = prompts
    meta = {"model": model.zoo_name, "seed": seed, "sampler": _sampler_name(model, sampler), "steps": steps,
            "prompt": prompts, "class": label, "truncation": truncation, "eta": eta}
    if interpolate:
        if not hasattr(model, "interpolate"):
            raise ZooError(f"{model.zoo_name} does not support --interpolate (GAN models do)")
        try:
            a, b = (int(s) for s in interpolate.split(","))
        except ValueError:
            raise ZooError(f"--interpolate expects two seeds like 3,7, got {interpolate!r}") from None
        images = model.interpolate(a, b, frames, **extra)
        meta["interpolate"] = interpolate
        gif = str(out).lower().endswith(".gif")
        path = save_gif(images, out) if gif else save_grid(images, out, nrow=frames, meta=meta)
    else:
        images = model.generate(n, seed=seed, sampler=sampler, steps=steps, batch_size=batch_size,
                                progress=True, **extra)
        path = save_images(images, out, meta=meta)
    click.echo(f"wrote {len(images)} image(s) to {path}")


def add_commands(cli: click.Group) -> None:
    """Attach the core's model-loading commands to the ``zoo`` group."""
    from .convert_commands import convert_command
    from .hub_commands import add_hub_commands
    from .metrics.command import eval_command

    cli.add_command(sample)
    cli.add_command(eval_command)
    cli.add_command(convert_command)
    from .report import report_command

    cli.add_command(report_command)
    add_hub_commands(cli)
