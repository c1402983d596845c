"""The strict pydantic base of every input file, and its errors in the project's words.

Scenarios (:mod:`chainsim.chain.config`), targets (:mod:`chainsim.analysis.targets`), unit costs
(:mod:`chainsim.chain.costs`) and sweep designs (:mod:`chainsim.experiments.design`) declare their
tables as subclasses of :class:`StrictModel` and validate them with
:func:`validate`: a problem names the file, the field, the value and what is
allowed, and an unknown key lists the keys allowed where it was found (read off
the models, see :func:`allowed_keys`).
"""

from __future__ import annotations

import types
import typing
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chainsim.chain.errors import InputError, Problem, problems_from_validation

Number = Annotated[float, Field(allow_inf_nan=False)]
"""A finite number (not nan or inf)."""

Note = Annotated[str, Field(min_length=3)]
"""Where a number comes from (at least a few characters)."""


class StrictModel(BaseModel):
    """Strict parsing: a number is a number (not ``true`` or ``"0.5"``), no unknown keys.

    Validated tables are frozen (read-only).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def _model(tp: object) -> type[BaseModel] | None:
    """``tp`` if it is a pydantic model class."""
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _unwrap(tp: object) -> object:
    """``tp`` without ``Annotated`` metadata and an optional ``None``."""
    while True:
        origin = typing.get_origin(tp)
        if origin is Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


def _step(tp: object, part: object) -> object | None:
    """The type found at location part ``part`` inside a value of type ``tp``."""
    tp = _unwrap(tp)
    model = _model(tp)
    if model is not None:
        field = model.model_fields.get(part) if isinstance(part, str) else None
        return field.annotation if field is not None else None
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is dict and len(args) == 2 and part != "[key]":
        return args[1]
    if origin is list and args and isinstance(part, int):
        return args[0]
    if origin in (typing.Union, types.UnionType):  # a union of models: the tag names one
        return next((a for a in args if getattr(_model(a), "__name__", None) == part), None)
    return None


def allowed_keys(model: type[BaseModel], loc: tuple) -> list[str] | None:
    """The keys allowed where an unknown key ``loc[-1]`` was found.

    Args:
        model: The model the document was validated against.
        loc: Pydantic's location of the unknown key (table names, dict keys, list
            indices).

    Returns:
        The fields of the model at ``loc[:-1]``, in declaration order (``None``:
        no model there).
    """
    tp: object = model
    for part in loc[:-1]:
        tp = _step(tp, part)
        if tp is None:
            return None
    found = _model(_unwrap(tp))
    return list(found.model_fields) if found is not None else None


def validation_problems(model: type[BaseModel], exc: ValidationError, file: str,
                        prefix: str = "") -> list[Problem]:
    """``model``'s validation errors as problems (file, field, value, what is allowed).

    Args:
        model: The model that rejected the document.
        exc: Its validation error.
        file: The file name to report.
        prefix: Prepended to every field (when ``model`` validated one table of a file).
    """
    return problems_from_validation(exc, file, prefix,
                                    unknown_key=lambda loc: allowed_keys(model, loc))


def validate[M: BaseModel](model: type[M], data: object, file: str, prefix: str = "") -> M:
    """Validate ``data`` against ``model``.

    Args:
        model: The model (normally a :class:`StrictModel`).
        data: The parsed document (or one table of it).
        file: The file name to report.
        prefix: Prepended to every field (e.g. ``"costs."``).

    Raises:
        InputError: One problem per error, see :func:`validation_problems`.
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InputError(validation_problems(model, exc, file, prefix)) from None
