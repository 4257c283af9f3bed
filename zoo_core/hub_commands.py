"""``zoo push`` and ``zoo pull``: share saved models through the Hugging Face Hub.

The Hub client's own settings apply: ``HF_ENDPOINT`` (a mirror or a private Hub), ``HF_TOKEN`` (or
``hf auth login``), ``HF_HOME`` / ``HF_HUB_CACHE`` (where pulled models live) and ``HF_HUB_OFFLINE``;
``ZOO_HUB_TIMEOUT`` bounds every wait for the Hub (seconds, default 10).
"""

from __future__ import annotations

import click

from .errors import ZooError


@click.command()
@click.argument("src", type=click.Path(file_okay=False))
@click.option("--repo", "repo_id", required=True, metavar="OWNER/NAME", help="Hub repo id (created if missing)")
@click.option("--private", is_flag=True, help="create the repo private (an existing repo keeps its visibility)")
@click.option("--message", default=None, help="commit message")
@click.option("--revision", default=None, help="branch to push to (created from main if missing)")
@click.option("--license", "license_", default=None, metavar="ID",
              help="license id recorded in the model card's YAML (e.g. mit, apache-2.0, cc-by-4.0)")
def push(src, repo_id, private, message, revision, license_):
    """Upload SRC (a saved-model folder, or a run folder's final/) to the Hub in one commit."""
    from .hub import push_to_hub

    info = push_to_hub(src, repo_id, private=private, commit_message=message, revision=revision, license=license_)
    click.echo(f"pushed to {repo_id}{'@' + revision if revision else ''}: {info.commit_url}")


@click.command()
@click.argument("repo_id", metavar="OWNER/NAME")
@click.option("--revision", default=None, help="branch, tag or commit (default: main)")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="also copy the files into this folder, which must be new or empty (default: only the Hub cache)")
@click.option("--force", is_flag=True, help="with --out: replace the model files in a non-empty folder")
def pull(repo_id, revision, out, force):
    """Download a model from the Hub into the local cache, so it loads offline (HF_HUB_OFFLINE=1)."""
    import warnings

    from .hub import pull as pull_model
    from .hub import read_config
    from .hub_network import CacheFallback

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CacheFallback)
        folder = pull_model(repo_id, revision=revision, out=out, force=force)
    for w in caught:
        if issubclass(w.category, CacheFallback):
            click.echo(f"note: {w.message}", err=True)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    click.echo(f"pulled {repo_id}{'@' + revision if revision else ''} to {folder}")
    try:
        read_config(folder)
    except ZooError as exc:  # the files are here; say what loading them still needs
        click.echo(f"note: {exc}", err=True)


def add_hub_commands(cli: click.Group) -> None:
    cli.add_command(push)
    cli.add_command(pull)
