"""The virtual machine keeps the chip's limits, leaves nothing behind and
gives the same numbers every time."""
import numpy
import pytest

from spiDNN.errors import SpiDNNMachineError
from spiDNN.compiler import planner
from spiDNN.abi import layouts
from spiDNN.vm import binding
from spiDNN.vm.machine import VirtualMachine

from conftest import spidnn_model, spidnn_temp_folders


def test_router_holds_at_most_1024_entries():
    with VirtualMachine(2, 2) as vm:
        vm.add_chip(0, 0)
        keys = numpy.arange(1025, dtype=numpy.uint32)
        with pytest.raises(SpiDNNMachineError, match="1024"):
            vm.set_routes(0, 0, keys, numpy.full(1025, 0xFFFFFFFF),
                          numpy.full(1025, 1 << 7))
        vm.set_routes(0, 0, keys[:1024], numpy.full(1024, 0xFFFFFFFF),
                      numpy.full(1024, 1 << 7))


def test_only_17_application_cores_per_chip():
    with VirtualMachine(1, 1) as vm:
        vm.add_chip(0, 0)
        with pytest.raises(SpiDNNMachineError, match="cores 1-17"):
            vm.add_edge_core(0, 0, 0, 1, "on the monitor core")
        with pytest.raises(SpiDNNMachineError, match="cores 1-17"):
            vm.add_edge_core(0, 0, 18, 1, "past the last core")


@pytest.mark.machine
def test_dtcm_overflow_fails_on_the_core(monkeypatch):
    """With the host check off, the core's own spin1_malloc fails."""
    monkeypatch.setattr(planner, "dtcm_fits", lambda n_bytes: True)
    model = spidnn_model(4, [(3, "relu")])
    monkeypatch.setattr(layouts, "DTCM_HEAP_BYTES", 32)
    # RTE_MALLOC, 10 in sark.h (c_code/include agrees: test_c_headers).
    with pytest.raises(SpiDNNMachineError, match="run-time error 10:"):
        model.predict(numpy.ones((1, 4)))


@pytest.mark.machine
def test_repeated_predicts_are_identical_and_leave_nothing():
    before = spidnn_temp_folders()
    model = spidnn_model(9, [(16, "tanh"), (5, "softmax")])
    x = numpy.random.default_rng(4).normal(size=(10, 9)).astype("float32")
    first = model.predict(x)
    for _ in range(2):
        numpy.testing.assert_array_equal(model.predict(x), first)
    assert spidnn_temp_folders() == before


def test_an_apps_cores_run_one_copy_of_its_code():
    """Each core loads a private copy of its app (its own globals), and
    the original binary's code pages are mapped over the copy's
    (vm_share.c); code that differs is left alone."""
    dense = binding.app_binary("dense")
    with VirtualMachine(1, 1) as vm:
        vm.add_chip(0, 0)
        cores = [vm.add_app_core(0, 0, p, "dense", [], f"dense {p}")
                 for p in (1, 2)]
        with open("/proc/self/maps") as maps:
            code = [line for line in maps
                    if line.rstrip().endswith(dense) and " r-xp " in line]
        # The loader's own mapping of `dense` is not there: only the two
        # copies' code, mapped from it.
        assert len(code) == 2
        other = binding.app_binary("pool").encode()
        assert vm._lib.vm_share_code(vm._vm, cores[0], other) == 0
        assert vm._lib.vm_share_code(vm._vm, cores[0], dense.encode()) > 0
