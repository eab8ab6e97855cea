"""Measures the cost table: ``python -m tools.calibration.measure``.

Builds the apps for the ARM968 with the cost marks on (``make -C c_code
arm-trace``), runs each model of the grid (grid.py) on the virtual
machine while capturing every core's deliveries (capture.py), replays
the first and last core of every layer (the loss core included) on the
ARM build in the emulator, checks that each sent what its host build
sent (replay.py), fits the table on the grid's fitted models and checks
it on its held-out ones (fit.py, table.py), and writes it to
spiDNN/costs/arm_costs.json.  Needs unicorn, pyelftools and Debian's
gcc-arm-none-eabi; takes about a minute.
"""
import json
import os
import subprocess
import sys
import time

from spiDNN.abi import apps
from tools.calibration import grid, table
from tools.calibration.arm_core import ArmImage
from tools.calibration.measurement import Measurement
from tools.calibration.code_digest import code_digest
from spiDNN.costs.table import TABLE

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
ARM_TRACE = os.path.join(ROOT, "c_code", "build", "arm-trace")
APPS = apps.CALIBRATED


def build_images():
    """The apps' calibration builds, made if stale: {app: ArmImage}."""
    subprocess.run(["make", "-s", "-C", os.path.join(ROOT, "c_code"),
                    "arm-trace", f"PYTHON={sys.executable}"], check=True)
    return {app: ArmImage(path) for app, path in elf_paths().items()}


def elf_paths():
    """{app: its calibration ELF}: what the table measures."""
    return {app: os.path.join(ARM_TRACE, f"{app}.elf") for app in APPS}


def measured_code_digest():
    """The digest of the calibration builds as they are now (built if
    stale): what a table measured now would record."""
    build_images()
    return code_digest(elf_paths())


def compiler():
    return subprocess.run(["arm-none-eabi-gcc", "--version"],
                          capture_output=True, text=True,
                          check=True).stdout.splitlines()[0]


def measure(log=print):
    """The cost table from the grid's models."""
    images = build_images()
    digest = code_digest(elf_paths())
    fitted = Measurement(images)
    fitted.add_cases(grid.FIT, log)
    held_out = Measurement(images)
    held_out.add_cases(grid.HELD_OUT, log)
    if measured_code_digest() != digest:
        raise RuntimeError("the apps' code changed during the measurement")
    return table.build(fitted, held_out, images, digest, compiler(),
                       {"fitted": sorted(grid.FIT),
                        "held_out": sorted(grid.HELD_OUT)})


def main():
    start = time.perf_counter()
    costs = measure()
    with open(TABLE, "w") as f:
        json.dump(costs, f, indent=1, sort_keys=True)
        f.write("\n")
    print(table.summary(costs))
    print(f"wrote {TABLE} in {time.perf_counter() - start:.0f} s")
    return 1 if costs["check"]["mismatches"] else 0


if __name__ == "__main__":
    sys.exit(main())
