"""What every zoo model class offers from Python, whatever its family: the ecosystem's idiom.

:class:`ZooModelMixin` is mixed into each family's model class (``class DDPM(ZooModelMixin, nn.Module)``)
and gives it ``from_pretrained`` / ``save_pretrained`` / ``push_to_hub`` methods, ``dtype`` and
``device`` properties, and four ``generate`` options that no family has to implement itself:

* ``generator=``: a CPU ``torch.Generator`` to draw all randomness from (instead of ``seed=``);
* ``output_type=``: ``"pt"`` (a float tensor in [-1, 1], NCHW), ``"np"`` (float32 NHWC in [0, 1],
  as diffusers returns) or ``"pil"`` (a list of ``PIL.Image``);
* ``callback=``: ``callback(step, total)`` after every sampling step (every batch for one-shot GANs);
* the model's dtype: after ``model.to(torch.bfloat16)`` every layer gets its inputs in its own dtype,
  while noise and the sampler's arithmetic stay float32 (the same noise as a float32 run).

The mixin wraps the ``generate`` a family defines (in ``__init_subclass__``) so these options live in
one place; the family's own body sees none of them. :func:`zoo_core.generation.batched` and
:func:`zoo_core.generation.progress_bar` read them from a context variable set for the call.
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ZooError

OUTPUT_TYPES = ("pt", "np", "pil")


@dataclass(frozen=True)
class GenerateOptions:
    """The options of the ``generate`` call in progress (read by the core's batching and progress)."""

    generator: Any = None
    callback: Callable[[int, int], Any] | None = None


_CURRENT: contextvars.ContextVar[GenerateOptions | None] = contextvars.ContextVar("zoo_generate", default=None)


def current_options() -> GenerateOptions:
    """The options of the ``generate`` call in progress (defaults outside one)."""
    return _CURRENT.get() or GenerateOptions()


def _check_options(n: Any, generator: Any, output_type: str, callback: Any, seed: Any) -> None:
    import torch

    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ZooError(f"n must be a positive integer, got {n!r}")
    if output_type not in OUTPUT_TYPES:
        raise ZooError(f"output_type must be one of {', '.join(map(repr, OUTPUT_TYPES))}, got {output_type!r}")
    if callback is not None and not callable(callback):
        raise ZooError(f"callback must be callable as callback(step, total), got {type(callback).__name__}")
    if generator is None:
        return
    if not isinstance(generator, torch.Generator):
        raise ZooError(f"generator must be a torch.Generator, got {type(generator).__name__}")
    if generator.device.type != "cpu":
        raise ZooError(f"generator must be a CPU torch.Generator (noise is drawn on the CPU so every device "
                       f"gets the same images), got one on {generator.device}")
    if seed is not None:
        raise ZooError("give seed or generator, not both")


def convert_output(images: Any, output_type: str) -> Any:
    """``[-1, 1]`` NCHW images as ``output_type``: ``"pt"`` unchanged, ``"np"`` NHWC [0, 1], ``"pil"`` images.

    Args:
        images: a float tensor of shape (N, C, H, W) with values in [-1, 1].
        output_type: ``"pt"``, ``"np"`` or ``"pil"``.

    Returns:
        The tensor, a float32 ``numpy`` array of shape (N, H, W, C) in [0, 1], or a list of N PIL images.

    Example:
        >>> import torch
        >>> x = torch.tensor([-1.0, 0.0, 1.0]).reshape(1, 3, 1, 1)
        >>> convert_output(x, "np").reshape(-1).tolist()
        [0.0, 0.5, 1.0]
        >>> convert_output(x, "pil")[0].getpixel((0, 0))
        (0, 128, 255)
    """
    if output_type == "pt":
        return images
    if output_type == "np":
        return ((images.detach().float().clamp(-1, 1) + 1) / 2).permute(0, 2, 3, 1).cpu().numpy()
    if output_type == "pil":
        from .images import _pil, to_uint8

        return [_pil(img) for img in to_uint8(images)]
    raise ZooError(f"output_type must be one of {', '.join(map(repr, OUTPUT_TYPES))}, got {output_type!r}")


@contextmanager
def layer_dtypes(module: Any) -> Iterator[None]:
    """Cast each layer's floating inputs to its own parameters' dtype (for bf16/fp16 models).

    Samplers keep noise and arithmetic in float32; without this a bfloat16 layer would meet a
    float32 input. Only layers whose parameters are not float32 get a hook, and only for the call.
    """
    import torch

    def cast(dtype):
        def hook(_mod, args, kwargs):
            def one(a):
                return a.to(dtype) if isinstance(a, torch.Tensor) and a.is_floating_point() else a
            return tuple(one(a) for a in args), {k: one(v) for k, v in kwargs.items()}
        return hook

    handles = []
    for sub in module.modules():
        params = [p for p in sub.parameters(recurse=False) if p.is_floating_point()]
        if params and params[0].dtype != torch.float32:
            handles.append(sub.register_forward_pre_hook(cast(params[0].dtype), with_kwargs=True))
    try:
        yield
    finally:
        for h in handles:
            h.remove()


def _wrap_generate(fn: Callable) -> Callable:
    @functools.wraps(fn)
    def generate(self, n: int, *args: Any, generator: Any = None, output_type: str = "pt",
                 callback: Callable[[int, int], Any] | None = None, **kwargs: Any) -> Any:
        if _CURRENT.get() is not None:  # a subclass's generate calling super().generate
            return fn(self, n, *args, **kwargs)
        _check_options(n, generator, output_type, callback, kwargs.get("seed"))
        token = _CURRENT.set(GenerateOptions(generator, callback))
        try:
            with layer_dtypes(self):
                images = fn(self, n, *args, **kwargs)
        finally:
            _CURRENT.reset(token)
        return convert_output(images, output_type)

    generate.__doc__ = (fn.__doc__ or "") + _GENERATE_OPTIONS_DOC
    return generate


_GENERATE_OPTIONS_DOC = """

        Options every zoo model takes (see :mod:`zoo_core.modeling`):
            generator: a CPU ``torch.Generator`` to draw all randomness from, instead of ``seed``.
            output_type: ``"pt"`` (tensor in [-1, 1]), ``"np"`` (NHWC array in [0, 1]) or ``"pil"``.
            callback: ``callback(step, total)`` after each sampling step.
"""


class ZooModelMixin:
    """Python API shared by every zoo model: loading, saving, publishing and ``generate`` options.

    Example:
        >>> from zoo_core import create_model
        >>> model = create_model("dcgan", res=16, z_dim=4, channels=4)
        >>> model.dtype, model.device.type
        (torch.float32, 'cpu')
    """

    zoo_name: str

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "generate" in cls.__dict__:
            cls.generate = _wrap_generate(cls.__dict__["generate"])

    @classmethod
    def from_pretrained(cls, src: str | Path, **kwargs: Any) -> Any:
        """Load a saved model of this class (see :func:`zoo_core.from_pretrained` for the arguments).

        Args:
            src: a saved-model folder, a run folder or a Hub repo id.
            **kwargs: ``device``, ``torch_dtype``, ``revision``, ``cache_dir``, ``local_files_only``, ``token``.

        Returns:
            The model, in eval mode.

        Example:
            >>> import tempfile
            >>> from zoo_core import create_model
            >>> folder = create_model("dcgan", res=16, z_dim=4, channels=4).save_pretrained(
            ...     tempfile.mkdtemp())
            >>> type(create_model("dcgan", res=16, channels=4).from_pretrained(folder)).__name__
            'DCGAN'
        """
        from .hub import from_pretrained

        model = from_pretrained(src, **kwargs)
        if not isinstance(model, cls):
            raise ZooError(f"{src} holds a {model.zoo_name} model, not a {cls.__name__}; "
                           "use zoo_core.from_pretrained to load any model")
        return model

    def save_pretrained(self, directory: str | Path, **kwargs: Any) -> Path:
        """Write config.json, model.safetensors and a model card into ``directory``.

        Args:
            directory: the folder to write (created if needed).
            **kwargs: ``components`` (extra named modules) and ``card`` options of
                :func:`zoo_core.save_pretrained`.

        Returns:
            The folder, as a ``Path``.

        Example:
            >>> import tempfile
            >>> from zoo_core import create_model
            >>> model = create_model("dcgan", res=16, z_dim=4, channels=4)
            >>> sorted(p.name for p in model.save_pretrained(tempfile.mkdtemp()).iterdir())
            ['README.md', 'config.json', 'model.safetensors']
        """
        from .hub import save_pretrained

        return save_pretrained(self, directory, **kwargs)

    def push_to_hub(self, repo_id: str, **kwargs: Any) -> Any:
        """Publish this model to a Hub repo in one commit (the repo is created if needed).

        Args:
            repo_id: ``"owner/name"``.
            **kwargs: ``private``, ``token``, ``commit_message``, ``revision``, ``card``.

        Returns:
            huggingface_hub's ``CommitInfo``.

        Example:
            >>> model.push_to_hub("me/dcgan-shapes")  # doctest: +SKIP
        """
        from .hub import push_to_hub

        return push_to_hub(self, repo_id, **kwargs)

    @property
    def dtype(self) -> Any:
        """The dtype of the model's first floating parameter (what ``.to(dtype)`` set)."""
        for p in self.parameters():  # type: ignore[attr-defined]
            if p.is_floating_point():
                return p.dtype
        import torch

        return torch.float32

    @property
    def device(self) -> Any:
        """The device of the model's parameters."""
        import torch

        p = next(self.parameters(), None)  # type: ignore[attr-defined]
        return p.device if p is not None else torch.device("cpu")


def check_dtype(torch_dtype: Any) -> Any:
    """``torch_dtype`` as a floating ``torch.dtype`` (a name such as ``"bfloat16"`` is accepted), or None."""
    import torch

    if torch_dtype is None:
        return None
    if isinstance(torch_dtype, str):
        torch_dtype = getattr(torch, torch_dtype.removeprefix("torch."), torch_dtype)
    if not isinstance(torch_dtype, torch.dtype) or not torch_dtype.is_floating_point:
        raise ZooError(f"torch_dtype must be a floating torch dtype such as torch.bfloat16, got {torch_dtype!r}")
    return torch_dtype


def create_model(name: str, *, device: Any = None, torch_dtype: Any = None, **options: Any) -> Any:
    """A new, untrained model of a registered family, built from its config options.

    Args:
        name: a model name from ``zoo list`` (``"ddpm"``, ``"dcgan"``, ...).
        device: where to put it (default: the CPU).
        torch_dtype: a floating dtype to cast the weights to.
        **options: the family's config fields by their Python names (``res=32``, ``channel_mults=(1, 2)``);
            see ``zoo info NAME``.

    Returns:
        The model (a ``torch.nn.Module``), in eval mode.

    Example:
        >>> from zoo_core import create_model
        >>> model = create_model("ddpm", res=8, channels=8, channel_mults=(1, 2), attn_res=(), timesteps=10)
        >>> model.generate(2, seed=0).shape
        torch.Size([2, 3, 8, 8])
        >>> create_model("ddpm", channels="wide")
        Traceback (most recent call last):
        zoo_core.errors.ZooError: channels in create_model(): expected an integer, got 'wide'
    """
    from . import config as config_mod
    from .plugins import registry

    dtype = check_dtype(torch_dtype)
    spec = registry().model(name)
    cfg = config_mod.build(spec.load_config_class(), options, source="create_model()", python=True)
    model = spec.load_model_class()(cfg)
    if device is not None or dtype is not None:
        model = model.to(device=device, dtype=dtype)
    return model.eval()


_FLAGS = {"label": "--class", "prompt": "--prompt", "truncation": "--truncation", "eta": "--eta",
          "steps": "--steps", "sampler": "--sampler", "batch_size": "--batch-size"}


def unexpected_arguments(model: Any, kwargs: dict[str, Any], what: str = "generate") -> ZooError:
    """The error for ``generate`` keyword arguments a model does not take, naming the Python argument
    and the ``zoo sample`` flag, and what to use instead when the model is conditioned differently.

    Args:
        model: the model (its ``zoo_name`` and registered conditioning are used).
        kwargs: the arguments it does not take.
        what: the method's name.

    Returns:
        The ``ZooError`` to raise.

    Example:
        >>> class M:
        ...     zoo_name = "stackgan"
        >>> print(unexpected_arguments(M(), {"label": 3}))
        stackgan is conditioned on text, not on a class: pass prompt="..." (zoo sample --prompt) instead of label= (--class)
    """
    from .plugins import registry

    spec = registry().lookup("model", model.zoo_name)
    conditioning = spec.conditioning if spec else "none"
    names = sorted(kwargs)
    if names == ["label"] and conditioning == "text":
        return ZooError(f"{model.zoo_name} is conditioned on text, not on a class: pass prompt=\"...\" "
                        "(zoo sample --prompt) instead of label= (--class)")
    if names == ["label"] and conditioning == "none":
        return ZooError(f"{model.zoo_name} is unconditional: drop label= (--class)")
    if names == ["prompt"] and conditioning != "text":
        return ZooError(f"{model.zoo_name} does not take a text prompt (prompt= / --prompt)"
                        + ("; pass label=K (--class K)" if conditioning == "class" else ""))
    shown = ", ".join(f"{k}= ({_FLAGS.get(k, f'zoo sample -o {k}=...')})" for k in names)  # no --{k} flag exists
    return ZooError(f"{model.zoo_name}.{what}() does not take {shown}")
