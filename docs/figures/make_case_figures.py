"""Run every built-in case and copy its figures and headline numbers into docs/figures/cases/.

    python docs/figures/make_case_figures.py            # all cases
    python docs/figures/make_case_figures.py NAME ...   # some

The figures in docs/cases.md are exactly what `fpsolve run NAME` writes.
"""

import json
import shutil
import sys
import tempfile
from pathlib import Path

from fpsolve.cases import find_cases, run_case

HERE = Path(__file__).resolve().parent / "cases"


def main(names):
    HERE.mkdir(exist_ok=True)
    cases = find_cases()
    for name in names or sorted(cases):
        with tempfile.TemporaryDirectory() as tmp:
            folder, result, meta = run_case(cases[name], Path(tmp) / name)
            for png in folder.glob("*.png"):
                shutil.copy(png, HERE / f"{name}_{png.name}")
            print(f"{name}: {meta['seconds']:.2f} s")
            for line in result.summary:
                print(f"  {line}")
            numbers = json.loads((folder / "result.json").read_text())["numbers"]
            short = {k: v for k, v in numbers.items() if not isinstance(v, list) or len(v) <= 12}
            (HERE / f"{name}_numbers.json").write_text(json.dumps(short, indent=1) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
