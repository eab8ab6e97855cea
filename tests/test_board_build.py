"""The board build (``make aplx``): every app's .aplx, built through the
real SDK's make files, is a well-formed SpiNNaker application image of
that app that fits a core, and the toolchain, mapping spiDNN's graphs,
finds each binary its vertices ask for among them.

The module builds what it reads (``make -C c_code aplx``: seconds when
already built; the SDK from ../shared/sdk, SDK_ARCHIVES or SPINN_DIRS).
"""
import os
import subprocess
import sys

import numpy
import pytest

import spiDNN
from spiDNN.abi import aplx, apps
from spiDNN.layers import (
    Add, Conv2D, Dense, Flatten, Input, MaxPooling2D, PReLU)
from spiDNN.machines.toolchain.session import BINARIES

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def images():
    """{app name: its parsed .aplx}, built first."""
    done = subprocess.run(
        ["make", "-C", os.path.join(ROOT, "c_code"), "aplx",
         f"PYTHON={sys.executable}"], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return {app.name: aplx.read(os.path.join(BINARIES, app.name + ".aplx"))
            for app in apps.APPS}


@pytest.mark.parametrize("app", [app.name for app in apps.APPS])
def test_each_app_is_an_image_of_itself_that_fits_a_core(images, app):
    image = images[app]
    assert aplx.fit_problems(image) == []
    assert 0 < image.ro_bytes <= aplx.ITCM_APP_BYTES
    # It is this app's build: mkbuild's build_name, and the hash of the
    # app's name that simulation_initialise checks the system region
    # against, which the toolchain computes from the binary's file name.
    assert (app.encode() + b"\0") in image.code
    hash_word = aplx.application_hash(app).to_bytes(4, "little")
    at = image.code.find(hash_word)
    assert at >= 0 and at % 4 == 0
    others = [other.name for other in apps.APPS if other.name != app]
    assert not any(aplx.application_hash(other).to_bytes(4, "little")
                   in image.code for other in others)


def test_a_log_dictionary_ships_beside_the_images(images):
    """The toolchain decodes a board's logs (the converter's numbered
    messages) with it: it names every app's converted sources."""
    import sqlite3
    with sqlite3.connect(os.path.join(BINARIES, "logs.sqlite3")) as db:
        files = {name for name, in db.execute(
            "SELECT file_name FROM file")}
    assert {f"{app.name}.c" for app in apps.APPS} <= files
    assert {"layer_core.h", "app_init.h"} <= files


def test_a_changed_image_is_refused(images, tmp_path):
    """The reader checks the header against the bytes: it is no rubber
    stamp."""
    with open(images["dense"].path, "rb") as f:
        data = bytearray(f.read())
    truncated = tmp_path / "short.aplx"
    truncated.write_bytes(data[:-4])
    with pytest.raises(aplx.AplxError, match="header describes"):
        aplx.read(str(truncated))
    data[0] = aplx.APLX_FILL
    wrong = tmp_path / "wrong.aplx"
    wrong.write_bytes(data)
    with pytest.raises(aplx.AplxError, match="not an RCOPY to ITCM"):
        aplx.read(str(wrong))
    too_big = aplx.Aplx("big.aplx", aplx.ITCM_APP_BYTES + 4, 0, 0, b"")
    assert "ITCM" in aplx.fit_problems(too_big)[0]
    crowded = aplx.Aplx("crowded.aplx", 4, 4096, 4096, b"")
    assert "DTCM_HEAP_BYTES" in aplx.fit_problems(crowded)[0]


def _every_app_model():
    """Conv, pooling, Dense, a merge and PReLU, trained (the loss core)."""
    x = Input(6, 6, 1)
    hidden = Flatten()(MaxPooling2D(2)(Conv2D(2, 3, activation="relu")(x)))
    merged = Add()([Dense(4, activation="tanh")(hidden),
                    Dense(4, activation="relu")(hidden)])
    model = spiDNN.Model(x, Dense(3, activation="softmax")(PReLU()(merged)))
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    return model


def test_the_toolchain_finds_every_vertex_binary_among_them(images):
    """Mapped as on a board, each placed vertex's binary (by the name it
    asks for) resolves to spiDNN's image of its app; every app that runs
    without board data is placed."""
    from spinn_front_end_common.interface.interface_functions import (
        graph_binary_gatherer)
    from tools.mapped import MappedModel
    rng = numpy.random.default_rng(0)
    x = rng.normal(size=(3, 6, 6, 1)).astype(numpy.float32)
    y = numpy.eye(3, dtype=numpy.float32)[[0, 1, 2]]
    with MappedModel(_every_app_model(), x, y,
                     loss="categorical_crossentropy"):
        targets = graph_binary_gatherer()
        found = {os.path.basename(path): path for path in targets.binaries}
    ours = {name: path for name, path in found.items()
            if os.path.dirname(path) == os.path.abspath(BINARIES)}
    assert set(ours) == {f"{app.name}.aplx" for app in apps.APPS
                         if app.name != "feeder"}
    for name, path in ours.items():
        assert os.path.samefile(path, images[name[:-len(".aplx")]].path)


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_every_machine_vertex_asks_for_a_built_binary(images):
    """The feeder's too, which only board data places: the name each
    machine vertex class gives the toolchain is one app's image, and
    every app's image is asked for."""
    import importlib
    from spiDNN.compiler.vertices.app_machine_vertex import AppMachineVertex
    for app in apps.APPS:
        importlib.import_module(app.vertex.split(":")[0])
    asked = {}
    for cls in _subclasses(AppMachineVertex):
        if cls.APP_NAME is None:        # a base of several apps' vertices
            continue
        # The name is the class's (APP_NAME): an instance needs no graph.
        asked[cls.__name__] = object.__new__(cls).get_binary_file_name()
    assert sorted(set(asked.values())) == sorted(
        f"{app.name}.aplx" for app in apps.APPS), asked
    for name in asked.values():
        assert os.path.isfile(os.path.join(BINARIES, name))


def _functions(path):
    """{name: code bytes} of the functions in the ELF at ``path``."""
    from elftools.elf.elffile import ELFFile
    with open(path, "rb") as f:
        elf = ELFFile(f)
        sections = [s for s in elf.iter_sections()
                    if s["sh_type"] == "SHT_PROGBITS" and s["sh_addr"] == 0
                    or s.name == "RO_DATA"]
        code = sections[0].data()
        functions = {}
        for symbol in elf.get_section_by_name(".symtab").iter_symbols():
            if (symbol["st_info"]["type"] == "STT_FUNC"
                    and symbol["st_size"] > 0):
                start = symbol["st_value"] & ~1
                functions[symbol.name] = code[start:start + symbol["st_size"]]
    return functions


#: SARK's division by zero (rt_error(RTE_DIV0)) replaces libgcc's weak
#: one on the board, and the divisions branch to it: never taken.
DIVISION_BY_ZERO = {"__aeabi_idiv0"}
CALLS_DIVISION_BY_ZERO = {"__udivsi3", "__divsi3", "__aeabi_uidiv",
                          "__aeabi_idiv"}


@pytest.mark.parametrize("app", apps.CALIBRATED)
def test_the_calibration_runs_the_boards_float_and_division_code(images,
                                                                app):
    """The cost table times libgcc's soft-float and division routines as
    the board links them (the default multilib's ARM code, not the
    thumb/nofp one a Thumb link line would pick)."""
    done = subprocess.run(
        ["make", "-s", "-C", os.path.join(ROOT, "c_code"), "arm-trace",
         f"PYTHON={sys.executable}"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    build = os.path.join(ROOT, "c_code", "build")
    board = _functions(os.path.join(build, "board", app, "build",
                                    f"{app}.elf"))
    calibration = _functions(os.path.join(build, "arm-trace", f"{app}.elf"))
    helpers = {name for name in board if name.startswith("__")
               and name in calibration} - DIVISION_BY_ZERO
    assert {"__aeabi_fadd", "__aeabi_fmul", "__aeabi_fdiv"} <= helpers
    for name in helpers:
        assert len(board[name]) == len(calibration[name]), name
        if name not in CALLS_DIVISION_BY_ZERO:
            assert board[name] == calibration[name], name


def _make_output(*args):
    done = subprocess.run(
        ["make", "-s", "-C", os.path.join(ROOT, "c_code"), *args,
         f"PYTHON={sys.executable}"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.mark.parametrize("app", [app.name for app in apps.APPS])
def test_the_board_and_the_calibration_compile_with_the_same_flags(images,
                                                                  app):
    """board/flags.mk's flags are on the SDK's compile line of the app's
    converted source (which the SDK's make files assemble) and on the
    calibration's, and no other optimisation: no -Ofast, no fast-math."""
    flags = _make_output("board-flags").split()
    with open(os.path.join(ROOT, "c_code", "build", "board",
                           f"{app}.log")) as f:
        board = [line.split() for line in f
                 if " -c " in line and f"modified_src/{app}.c" in line]
    assert len(board) == 1
    lines = {"board": board[0]}
    if app in apps.CALIBRATED:
        lines["calibration"] = [
            line for line in _make_output(
                "-n", "-B", f"build/arm-trace/{app}.elf").replace(
                    "\\\n", " ").splitlines()
            if "arm-none-eabi-gcc" in line][0].split()
    for name, line in lines.items():
        assert set(flags) <= set(line), (name, set(flags) - set(line))
        assert [f for f in line if f.startswith("-O")] == ["-Os"], name
        assert not any("fast-math" in f or "unsafe-math" in f
                       for f in line), name
