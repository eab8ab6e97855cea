"""c_code/include/, the subset of the spin1 and FEC headers that the host
build (the virtual machine) and the calibration compile against, agrees
with the real SDK's headers that the board build uses: constants,
signatures, types and struct layouts (tools/header_check.py), and a
deliberate change to any of them is caught."""
import os
import shutil
import subprocess
import sys

import pytest

from tools import header_check

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def sdk():
    """(SPINN_DIRS, FEC's source folder) of the board build's SDK."""
    done = subprocess.run(
        ["make", "-s", "-C", os.path.join(ROOT, "c_code"), "sdk-paths",
         f"PYTHON={sys.executable}"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    spinn_dirs, fec_source = done.stdout.splitlines()[-2:]
    assert fec_source, ("SPINN_DIRS was given without FEC's sources: run "
                        "with the SDK built from its archives")
    return spinn_dirs, fec_source


def test_the_subset_agrees_with_the_real_headers(sdk):
    constants, functions, typedefs, structs, _ = header_check.parse()
    # What is compared: every constant, prototype and struct of the subset.
    assert {"NUM_EVENTS", "RTE_SWERR", "RTE_MALLOC", "LOG_ERROR",
            "DATA_SPECIFICATION_MAGIC_NUMBER"} <= set(constants)
    assert {"spin1_send_mc_packet", "spin1_malloc", "rt_error",
            "simulation_initialise", "data_specification_get_region"} <= {
        f.name for f in functions}
    assert {s.name for s in structs} == {"region_desc_t",
                                         "data_specification_metadata_t"}
    assert header_check.check(*sdk) == []


def _changed(tmp_path, header, old, new):
    """A copy of the subset with ``old`` replaced by ``new`` in
    ``header``."""
    folder = tmp_path / "include"
    shutil.copytree(header_check.SUBSET, folder)
    path = folder / header
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return str(folder)


@pytest.mark.parametrize("header, old, new, named", [
    ("spin1_api.h", "#define NUM_EVENTS           8",
     "#define NUM_EVENTS           6", "NUM_EVENTS: 6 in c_code/include"),
    ("spin1_api.h", "#define RTE_SWERR  13", "#define RTE_SWERR  6",
     "RTE_SWERR: 6 in c_code/include, 13 in the SDK"),
    ("debug.h", "#define LOG_INFO    30", "#define LOG_INFO    31",
     "LOG_INFO"),
    ("data_specification.h", "0xAD130AD6u", "0xAD130AD7u",
     "DATA_SPECIFICATION_MAGIC_NUMBER"),
    ("spin1_api.h", "uint load);", "uchar load);", "spin1_send_mc_packet"),
    ("spin1_api.h", "__attribute__((noreturn)) void rt_error",
     "void rt_error", "rt_error"),
    ("simulation.h", "bool simulation_dma_transfer_done_callback_on",
     "int simulation_dma_transfer_done_callback_on",
     "simulation_dma_transfer_done_callback_on"),
    ("spin1_api.h", "typedef uint32_t *address_t;",
     "typedef uint16_t *address_t;", "address_t"),
    ("data_specification.h", "    uint32_t checksum;\n    uint32_t n_words;",
     "    uint32_t n_words;\n    uint32_t checksum;",
     "offsetof(region_desc_t, checksum): 8 in c_code/include, 4"),
])
def test_a_changed_declaration_fails_the_check(sdk, tmp_path, header, old,
                                              new, named):
    problems = header_check.check(
        *sdk, subset=_changed(tmp_path, header, old, new))
    assert any(named in problem for problem in problems), problems
