"""Hyperparameters that are numbers when constant and functions of time when scheduled.

SGD-type models (SGD, MomentumSGD, LevySGD, LevyAdam) take ``lr`` and ``batch_size`` as numbers
or as schedules of continuous time t. :class:`SGDHyperparameters` gives them one reading:
``model.lr`` and ``model.batch_size`` are numbers when constant; ``model.lr_at(t)`` and
``model.batch_size_at(t)`` work for constants and schedules alike; under a schedule reading
``model.lr`` raises a ValueError naming ``lr_at``. Time t = lr * iterations (DESIGN.md section 1).
:func:`_schedule` turns a constant or a function into a checked function of t, shared by every
model with scheduled parameters.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .grid import _is_number

__all__ = ["SGDHyperparameters", "sgd_schedules"]


class SGDHyperparameters:
    """The learning rate and batch size of an SGD-type model (SGD, MomentumSGD, LevySGD, LevyAdam).

    Constant values read as numbers: ``model.lr``, ``model.batch_size`` (so ``t / model.lr`` is
    the number of iterations). Schedules sit behind named accessors: ``model.lr_at(t)`` and
    ``model.batch_size_at(t)`` give the values at continuous time t for constants and schedules
    alike, and ``model.has_schedule`` (the negation of ``autonomous``) says whether either is a
    function of t. Reading ``model.lr`` (or ``model.batch_size``) of a model with that schedule
    raises a ValueError naming ``lr_at`` (``batch_size_at``): there is no single number to give.
    Time t = lr * iterations (:meth:`iterations`; the integral of dt / lr(t) under a schedule).
    """

    def _set_hyperparameters(self, landscape, lr, batch_size, noise) -> None:
        self._lr_schedule, self._batch_size_schedule = sgd_schedules(landscape, lr, batch_size, noise)
        self.autonomous = not (callable(lr) or callable(batch_size))

    @property
    def lr(self) -> float:
        """The constant learning rate eta (ValueError under an lr schedule: use :meth:`lr_at`)."""
        return _constant(self._lr_schedule, "lr")

    @property
    def batch_size(self) -> float:
        """The constant batch size B (ValueError under a schedule: use :meth:`batch_size_at`)."""
        return _constant(self._batch_size_schedule, "batch_size")

    def lr_at(self, t: float = 0.0) -> float:
        """The learning rate at continuous time t (constant or scheduled)."""
        return self._lr_schedule(t)

    def batch_size_at(self, t: float = 0.0) -> float:
        """The batch size at continuous time t (constant or scheduled)."""
        return self._batch_size_schedule(t)

    @property
    def has_schedule(self) -> bool:
        """Whether lr or batch_size is a function of t (then ``autonomous`` is False)."""
        return not self.autonomous

    def parameters(self, t=0.0):
        return (float(self.lr_at(t)), float(self.batch_size_at(t)))

    def iterations(self, t) -> np.ndarray | float:
        """Number of iterations that continuous time t corresponds to: t / lr, or the integral of
        dt / lr(t) under an lr schedule."""
        if not _is_schedule(self._lr_schedule):
            return np.asarray(t) / self.lr_at(0.0)
        from scipy import integrate as _quad

        ts = np.atleast_1d(np.asarray(t, dtype=float))
        out = [_quad.quad(lambda s: 1.0 / self.lr_at(s), 0.0, ti, limit=200)[0] for ti in ts]
        return out[0] if np.ndim(t) == 0 else np.array(out)

    def _described(self, name: str):
        """``"schedule"`` or the constant value of ``name`` (``"lr"`` or ``"batch_size"``), for
        ``describe()`` and ``repr``."""
        schedule = getattr(self, f"_{name}_schedule")
        return "schedule" if _is_schedule(schedule) else schedule(0.0)


def _is_schedule(schedule) -> bool:
    """Whether a checked schedule from :func:`_schedule` wraps a user function (not a constant)."""
    return callable(getattr(schedule, "source", None))


def _constant(schedule, name: str) -> float:
    """The constant behind a checked schedule, or a ValueError naming the ``*_at`` accessor."""
    if _is_schedule(schedule):
        raise ValueError(
            f"{name}: this model's {name} is a schedule, not one number; read its value at "
            f"continuous time t with model.{name}_at(t)"
        )
    return schedule(0.0)


def sgd_schedules(landscape, lr, batch_size, noise) -> tuple:
    """The checked ``(lr(t), batch_size(t))`` schedules of an SGD-type model: lr > 0, B >= 1, and
    B <= N for empirical noise on a dataset of N samples (a batch drawn from the dataset cannot
    hold more)."""
    most = None
    n_samples = getattr(landscape, "n_samples", None)
    if isinstance(noise, str) and noise == "empirical" and n_samples is not None:
        most = (n_samples, f"the dataset size N = {n_samples} of the {type(landscape).__name__}")
    return _schedule(lr, "lr"), _schedule(batch_size, "batch_size", least=_ONE_SAMPLE, most=most)


#: A batch holds at least one sample: B >= 1 (a lower bound for ``_positive`` and ``_schedule``).
_ONE_SAMPLE = (1.0, "B >= 1 (a batch holds at least one sample)")


def _positive(value, name: str, least: tuple | None = None, most: tuple | None = None) -> float:
    """``value`` as a float after checking it is a finite number > 0.

    ``least`` and ``most`` are optional bounds ``(bound, what the bound means)``. A value that is
    not a real number (a string, a list, None, a bool) is a TypeError naming ``name``; NaN, inf,
    zero, a negative value or one outside the bounds is a ValueError naming ``name``.
    """
    return _checked_number(value, name, least, most, f"{name}: expected a positive number, got {value!r}", "")


def _checked_number(value, name, least, most, not_a_number: str, where: str) -> float:
    """``value`` as a float, or TypeError ``not_a_number`` / ValueError naming ``name`` (and
    ``where``, e.g. "the schedule gave 0 at t = 1") when it is out of range."""
    if not _is_number(value):
        raise TypeError(not_a_number)
    value = float(value)
    problem = _out_of_range(value, least, most)
    if problem:
        raise ValueError(f"{name}: {where}{problem}")
    return value


def _schedule(value, name: str, least: tuple | None = None, most: tuple | None = None) -> Callable:
    """A constant or a function of t, returned as a function of t that checks its values.

    Constants are checked once, here (see :func:`_positive`); a schedule is checked at every t it
    is asked for, with the same bounds. Anything else (a list, a string) is a TypeError.
    """
    if callable(value):

        def schedule(t, _f=value):
            v = _f(t)
            return _checked_number(
                v,
                name,
                least,
                most,
                f"{name}: the schedule returned {v!r} at t = {t:g}; expected a number",
                f"the schedule gave {v!r} at t = {t:g}: ",
            )
    elif _is_number(value):
        constant = _positive(value, name, least, most)

        def schedule(t, _c=constant):
            return _c
    else:
        raise TypeError(f"{name}: expected a positive number or a schedule {name}(t) (a callable), got {value!r}")
    schedule.source = value
    return schedule


def _out_of_range(value: float, least: tuple | None, most: tuple | None) -> str:
    """Why ``value`` is not acceptable (empty when it is)."""
    if not np.isfinite(value) or value <= 0:
        return f"expected a positive number, got {value!r}"
    if least is not None and value < least[0]:
        return f"expected {least[1]}, got {value:g}"
    if most is not None and value > most[0]:
        return f"{value:g} exceeds {most[1]}"
    return ""
