"""The documentation site builds warning-free (-W) with every public name and every example.

The build runs on a copy of docs/, examples/ and the two README files in tmp_path: autosummary and
sphinx-gallery write generated sources next to the sources, and tests must not write into the
clone. The docs packages are in the ``test`` extra, so CI really builds the site; without them
(a bare ``pip install -e .``) the test is skipped and says which package is missing.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import fpsolve

ROOT = Path(__file__).resolve().parents[1]
DOCS_PACKAGES = ("sphinx", "pydata_sphinx_theme", "numpydoc", "myst_parser", "sphinx_gallery")
# the public namespaces: the top level and every subpackage (modules inside them are
# implementation), as docs/conf.py finds them
SUBPACKAGES = sorted(
    path.name
    for path in Path(fpsolve.__file__).parent.iterdir()
    if (path / "__init__.py").exists() and not path.name.startswith("_")
)
PUBLIC_NAMESPACES = ("fpsolve", *(f"fpsolve.{name}" for name in SUBPACKAGES))

pytestmark = pytest.mark.slow


def _missing_docs_packages() -> list:
    return [name for name in DOCS_PACKAGES if importlib.util.find_spec(name) is None]


def _copy_sources(destination: Path) -> Path:
    """Copy what the site is built from (and nothing generated) into ``destination``."""
    generated = shutil.ignore_patterns(
        "_build", "generated", "auto_examples", "sg_execution_times.rst", "__pycache__", "*.pyc"
    )
    shutil.copytree(ROOT / "docs", destination / "docs", ignore=generated)
    shutil.copytree(ROOT / "examples", destination / "examples", ignore=generated)
    shutil.copy2(ROOT / "README.md", destination / "README.md")
    (destination / "benchmarks").mkdir()
    shutil.copy2(ROOT / "benchmarks" / "README.md", destination / "benchmarks" / "README.md")
    return destination / "docs"


@pytest.fixture(scope="module")
def built_site(tmp_path_factory):
    """Build the site once with -W; return the HTML folder."""
    missing = _missing_docs_packages()
    if missing:
        pytest.skip(f"docs packages not installed ({', '.join(missing)}): pip install -e '.[docs]'")
    source = _copy_sources(tmp_path_factory.mktemp("site"))
    html = source / "_build" / "html"
    env = dict(os.environ, MPLBACKEND="Agg")
    command = [
        sys.executable,
        "-m",
        "sphinx",
        "-W",
        "--keep-going",
        "-q",
        "-b",
        "html",
        "-d",
        str(source / "_build" / "doctrees"),
        str(source),
        str(html),
    ]
    done = subprocess.run(command, check=False, cwd=source, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"sphinx -W failed:\n{done.stderr[-6000:]}\n{done.stdout[-2000:]}"
    return html


def _documented_objects(html: Path) -> set:
    """Every Python object the site documents, by full name, from its objects.inv."""
    from sphinx.util.inventory import InventoryFile

    with open(html / "objects.inv", "rb") as stream:
        inventory = InventoryFile.load(stream, "", os.path.join)
    entries_by_role = getattr(inventory, "data", inventory)  # a dict before Sphinx 8.2
    names = set()
    for role, entries in entries_by_role.items():
        if role.startswith("py:"):
            names.update(entries)
    return names


def test_every_public_name_has_a_page(built_site):
    """Every name in a public namespace's __all__ is documented; a name the top level re-exports
    may be documented there only (its subpackage page links to fpsolve.NAME)."""
    documented = _documented_objects(built_site)
    missing = []
    for namespace in PUBLIC_NAMESPACES:
        for name in getattr(importlib.import_module(namespace), "__all__", ()):
            candidates = {f"{namespace}.{name}", f"fpsolve.{name}"}
            if not candidates & documented:
                missing.append(f"{namespace}.{name}")
    assert not missing, f"public names without an API page: {missing}"
    # the names issue 13 found without a page, by the names a user types
    for name in (
        "fpsolve.montecarlo.simulator",
        "fpsolve.montecarlo.HalfSpace",
        "fpsolve.basins",
        "fpsolve.basin_occupancy",
        "fpsolve.sweep",
        "fpsolve.Solution.plot",
        "fpsolve.cases.load",
        "fpsolve.cases.LoadedCase",
        "fpsolve.discretize.register",
        "fpsolve.montecarlo.Simulator.exit_times",
    ):
        assert name in documented, name


def test_every_subpackage_has_a_page(built_site):
    assert {"analysis", "montecarlo", "validate", "cases", "discretize"} <= set(SUBPACKAGES)
    for name in SUBPACKAGES:
        assert (built_site / "api" / "generated" / f"fpsolve.{name}.html").exists(), name


def test_every_example_ran_and_drew_a_figure(built_site):
    examples = sorted(path.stem for path in (ROOT / "examples").glob("plot_*.py"))
    assert len(examples) >= 5
    images = built_site / "_images"
    for name in examples:
        assert (built_site / "auto_examples" / f"{name}.html").exists(), name
        assert list(images.glob(f"sphx_glr_{name}_*.png")), f"{name} drew no figure"


def test_markdown_pages_are_in_the_site(built_site):
    for page in (ROOT / "docs").glob("*.md"):
        assert (built_site / f"{page.stem}.html").exists(), page.name
