"""Models of two papers behind fpsolve that are not about loss landscapes, built on the public API.

* :mod:`.locally_elastic` and :mod:`.locally_elastic_analysis`: the locally elastic SDEs of
  Zhang, Wang & Su 2021 (arXiv 2110.05960) for the class-mean features of a K-class network: the
  model, its Monte Carlo step kernel, its exact Gaussian law, the separating mode, the separability
  phase transition at alpha = beta, label corruption and neural collapse.
* :mod:`.resnet_depth` and :mod:`.resnet_limit`: deep residual networks h_{k+1} = h_k +
  sigma(A_k h_k + b_k) of Cohen, Cont, Rossier & Xu 2021 (arXiv 2105.12245) at finite depth, their
  scaling exponents, and the neural-ODE and SDE depth limits (the SDE's law by a Fokker-Planck solve).

These modules sit above the engine: they import only ``fpsolve``'s top-level names,
``fpsolve.montecarlo`` and ``fpsolve.analysis``. docs/papers.md explains what was taken from each
paper and what was derived here.
"""

from .locally_elastic import LocallyElasticSDE, gaussian_law, separating_direction
from .locally_elastic_analysis import (
    collapse_ratio,
    corrupted_impacts,
    mode_growth,
    separability_probability,
    separating_mode_law,
    separation_problem,
    simplex_alignment,
)
from .resnet_depth import (
    Activation,
    depth_sweep,
    neural_ode_limit,
    resnet_outputs,
    scaling_exponent,
)
from .resnet_limit import ResNetSDELimit, second_moment_ode

__all__ = [
    "Activation",
    "LocallyElasticSDE",
    "ResNetSDELimit",
    "collapse_ratio",
    "corrupted_impacts",
    "depth_sweep",
    "gaussian_law",
    "mode_growth",
    "neural_ode_limit",
    "resnet_outputs",
    "scaling_exponent",
    "second_moment_ode",
    "separability_probability",
    "separating_direction",
    "separating_mode_law",
    "separation_problem",
    "simplex_alignment",
]
