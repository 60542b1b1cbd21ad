"""Chapter parameters: declared once, in the chapter's parameters cell; converted and checked before any work.

A chapter's ``parameters`` cell (the one papermill overrides) is a list of annotated assignments,
and the annotation *is* the declaration: the type, and where it has one the range (``Annotated``
constraints) or the allowed values (``Literal``)::

    seeds: Seeds = [0]  # one run per seed
    bits: CodeLengths = [12, 24, 32, 48]  # code lengths of Tables 1-2
    learning_rate: PositiveFloat = 1e-3
    backbone: Backbone = "small-cnn"

The names in the annotations are this module's vocabulary, imported by a hidden cell above the
parameters cell. :func:`chapter_declarations` reads them from a notebook without a kernel;
:func:`check_parameters` converts given values to the declared types (pydantic does the
conversion) and runs the checks that need several parameters at once, :data:`JOINT_CHECKS`:
the runner (:mod:`hashkit.book`) calls it before any kernel starts, and
:func:`check_namespace` does it again inside the notebook, so that papermill alone is checked too.

A value given on the command line (``-p name value``) is read by :func:`read_value`: as a Python
literal when it is one (``1e-4``, ``None``, ``[1e-5, 1e-4]``, ``{"a": 1}``), else as YAML
(``null``, ``true``, ``cuda``, ``{a: 1}``). YAML alone would read ``1e-4`` as a string.

A name means the same in every chapter that declares it. :data:`BOOK_WIDE` are the parameters
that may be given to the whole book at once; each chapter that declares them gets them.
"""

from __future__ import annotations

import importlib

import ast
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (AfterValidator, Field, NonNegativeFloat, NonNegativeInt, PositiveFloat, PositiveInt, TypeAdapter,
                      ValidationError)

# The parameters every chapter may be given book-wide; a chapter that has no use for one (chapter 0
# trains no network, so ``device`` means nothing there) does not declare it and is not given it.
BOOK_WIDE = ("seeds", "device", "data_root", "smoke", "progress")
PARAMETERS_TAG = "parameters"


class ParameterError(ValueError):
    """A chapter parameter that is unknown, of the wrong type, out of range, or names a file that does not fit."""


def _existing_folder(value: str) -> str:
    path = Path(value).expanduser()
    if not path.is_dir():
        raise ValueError(f"no folder at {value!r}")
    return str(path.resolve())


def _existing_file(value: str) -> str:
    path = Path(value).expanduser()
    if not path.is_file():
        raise ValueError(f"no file at {value!r}")
    return str(path.resolve())


def _available_device(value: str) -> str:
    if value == "cpu":
        return value  # no need to import torch for the common case
    from hashkit.runtime import resolve_device

    resolve_device(value)
    return value


def _dataset_folder(dataset: str, data_root: str | None) -> Path:
    """Where ``dataset`` is read from; a ``data_root`` that was given must hold it (no silent fallback)."""
    from hashkit.data import locate_dataset

    found = locate_dataset(dataset, data_root).resolve()
    if data_root is not None and not found.is_relative_to(Path(data_root).resolve()):
        raise FileNotFoundError(f"data_root {data_root!r} does not hold {dataset} (found one in {found} instead)")
    return found


def _folder_holding(dataset: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        value = _existing_folder(value)
        try:
            _dataset_folder(dataset, value)
        except FileNotFoundError as error:
            raise ValueError(str(error)) from None  # pydantic reports ValueErrors with the parameter's name
        return value

    return check


def _known_backbone(value: str) -> str:
    from hashkit.deep.backbones import BACKBONES  # torch is imported only when a backbone is named

    if value not in BACKBONES:
        raise ValueError(f"unknown backbone {value!r}; expected one of {', '.join(BACKBONES)}")
    return value


# The vocabulary of the chapters' annotations.
Seeds = Annotated[list[NonNegativeInt], Field(min_length=1)]
CodeLength = Annotated[int, Field(ge=1, le=4096)]
CodeLengths = Annotated[list[CodeLength], Field(min_length=1)]
Count = PositiveInt
Fraction = Annotated[float, Field(ge=0, le=1)]
Folder = Annotated[str, AfterValidator(_existing_folder)]
FashionMNISTFolder = Annotated[str, AfterValidator(_folder_holding("fashion-mnist"))]
WeightsFile = Annotated[str, AfterValidator(_existing_file)]
Device = Annotated[str, AfterValidator(_available_device)]
Backbone = Annotated[str, AfterValidator(_known_backbone)]
Options = dict[str, Any]
SingleLabelDataset = Literal["fashion-mnist", "cifar10"]
MultiLabelDataset = Literal["fashion-mosaic", "nus-wide", "ms-coco", "mir-flickr"]
# How an error message spells each type of the vocabulary.
READABLE = {
    "Seeds": "a non-empty list of seeds (ints >= 0)", "CodeLength": "a code length (an int in 1..4096)",
    "CodeLengths": "a non-empty list of code lengths (ints in 1..4096)", "Count": "a count (an int >= 1)",
    "PositiveInt": "an int >= 1", "NonNegativeInt": "an int >= 0", "PositiveFloat": "a number > 0",
    "NonNegativeFloat": "a number >= 0", "Fraction": "a number in [0, 1]", "Folder": "an existing folder",
    "FashionMNISTFolder": "a folder holding Fashion-MNIST's four *-ubyte.gz files",
    "WeightsFile": "an existing weights file", "Device": "'cpu', or 'cuda'/'cuda:N' where a GPU is present",
    "Backbone": "a backbone name (hashkit.deep.backbones.BACKBONES)", "Options": "a dict of options",
    "SingleLabelDataset": "'fashion-mnist' or 'cifar10'",
    "MultiLabelDataset": "'fashion-mosaic', 'nus-wide', 'ms-coco' or 'mir-flickr'",
    "None": "None", "bool": "true or false", "int": "an int", "float": "a number", "str": "a string",
}
VOCABULARY = ("Seeds", "CodeLength", "CodeLengths", "Count", "Fraction", "Folder", "FashionMNISTFolder", "WeightsFile", "Device",
              "Backbone", "Options", "SingleLabelDataset", "MultiLabelDataset", "PositiveInt", "PositiveFloat",
              "NonNegativeInt", "NonNegativeFloat", "Literal", "Any")


@dataclass(frozen=True)
class Declared:
    """One declared parameter: its name, type (and the annotation as written), default and help text."""

    name: str
    annotation: Any
    type_text: str
    default: Any
    help: str

    def convert(self, value: Any, chapter: str) -> Any:
        """``value`` as the declared type, or a :class:`ParameterError` naming the parameter."""
        try:
            return TypeAdapter(self.annotation).validate_python(value)
        except ValidationError as error:
            reasons = "; ".join(_reason(detail) for detail in error.errors())
            raise ParameterError(
                f"chapter {chapter!r}, parameter {self.name!r}: expected {self.readable_type}, got {value!r} "
                f"({type(value).__name__}): {reasons}"
            ) from None

    @property
    def readable_type(self) -> str:
        """The declared type in words: ``CodeLengths | None`` → ``a non-empty list of code lengths … or None``."""
        return " or ".join(READABLE.get(part.strip(), part.strip()) for part in self.type_text.split("|"))


def _reason(detail: Mapping[str, Any]) -> str:
    where = "".join(f"[{part!r}]" for part in detail["loc"] if not isinstance(part, str) or part != "function-after")
    message = str(detail["msg"]).removeprefix("Value error, ")
    return f"{where} {message}".strip()


def read_value(text: str) -> Any:
    """A command-line value: a Python literal if it is one, else YAML (see the module docstring)."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        pass
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ParameterError(f"value {text!r} is neither a Python literal nor YAML: {error}") from None


def _trailing_comment(line: str, end_column: int) -> str:
    rest = line[end_column:].strip()
    return rest[1:].strip() if rest.startswith("#") else ""


def declarations_from_source(preamble: str, parameters_cell: str, origin: str) -> dict[str, Declared]:
    """The parameters declared by ``parameters_cell`` (after running ``preamble``, its imports)."""
    tree = ast.parse(parameters_cell, filename=origin)
    lines = parameters_cell.splitlines()
    namespace: dict[str, Any] = {}
    exec(compile(preamble, origin, "exec"), namespace)  # noqa: S102 - the chapter's own import cell
    declared = {}
    for node in tree.body:
        if not isinstance(node, ast.AnnAssign) or not isinstance(node.target, ast.Name) or node.value is None:
            raise ParameterError(
                f"{origin}, line {node.lineno}: a parameters cell holds only annotated assignments "
                f"(name: Type = value); found {ast.unparse(node)!r}"
            )
        name = node.target.id
        declared[name] = Declared(
            name=name,
            annotation=eval(compile(ast.Expression(node.annotation), origin, "eval"), namespace),  # noqa: S307
            type_text=ast.unparse(node.annotation),
            default=ast.literal_eval(node.value),
            help=_trailing_comment(lines[node.end_lineno - 1], node.end_col_offset),
        )
    return declared


def chapter_declarations(notebook: Any, origin: str) -> dict[str, Declared]:
    """The parameters a notebook (an ``nbformat`` notebook) declares in its cell tagged ``parameters``.

    The code cells before it are its preamble (the import of this vocabulary) and are run to
    evaluate the annotations; they must be cheap.
    """
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    tagged = [position for position, cell in enumerate(code_cells)
              if PARAMETERS_TAG in cell.get("metadata", {}).get("tags", [])]
    if len(tagged) != 1:
        raise ParameterError(f"{origin}: expected exactly one code cell tagged {PARAMETERS_TAG!r}, found {len(tagged)}")
    preamble = "\n".join(cell.source for cell in code_cells[:tagged[0]])
    return declarations_from_source(preamble, code_cells[tagged[0]].source, origin)


# Checks that need several parameters; each runs when a chapter declares all of its names.
def _check_backbone(values: Mapping[str, Any]) -> None:
    from hashkit.deep.backbones import build_backbone, check_backbone_options

    name, options, weights = values["backbone"], values["backbone_options"] or {}, values["pretrained_weights"]
    try:
        check_backbone_options(name, options)
    except TypeError as error:
        raise ParameterError(f"parameter 'backbone_options': {error} (options {options!r}); "
                             "give options for this backbone, or -p backbone_options '{}'") from None
    if weights is not None:
        # Built once here, so that a weights file that is unreadable or of another network fails now.
        try:
            build_backbone(name, 3, (224, 224), pretrained_weights=weights, **options)
        except ValueError as error:
            raise ParameterError(f"parameter 'pretrained_weights': {error}") from None


def _check_dataset(name_parameter: str) -> Callable[[Mapping[str, Any]], None]:
    def check(values: Mapping[str, Any]) -> None:
        data_root = values["data_root"] if name_parameter == "dataset" else None
        try:
            _dataset_folder(values[name_parameter], data_root)
        except FileNotFoundError as error:
            raise ParameterError(f"parameters {name_parameter!r} and 'data_root': {error}") from None

    return check


def _chapter_check(module: str, function: str) -> Callable[[Mapping[str, Any]], None]:
    """A chapter's own check of its parameters, its ``ValueError`` as a :class:`ParameterError`;
    imported only when that chapter runs (DSHC's needs scikit-learn's k-means)."""
    def check(values: Mapping[str, Any]) -> None:
        try:
            getattr(importlib.import_module(module), function)(values)
        except ValueError as error:
            raise ParameterError(str(error)) from None

    return check


JOINT_CHECKS: tuple[tuple[tuple[str, ...], Callable[[Mapping[str, Any]], None]], ...] = (
    (("backbone", "backbone_options", "pretrained_weights"), _check_backbone),
    (("dataset", "data_root"), _check_dataset("dataset")),
    (("multi_label_dataset", "data_root"), _check_dataset("multi_label_dataset")),
    (("bits", "kbc_bits", "kbc_threshold", "kbc_seed", "top_k_subclasses", "top_k_grid", "table1_bits", "table2_bits"),
     _chapter_check("hashkit.experiments.dshc", "check_codes_parameters")),
    (("betas", "lambda1", "lambda2", "generator_channels", "k1", "k2", "fig2_k1", "train_per_class", "cifar10_root",
      "nus_wide_root"), _chapter_check("hashkit.experiments.bgan", "check_chapter_parameters")),
    (("k1", "k2", "train_per_class", "mosaic_train"), _chapter_check("hashkit.experiments.dsah", "check_chapter_parameters")),
    (("bits", "epochs", "target_f1"), _chapter_check("hashkit.experiments.compare", "check_chapter_parameters")),
)


def check_parameters(chapter: str, declared: Mapping[str, Declared], given: Mapping[str, Any]) -> dict[str, Any]:
    """``given`` converted to the declared types; raises :class:`ParameterError` before any work.

    Every declared parameter is checked, the defaults too, and then :data:`JOINT_CHECKS`.
    """
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise ParameterError(
            f"chapter {chapter!r}: unknown parameter(s) {', '.join(unknown)}; it declares: {', '.join(sorted(declared))}"
        )
    values = {name: spec.convert(given.get(name, spec.default), chapter) for name, spec in declared.items()}
    for names, check in JOINT_CHECKS:
        if all(name in values for name in names):
            try:
                check(values)
            except ParameterError as error:
                raise ParameterError(f"chapter {chapter!r}, {error}") from None
    return {name: values[name] for name in given}


def check_namespace(namespace: dict[str, Any], chapter: str = "this notebook") -> None:
    """Inside a notebook: check (and convert in place) every annotated parameter of ``namespace``.

    The parameters cell's annotations are in ``namespace["__annotations__"]``; a value injected by
    papermill after it is checked against them as :func:`check_parameters` would.
    """
    annotations = namespace.get("__annotations__", {})
    declared = {name: Declared(name, annotation, getattr(annotation, "__name__", str(annotation)), None, "")
                for name, annotation in annotations.items() if name in namespace}
    namespace.update(check_parameters(chapter, declared, {name: namespace[name] for name in declared}))


def parameters_of(namespace: Mapping[str, Any]) -> dict[str, Any]:
    """The current value of every parameter a notebook's parameters cell declared (after its smoke settings)."""
    return {name: namespace[name] for name in namespace.get("__annotations__", {}) if name in namespace}


def describe(declared: Mapping[str, Declared]) -> list[dict[str, str]]:
    """Rows of name, type, default and help: what ``--list-parameters`` prints and the docs show."""
    return [{"parameter": spec.name, "type": spec.type_text, "default": repr(spec.default), "meaning": spec.help}
            for spec in declared.values()]


__all__ = [
    "BOOK_WIDE", "JOINT_CHECKS", "VOCABULARY", "Declared", "ParameterError", "chapter_declarations",
    "check_namespace", "check_parameters", "declarations_from_source", "describe", "parameters_of", "read_value",
    *VOCABULARY,
]
