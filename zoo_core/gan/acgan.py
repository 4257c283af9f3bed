"""AC-GAN class conditioning (Odena et al. 2017), shared by every GAN family that offers ``--class-cond``.

G takes a one-hot of the class after its latent; D gets an auxiliary head of class logits. D's head
learns the class of *real* images only (cross-entropy on labelled reals) and G learns to make fakes
that head classifies as the class drawn for them: pytorch_GAN_zoo's AC-GAN does the same, and it
keeps replayed fakes (whose classes are not tracked) out of the class loss.

Several attributes (pytorch_GAN_zoo's FashionGen release: gender, category, pose) are the same machinery
with one one-hot segment per attribute: G's input is the noise then each attribute's one-hot in order,
D has one logit per value and the class loss is the sum of each attribute's cross-entropy over its slice
of the logits (their ``ACGANCriterion``). The attributes and value names live in the config's
``class_names`` (see :mod:`zoo_core.labels`); one attribute is exactly the single-class case.

Three pieces, so a family writes only its networks:

* :class:`ClassCondOptions`: the ``--class-cond`` / ``--num-classes`` / ``--ac-weight`` config fields
  and the ``class_names`` the data (or an imported checkpoint) gave;
* :class:`ACGANGenerator`: ``adapt_config`` (classes and names from the data), ``labels_for`` (the
  ``label=`` / ``--class`` argument, an index or a name) and ``condition_for_seed`` (interpolations keep
  seed A's class);
* :class:`ACGANTrainer`: a ``GANTrainer`` mixin with the two class-loss terms and D's output split.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import Any, ClassVar

from zoo_core.config import opt
from zoo_core.errors import ZooError
from zoo_core.labels import ClassLayout, relabel
from zoo_core.rng import seeded


@dataclass
class ClassCondOptions:
    """Config fields of a class-conditional GAN; mix in before ``GANOptions``. Imports no torch."""

    HELP_SECTION: ClassVar[str] = "class conditioning (AC-GAN)"  # its own heading, after the model's options

    class_cond: bool = opt(False, "AC-GAN: condition G on the class and give D an auxiliary classifier "
                                  "(needs labelled data; the class count is read from it)")
    num_classes: int = opt(0, "number of classes (filled in from the data with --class-cond)",
                           min=0, max=100000)
    ac_weight: float = opt(1.0, "weight of the auxiliary classification loss with --class-cond",
                           min=0.0, max=1000.0)
    class_names: tuple[str, ...] = opt((), "a name per class (per one-hot input; attribute=value for several "
                                           "attributes), filled in from the data or an imported checkpoint",
                                       max_items=100000, cli=False)

    def check_class_options(self) -> None:
        """A class count without --class-cond would be silently ignored: refuse it; names must fit the count."""
        if self.num_classes and not self.class_cond:
            raise ValueError("--num-classes is only used with --class-cond")
        self.class_names = tuple(str(n) for n in self.class_names)
        self.class_layout()  # a ValueError when the names do not fit the count

    def class_layout(self) -> ClassLayout:
        """The attributes G is conditioned on (none when unconditional or the count is still unknown)."""
        if not self.class_cond or not self.num_classes:
            return ClassLayout.of(0)
        return ClassLayout.of(self.num_classes, self.class_names)


class ACGANGenerator:
    """Mixin for a GAN model (before ``GANGenerator``) whose config has :class:`ClassCondOptions`."""

    zoo_name: str
    config: Any

    def class_count(self) -> int:
        """Classes G is conditioned on (0: unconditional); a ZooError if --class-cond has no count."""
        if self.config.class_cond and not self.config.num_classes:
            raise ZooError(f"{self.zoo_name} --class-cond needs the number of classes: train on labelled data "
                           "(class folders, builtin:shapes) or set --num-classes")
        return sum(self.layout.sizes)

    @functools.cached_property
    def layout(self) -> ClassLayout:
        """The attributes G is conditioned on, their value names and one-hot sizes (from the config)."""
        return self.config.class_layout()

    @classmethod
    def adapt_config(cls, config, data_info):
        """With --class-cond, read the classes (and names) from the data: an error if it has no labels, or others
        than the model already has (--num-classes, an --init model). Data labels named like the model's are
        re-indexed onto the model's order (``data_info.labels`` in place), so sorted class folders or an
        attributes.json fine-tune a converted model whatever order it was trained in."""
        if not config.class_cond:
            return config
        model = config.class_layout()
        data_names = data_info.attributes or data_info.class_names
        found = len(data_info.attributes) or data_info.num_classes
        if model.multi and not data_info.attributes:
            raise ZooError(f"this {cls.zoo_name} is conditioned on several attributes ({model.describe()}): add an "
                           "attributes.json to the image folder mapping each image path to {attribute: value} "
                           "for two or more of them")
        if not found:
            raise ZooError(f"{cls.zoo_name} --class-cond needs labelled data (class sub-folders, builtin:shapes or an "
                           "attributes.json); this data has no labels: drop --class-cond")
        data = ClassLayout.of(found, data_names)
        named_alike = model.multi or data.multi or set(data_names) <= set(model.names())
        if config.class_names and data_names and named_alike:
            if data.multi and not model.multi:
                raise ZooError(f"the data have several attributes ({data.describe()}) but the model has one class "
                               "label: train a new model (without --init)")
            data_info.labels[:] = relabel(list(data_info.labels), data, model)  # the data's order -> the model's
            return config
        if config.num_classes and config.num_classes != found:
            raise ZooError(f"the model has {config.num_classes} classes (--num-classes or the --init model) but the "
                           f"data has {found}: train on data with {config.num_classes} class folders")
        return dataclasses.replace(config, num_classes=found, class_names=tuple(data_names))

    def labels_for(self, n: int, label: Any, generator):
        """Class labels for ``label=`` (``zoo sample --class``): an index or name, drawn from ``generator`` when None;
        with several attributes ``[n, attributes]`` from ``"attribute=value,..."`` (or a dict), the attributes
        left out drawn at random."""
        import torch

        from zoo_core.generation import class_labels

        layout, device = self.layout, self._device()
        if not layout.multi:
            attribute_like = isinstance(label, dict) or (isinstance(label, str) and "=" in label
                                                         and label not in layout.names())
            if self.num_classes and attribute_like:
                raise ZooError(f"this {self.zoo_name} has one class label, not attributes: pass --class NAME or INDEX")
            names = layout.values[0] if layout.values else ()
            return class_labels(n, label, self.num_classes, generator, device, f"this {self.zoo_name}", names)
        chosen = {} if label is None else layout.choice(label)
        columns = [torch.randint(0, k, (n,), generator=generator) for k in layout.sizes]
        for i, value in chosen.items():
            columns[i] = torch.full((n,), value, dtype=torch.long)
        return torch.stack(columns, dim=1).to(device)

    def condition_for_seed(self, seed: int, truncation: float | None = None) -> dict:
        """The class ``generate(1, seed=seed)`` draws, so interpolations keep seed A's class."""

        from .latent import truncated_noise

        if not self.num_classes:
            return {}
        g = seeded(seed)
        truncated_noise((1, *self.latent_shape), truncation, g)  # advance past z, as the sampler does
        labels = self.labels_for(1, None, g)[0]
        return {"label": labels.tolist() if self.layout.multi else int(labels)}


def one_hot_after(z, label, sizes: int | tuple[int, ...]):
    """``[z, one_hot(label)]``: the AC-GAN generator input (``z`` alone when unconditional). With several
    attributes (``sizes`` one per attribute) ``label`` is [B, attributes] and each gets its one-hot, in order."""
    import torch

    sizes = (sizes,) if isinstance(sizes, int) else tuple(sizes)
    if not sum(sizes):
        return z
    if label is None:
        raise ValueError("a class-conditional generator needs a label per latent")
    columns = label.reshape(len(label), -1)
    if columns.shape[1] != len(sizes):
        raise ValueError(f"expected {len(sizes)} label(s) per latent (one per attribute), got {columns.shape[1]}")
    hots = [torch.nn.functional.one_hot(columns[:, i], k).to(z.dtype) for i, k in enumerate(sizes)]
    return torch.cat([z, *hots], dim=1)


def class_loss(logits, labels, sizes: tuple[int, ...]):
    """The AC-GAN class loss and accuracy: per attribute, the cross-entropy of its slice of ``logits`` against its
    column of ``labels`` (entries -1 skipped), summed over attributes as pytorch_GAN_zoo's ACGANCriterion does,
    and the accuracy averaged over them; ``(None, None)`` when no label is known."""
    import torch.nn.functional as F

    columns, total, hits, start = labels.reshape(len(labels), -1), None, [], 0
    for i, k in enumerate(sizes):
        known = columns[:, i] >= 0
        if bool(known.any()):
            part, target = logits[known, start:start + k].float(), columns[known, i]
            ce = F.cross_entropy(part, target)
            total = ce if total is None else total + ce
            hits.append(float((part.argmax(1) == target).float().mean()))
        start += k
    return total, (sum(hits) / len(hits) if hits else None)


class ACGANTrainer:
    """Mixin for a ``GANTrainer`` subclass: random fake classes, D's class head and the AC-GAN loss terms.

    D returns a score tensor, or ``(score, class_logits)`` when conditional; :meth:`split_out` makes
    the latter the dict the trainer's loss hooks read.
    """

    def fake_labels(self, n: int):
        """A random class per fake ([n, attributes] with several attributes; None when unconditional)."""
        import torch

        if not self.model.num_classes:
            return None
        sizes = self.model.layout.sizes
        columns = [torch.randint(0, k, (n,), device=self.device) for k in sizes]
        return columns[0] if len(columns) == 1 else torch.stack(columns, dim=1)

    @staticmethod
    def split_out(out):
        if isinstance(out, tuple):
            return {"score": out[0], "class_logits": out[1]}
        return out

    def extra_d_loss(self, real_out, fake_out, batch, fake):
        if not self.model.num_classes:
            return None, {}
        ce, acc = class_loss(real_out["class_logits"], batch["label"], self.model.layout.sizes)
        if ce is None:
            return None, {}
        return self.config.ac_weight * ce, {"ac_d": float(ce.detach()), "ac_acc_real": acc}

    def extra_g_loss(self, fake_out, batch, fake):
        if not self.model.num_classes:
            return None, {}
        ce, acc = class_loss(fake_out["class_logits"], fake["label"], self.model.layout.sizes)
        return self.config.ac_weight * ce, {"ac_g": float(ce.detach()), "ac_acc_fake": acc}


def gan_zoo_class_names(attrib: Any, width: int, source: str) -> list[str]:
    """Class names (see :mod:`zoo_core.labels`) from pytorch_GAN_zoo's pickled ``attribKeysOrder``
    (``{attribute: {"order": i, "values": [names]}}``, their ``AttribDataset.getKeyOrders``): attributes by
    ``order``, as their ``ACGANCriterion`` lays the one-hots out. ``[]`` when it has none; a ZooError when it does
    not describe the generator's ``width`` class inputs. Their optional per-value loss ``weights`` are not kept."""
    if not attrib:
        return []
    try:
        ordered = sorted(attrib.items(), key=lambda item: int(item[1]["order"]))
        groups = {str(a): [str(v) for v in spec["values"]] for a, spec in ordered}
        orders = sorted(int(spec["order"]) for spec in attrib.values())
    except (AttributeError, KeyError, TypeError, ValueError):
        raise ZooError(f"{source}'s attribKeysOrder is not {{attribute: {{'order': i, 'values': [...]}}}}") from None
    sizes = [len(v) for v in groups.values()]
    if orders != list(range(len(groups))) or sum(sizes) != width:
        raise ZooError(f"{source}'s attribKeysOrder (orders {orders}, {sum(sizes)} values) does not describe its "
                       f"generator's {width} class inputs")
    names = next(iter(groups.values())) if len(groups) == 1 else \
        [f"{a}={v}" for a, values in groups.items() for v in values]
    try:
        layout = ClassLayout.of(width, names)
    except ValueError as exc:
        raise ZooError(f"{source}'s attribKeysOrder: {exc}") from None
    if list(layout.sizes) != sizes or any("," in a or "=" in a for a in groups if len(groups) > 1):
        raise ZooError(f"{source}'s attribKeysOrder has names zoo cannot keep apart (an attribute name with '=' "
                       "or ',', or values like 'a=b'): convert with another format")
    return names
