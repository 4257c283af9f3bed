"""Class labels and named attributes: one vocabulary for the data, a model's config and ``--class``.

A labelled model or dataset has either one class label (names such as ``"banded"``; the DTD release, class
folders) or several *attributes*, each with its own values (pytorch_GAN_zoo's FashionGen AC-GAN:
gender, category, pose). Both are written as one flat list of names, one per one-hot input of an AC-GAN
generator (one per logit of its discriminator's class head), in input order: several attributes are named
``"attribute=value"``, each attribute's values together, attributes in their input order. So a config keeps
it in one JSON/TOML-friendly string list (``class_names``), and a single class label stays what it was.

Labels follow the same rule: one attribute gives each image one class index, several give a tuple of
indices, one per attribute; -1 marks a value the data do not know (skipped by the class loss).
Per-image attributes come from an ``attributes.json`` beside the images (pytorch_GAN_zoo's attribDict
format: relative image path -> {attribute: value}). Imports no torch.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ZooError

SEP = "="  # "attribute=value"
ATTRIBUTES_FILE = "attributes.json"
MAX_ATTRIBUTES_BYTES = 512 << 20  # FashionGen's 290k images take ~60 MB; far more is no label file


def name_list(names: Sequence[str], most: int = 20) -> str:
    """``a, b, c`` for messages; past ``most`` names, ``... (N more)``: a model's config may name 100,000."""
    names = [str(n) for n in names]
    more = f", ... ({len(names) - most} more)" if len(names) > most else ""
    return ", ".join(names[:most]) + more


@dataclass(frozen=True)
class ClassLayout:
    """The class input of a conditional model: its attributes, each one's value names (empty: unnamed) and size."""

    attributes: tuple[str, ...]
    values: tuple[tuple[str, ...], ...]
    sizes: tuple[int, ...]

    @classmethod
    def of(cls, num_classes: int, names: Sequence[str] = ()) -> ClassLayout:
        """The layout of ``num_classes`` one-hot inputs named ``names`` (see the module docstring); a ValueError
        when the names do not fit (wrong count, an attribute split in two, a repeated value)."""
        names = [str(n) for n in names]
        if not names:
            return cls(("",), ((),), (num_classes,)) if num_classes else cls((), (), ())
        if len(names) != num_classes:
            raise ValueError(f"class_names has {len(names)} names for {num_classes} classes (num_classes)")
        groups: dict[str, list[str]] = {}
        if all(SEP in n for n in names) and len({n.split(SEP, 1)[0] for n in names}) > 1:
            last = None
            for n in names:
                attribute, value = n.split(SEP, 1)
                if attribute != last and attribute in groups:
                    raise ValueError(f"class_names: the values of attribute {attribute!r} must be listed together")
                groups.setdefault(attribute, []).append(value)
                last = attribute
        else:
            groups[""] = names
        for attribute, values in groups.items():
            repeated = sorted({v for v in values if values.count(v) > 1})
            if repeated:
                where = f" of attribute {attribute!r}" if attribute else ""
                raise ValueError(f"class_names{where} repeats {', '.join(map(repr, repeated))}")
        return cls(tuple(groups), tuple(tuple(v) for v in groups.values()), tuple(len(v) for v in groups.values()))

    @property
    def multi(self) -> bool:
        """Several attributes (labels are one index per attribute), not one class label."""
        return len(self.sizes) > 1

    def names(self) -> list[str]:
        """The flat names, one per one-hot input (empty when unnamed)."""
        if not self.multi:
            return list(self.values[0]) if self.values else []
        return [f"{a}{SEP}{v}" for a, values in zip(self.attributes, self.values, strict=True) for v in values]

    def describe(self) -> str:
        """``gender (2 values), category (5 values)`` for messages."""
        return ", ".join(f"{a} ({k} values)" for a, k in zip(self.attributes, self.sizes, strict=True))

    def value_index(self, i: int, value: Any, flag: str = "--class") -> int:
        """The index of ``value`` (a value name, or an index as int or digits) of attribute ``i``; else a ZooError
        listing the valid names."""
        names, k = self.values[i], self.sizes[i]
        where = f" {self.attributes[i]}" if self.attributes[i] else ""
        if isinstance(value, str) and value.strip() in names:
            return names.index(value.strip())
        try:
            index = operator.index(int(value.strip()) if isinstance(value, str) else value)
        except (TypeError, ValueError):
            index = None
        if isinstance(value, bool) or index is None or not 0 <= index < k:
            valid = f"one of {name_list(names)} (or an index 0..{k - 1})" if names else f"an integer 0..{k - 1}"
            raise ZooError(f"{flag}: no{where} value {value!r}; valid{where} values: {valid}")
        return index

    def choice(self, label: Any, flag: str = "--class") -> dict[int, int]:
        """Parse a several-attribute ``label``: ``"gender=woman,pose=id_gridfs_1"``, a mapping ``{attribute: value}``
        or one value per attribute (a sequence). Returns attribute position -> value index; attributes left out
        are drawn at random by the caller."""
        if isinstance(label, str):
            pairs = []
            for item in (s for s in label.split(",") if s.strip()):
                attribute, sep, value = item.partition(SEP)
                if not sep:
                    raise ZooError(f"{flag} for this model names attribute values, ATTRIBUTE=VALUE[,ATTRIBUTE=VALUE...] "
                                   f"(attributes: {self.describe()}; unnamed ones are drawn at random), got {label!r}")
                pairs.append((attribute.strip(), value))
        elif isinstance(label, Mapping):
            pairs = [(str(a), v) for a, v in label.items()]
        elif isinstance(label, Sequence) and len(label) == len(self.sizes):
            return {i: self.value_index(i, v, flag) for i, v in enumerate(label)}
        else:
            raise ZooError(f"{flag} for this model takes ATTRIBUTE=VALUE[,...] (a dict in Python), one value per "
                           f"attribute ({self.describe()}), got {label!r}")
        out = {}
        for attribute, value in pairs:
            if attribute not in self.attributes:
                raise ZooError(f"{flag}: no attribute {attribute!r}; this model's attributes: {self.describe()}")
            out[self.attributes.index(attribute)] = self.value_index(self.attributes.index(attribute), value, flag)
        return out


def image_labels(root: Path, paths: Sequence[Path], source: str = "auto") -> tuple[list[str], list[Any], list[str]]:
    """``(class_names, labels, attributes)`` of the images ``paths`` under ``root`` (``--labels``: auto, folders or
    none). Auto takes ``root/attributes.json`` when there is one, else the first-level folders when there are at
    least two and no image lies beside them; unlabelled images are -1. Several attributes give ``attributes``
    their names and ``class_names`` none (each label is then a tuple, see :func:`read_attributes`)."""
    if source == "auto" and (root / ATTRIBUTES_FILE).is_file():
        names, labels = read_attributes(root, paths)
        return ([], labels, names) if isinstance(labels[0], tuple) else (names, labels, [])
    first = [parts[0] if len(parts) > 1 else "" for parts in (p.relative_to(root).parts for p in paths)]
    folders = sorted(set(first))
    if source == "folders" and "" in folders:
        raise ZooError(f"--labels folders: some images lie directly in {root}, not in a class folder")
    if source == "folders" or (source == "auto" and len(folders) >= 2 and "" not in folders):
        index = {f: i for i, f in enumerate(folders)}  # a lookup per image, not a scan of every class name
        return folders, [index[f] for f in first], []
    return [], [-1] * len(paths), []


def read_attributes(root: Path, paths: Sequence[Path]) -> tuple[list[str], list[Any]]:
    """Names (see :class:`ClassLayout`) and per-image labels from ``root/attributes.json`` for the images ``paths``.

    Attributes and their values are sorted, like class folders; one attribute gives plain value names and an
    index per image, several give ``attribute=value`` names and a tuple per image. Images the file does not
    list, and attributes it does not give for an image, are -1 (unknown).
    """
    from .importing import read_json

    path = root / ATTRIBUTES_FILE
    table = read_json(path, "label file", MAX_ATTRIBUTES_BYTES)  # bounded, one-line errors
    if not all(isinstance(v, dict) for v in table.values()):
        raise ZooError(f"{path} must map each image path (relative to the folder) to {{attribute: value}}")
    rows = [table.get(p.relative_to(root).as_posix()) or {} for p in paths]
    if not any(rows):
        raise ZooError(f"{path} names none of the {len(paths)} images under {root} (keys are paths relative to it, "
                       "e.g. \"shirts/001.jpg\"); fix the keys, or pass --labels none")
    values: dict[str, set[str]] = {}
    for row in rows:
        for attribute, value in row.items():
            if not isinstance(value, (str, int)) or isinstance(value, bool) or SEP in str(attribute):
                raise ZooError(f"{path}: attribute {attribute!r} has value {value!r}; expected a name or number "
                               f"(and attribute names without {SEP!r})")
            values.setdefault(str(attribute), set()).add(str(value))
    order = {a: sorted(v) for a, v in sorted(values.items())}
    index = [(a, {v: i for i, v in enumerate(vs)}) for a, vs in order.items()]
    labels: list[Any] = [tuple(m[str(row[a])] if a in row else -1 for a, m in index) for row in rows]
    if len(order) == 1:
        return next(iter(order.values())), [t[0] for t in labels]
    return ClassLayout(tuple(order), tuple(map(tuple, order.values())), tuple(map(len, order.values()))).names(), labels


def relabel(labels: list[Any], old: ClassLayout, new: ClassLayout) -> list[Any]:
    """``labels`` indexed by ``old`` re-indexed by ``new`` (a model's order), matched by attribute and value name;
    ``new``'s attributes the data lack become -1. A ZooError names a data attribute or value ``new`` lacks."""
    columns = []
    for a, names in zip(old.attributes, old.values, strict=True):
        if a not in new.attributes:
            raise ZooError(f"the data have attribute {a!r}, which the model is not conditioned on "
                           f"(its attributes: {new.describe()})")
        j = new.attributes.index(a)
        missing = [v for v in names if v not in new.values[j]]
        if missing:
            where = f"attribute {a!r} " if a else "class names "
            raise ZooError(f"the data's {where}{', '.join(map(repr, missing[:5]))} are unknown to the model (it knows "
                           f"{name_list(new.values[j])}); rename or drop those labels")
        columns.append((j, [new.values[j].index(v) for v in names]))

    def one(label: Any) -> Any:
        old_row = label if old.multi else (label,)
        row = [-1] * len(new.sizes)
        for (j, table), i in zip(columns, old_row, strict=True):
            row[j] = table[i] if i >= 0 else -1
        return tuple(row) if new.multi else row[0]

    return [one(label) for label in labels]
