"""spiDNN's installer: the Python package plus the host builds of the C apps
and the virtual machine, compiled by ``make -C c_code`` during the build,
and, where the SpiNNaker C SDK is at hand, every app's .aplx for a board
(``make -C c_code aplx``), as sPyNNaker ships its binaries."""
import os
import shutil
import subprocess
import sys

from setuptools import find_packages, setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))


def sdk_at_hand():
    """Why the board build can run here, or None: a built SDK (SPINN_DIRS),
    or the release archives (SDK_ARCHIVES, else ../shared/sdk beside the
    clone), and the ARM compiler in either case."""
    if shutil.which("arm-none-eabi-gcc") is None:
        return None
    if os.environ.get("SPINN_DIRS"):
        return "SPINN_DIRS"
    archives = os.environ.get("SDK_ARCHIVES") or os.path.join(
        HERE, "..", "shared", "sdk")
    if os.path.isfile(os.path.join(archives,
                                   "spinnaker_tools-7.4.1.tar.gz")):
        return archives
    return None


def build_c():
    """Host builds of the apps and the VM, into spiDNN/binaries; the .aplx
    files too where the SDK is at hand (a failure there fails the
    install: the SDK was meant to be used)."""
    c_code = os.path.join(HERE, "c_code")
    subprocess.check_call(["make", "-C", c_code, f"PYTHON={sys.executable}"])
    sdk = sdk_at_hand()
    if sdk is None:
        print("spiDNN: no SpiNNaker SDK or no arm-none-eabi-gcc here, so no "
              ".aplx for a board (README.rst, 'Running on a board')")
        return
    print(f"spiDNN: building the .aplx for a board (SDK: {sdk})")
    subprocess.check_call(["make", "-C", c_code, "aplx",
                           f"PYTHON={sys.executable}"])


class BuildPyWithC(build_py):
    """``pip install .``: the C build before the package's files are
    collected, so the shared objects go into the wheel."""

    def run(self):
        build_c()
        super().run()


class BuildExtWithC(build_ext):
    """``pip install -e .`` (setup.py develop) runs build_ext, not build_py:
    the shared objects are built in place."""

    def run(self):
        build_c()
        super().run()


setup(
    name="spiDNN",
    version="0.1.0",
    description="Keras-style deep neural networks trained and run on "
                "SpiNNaker, or on a virtual SpiNNaker machine",
    long_description=open(os.path.join(HERE, "README.rst")).read(),
    packages=find_packages(include=["spiDNN", "spiDNN.*"]),
    package_data={"spiDNN": ["binaries/host/*.so", "binaries/*.aplx",
                            "binaries/logs.sqlite3", "costs/arm_costs.json"]},
    python_requires=">=3.10",
    install_requires=[
        "spinnakergraphfrontend == 1!7.4.1",
        "numpy",
    ],
    extras_require={
        # matplotlib: the benchmark suite's plot and spiDNN.plot, tested;
        # unicorn and pyelftools: the cost table's tests run the apps' ARM
        # builds (tests/test_cost_table.py).
        # tensorboard: Keras' TensorBoard callback writes through it.
        # pytest-xdist: make test runs the suite on two workers.
        "test": ["pytest", "pytest-xdist", "tensorflow-cpu", "tensorboard", "scikit-learn",
                 "matplotlib", "unicorn", "pyelftools"],
        # The ARM instruction counts (benchmarks/arm_kernel_costs.py) and
        # the cost table's measurement (python -m tools.calibration.measure).
        "arm": ["unicorn", "pyelftools"],
    },
    cmdclass={"build_py": BuildPyWithC, "build_ext": BuildExtWithC},
)
