"""Getting a model from the Hub: ``download`` (into huggingface_hub's cache) and ``pull`` (also into a folder).

Only the files a loader reads are fetched (``WEIGHT_PATTERNS``), never a repo's other content. The Hub is
asked first, so a 401/403/404 is an error that says so, while a server error or no answer falls back to
the cache with a :class:`~zoo_core.hub_network.CacheFallback` note; every failure is one line saying what
to do. What a downloaded folder means (a zoo saved model, a published format to convert) is
:mod:`zoo_core.hub`'s.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from .errors import ZooError, first_line
from .hub_network import CacheFallback, bounded, http_error, network_errors, status_of, timed_out, timeout
from .sources import REPO_ID
from .trust import shown

# all zoo ever downloads: its own files, and the JSON configs importers read (diffusers layouts)
WEIGHT_PATTERNS = ["config.json", "*.safetensors", "README.md", "*.png", "model_index.json", "*config.json"]


def _repo_files(repo_id: str, revision: str | None, cache_dir: str | None, token: str | None,
                local_files_only: bool) -> list[str]:
    """File names of a repo (the cached listing, else the Hub's), to explain what it lacks; [] if unknown."""
    try:
        from huggingface_hub import get_cached_repo_tree

        return [f.path for f in get_cached_repo_tree(repo_id, revision=revision, cache_dir=cache_dir)]
    except Exception:
        pass
    if local_files_only:
        return []
    try:
        from huggingface_hub import HfApi

        return HfApi(token=token).list_repo_files(repo_id, revision=revision)
    except Exception:
        return []


def download(repo_id: str, revision: str | None = None, cache_dir: str | None = None, token: str | None = None,
             local_files_only: bool = False, raw: bool = False) -> Path:
    """Download (or find in the Hub cache) the zoo files of a Hub repo; only ``WEIGHT_PATTERNS`` are fetched.

    A repo in a published format an importer knows (diffusers) is converted on the fly and the cached
    conversion returned (zoo_core.convert); ``raw=True`` returns the snapshot as downloaded.

    The cache, endpoint, token and offline mode are huggingface_hub's own: ``HF_HOME`` /
    ``HF_HUB_CACHE``, ``HF_ENDPOINT``, ``HF_TOKEN`` and ``HF_HUB_OFFLINE`` apply as usual; every request
    waits at most ``ZOO_HUB_TIMEOUT`` seconds. The Hub is asked first: a 401/403/404 answer is an
    error, while a server error or no answer falls back to the cache with a :class:`CacheFallback` note.
    """
    import warnings

    from huggingface_hub import HfApi, constants

    from .hub import is_saved_model, pickle_error  # what a folder is: the format module's knowledge

    at = f" (revision {revision!r})" if revision else ""
    offline = local_files_only or constants.is_offline_mode()
    with bounded() as limit:
        problem = None if offline else _ask_hub(HfApi(token=token), repo_id, revision, limit)
        cached_only = offline or problem is not None
        folder = _snapshot(repo_id, revision, cache_dir, token, cached_only, problem, at, WEIGHT_PATTERNS)
        converted = None
        if not is_saved_model(folder):
            from .convert import as_zoo_model, detect

            if detect(folder) is not None and not any(folder.rglob("*.safetensors")):
                # published repos with pickled weights only (e.g. google/ddpm-ema-*): importers read them with
                # torch.load(weights_only=True), never executing anything
                folder = _snapshot(repo_id, revision, cache_dir, token, cached_only, problem, at,
                                   WEIGHT_PATTERNS + ["*.bin"])
            converted = None if raw else as_zoo_model(folder)
        if converted is None and not raw and not (folder / "config.json").is_file():
            names = _repo_files(repo_id, revision, cache_dir, token, cached_only)
            where = f"repository {repo_id!r}{at}"
            raise pickle_error(where, names) or ZooError(
                f"{where} is not a zoo model (no config.json"
                + (f"; it holds {', '.join(sorted(names)[:5])}" if names else "") + ")")
    if problem is not None:
        warnings.warn(CacheFallback(f"{repo_id}{at} was served from the local cache: {problem}"), stacklevel=2)
    return converted if converted is not None else folder


def _ask_hub(api, repo_id: str, revision: str | None, limit: float) -> ZooError | None:
    """Ask the Hub about the repo: an authoritative refusal raises; no answer or a 5xx is returned."""
    from huggingface_hub import constants
    from huggingface_hub import errors as hf_errors

    try:
        api.model_info(repo_id, revision=revision, timeout=limit)
    except hf_errors.RevisionNotFoundError:
        raise ZooError(f"repository {repo_id!r} has no revision {revision!r}") from None
    except hf_errors.HfHubHTTPError as exc:
        error = http_error(exc, repo_id, constants.ENDPOINT)
        if error is None or (status_of(exc) or 0) < 500:
            raise (error or ZooError(f"could not download {repo_id!r}: {first_line(exc)}")) from None
        return error
    except network_errors() as exc:
        if timed_out(exc):
            return ZooError(f"the Hub at {constants.ENDPOINT} did not answer within {limit:g} s (ZOO_HUB_TIMEOUT)")
        return ZooError(f"the Hub at {constants.ENDPOINT} cannot be reached ({first_line(exc)})")
    return None


def _snapshot(repo_id: str, revision: str | None, cache_dir: str | None, token: str | None, cached_only: bool,
              problem: ZooError | None, at: str, patterns: list[str]) -> Path:
    """``snapshot_download`` of ``patterns``; every failure is a one-line ZooError saying what to do."""
    from huggingface_hub import constants, snapshot_download
    from huggingface_hub import errors as hf_errors

    incomplete = getattr(hf_errors, "IncompleteSnapshotError", ())
    try:
        return Path(snapshot_download(repo_id, revision=revision, cache_dir=cache_dir, token=token,
                                      local_files_only=cached_only, allow_patterns=patterns,
                                      etag_timeout=timeout()))
    except hf_errors.RevisionNotFoundError:
        raise ZooError(f"repository {repo_id!r} has no revision {revision!r}") from None
    except incomplete:
        raise ZooError(f"the cached copy of {repo_id!r}{at} is incomplete and the Hub cannot be reached; "
                       f"run `zoo pull {repo_id}` while online") from None
    except hf_errors.LocalEntryNotFoundError:
        cache = cache_dir or constants.HF_HUB_CACHE
        why = ("HF_HUB_OFFLINE is set" if constants.is_offline_mode() else
               "local_files_only was asked for" if problem is None else str(problem))
        raise ZooError(f"{repo_id!r}{at} is not in the local cache ({cache}) and {why}; run `zoo pull {repo_id}` "
                       "while online, or pass a local folder") from None
    except hf_errors.HfHubHTTPError as exc:
        raise (http_error(exc, repo_id, constants.ENDPOINT)
               or ZooError(f"could not download {repo_id!r}{at}: {first_line(exc)}")) from None
    except (OSError, ValueError) as exc:
        raise ZooError(f"could not download {repo_id!r}{at}: {first_line(exc)}") from None
    except network_errors() as exc:
        raise ZooError(f"cannot reach the Hub at {constants.ENDPOINT} ({first_line(exc)})") from None


def pull(repo_id: str, revision: str | None = None, out: str | Path | None = None, token: str | None = None,
         force: bool = False) -> Path:
    """Download a Hub model into the Hub cache (for offline use) and, with ``out``, copy its files there.

    ``out`` must be absent or empty unless ``force``; only the files a loader reads are copied, each
    written to a fresh temporary file and renamed into place (a link in ``out`` is replaced, never
    written through).
    """
    if not REPO_ID.match(repo_id):
        raise ZooError(f"{shown(repo_id)} is not a Hub repo id (expected 'owner/name')")
    if out is not None:
        out = Path(out).expanduser()
        if out.is_symlink() or (out.exists() and not out.is_dir()):
            raise ZooError(f"--out {out} exists and is not a folder")
        if out.is_dir() and any(out.iterdir()) and not force:
            raise ZooError(f"--out {out} is not empty: pull into a new or empty folder, or pass --force to replace "
                           "the model files in it")
    folder = download(repo_id, revision, token=token)
    if out is None:
        return folder
    out.mkdir(parents=True, exist_ok=True)
    for file in sorted(folder.iterdir()):
        if file.is_file() and (file.name in ("config.json", "README.md") or file.name.endswith(PULLED)):
            _copy_into(file, out)
    return out


PULLED = (".safetensors", ".png")


def _copy_into(file: Path, out: Path) -> None:
    """Copy ``file`` to ``out/<name>`` through a new temporary file and a rename: never through a link."""
    fd, tmp = tempfile.mkstemp(prefix=".zoo-pull-", dir=out)
    try:
        with os.fdopen(fd, "wb") as dst, open(file, "rb") as src:
            shutil.copyfileobj(src, dst)
        os.replace(tmp, out / file.name)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
