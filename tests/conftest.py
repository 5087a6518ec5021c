"""Test-suite configuration: property tests draw the same examples on every run.

Hypothesis is derandomized so that CI and developers see identical examples (a failure found once
is found again); the property tests still cover a spread of random landscapes and temperatures.
Matplotlib draws without a display.
"""

import matplotlib
from hypothesis import settings

matplotlib.use("Agg")

settings.register_profile("fpsolve", derandomize=True, deadline=None)
settings.load_profile("fpsolve")
