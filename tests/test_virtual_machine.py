"""The virtual machine keeps the chip's limits, leaves nothing behind and
gives the same numbers every time."""
import numpy
import pytest

from spiDNN.errors import SpiDNNMachineError
from spiDNN.compiler import planner
from spiDNN.abi import layouts
from spiDNN.vm import binding
from spiDNN.vm.binding import CORE_GATHERER, CORE_SOURCE
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


def _relay_pair(relay_app, monkeypatch, east_routes):
    """Chip (0, 0) sends its source's keys 0 and 4 (one entry, both) east
    to chip (1, 0), whose ``east_routes`` [(key, mask, route)] take them;
    its relay on core 1 sends key + 1 to the gatherer on core 17."""
    monkeypatch.setattr(binding, "app_binary", lambda name: relay_app)
    vm = VirtualMachine(2, 1)
    vm.add_chip(0, 0)
    vm.add_chip(1, 0)
    vm.add_link(0, 0, 0, 1, 0)              # east
    vm.add_link(1, 0, 3, 0, 0)              # west, back
    vm.set_routes(0, 0, [0], [0xFFFFFFFB], [1 << 0])
    to_gatherer = [(1, 0xFFFFFFFF, 1 << (6 + 17)),
                   (5, 0xFFFFFFFF, 1 << (6 + 17))]
    keys, masks, routes = zip(*(east_routes + to_gatherer))
    vm.set_routes(1, 0, keys, masks, routes)
    vm.add_app_core(1, 0, 1, "relay", [], "relay")
    source = vm.add_edge_core(0, 0, 16, CORE_SOURCE, "source")
    vm.add_edge_core(1, 0, 17, CORE_GATHERER, "gatherer")
    vm.start()
    return vm, source


@pytest.mark.parametrize("order", [(0, 4), (4, 0)])
def test_keys_of_one_entry_share_its_way(relay_app, monkeypatch, order):
    # Both keys take one entry on each chip: one tree serves both.
    vm, source = _relay_pair(relay_app, monkeypatch,
                             [(0, 0xFFFFFFFB, 1 << (6 + 1))])
    with vm:
        passes = vm.run_samples([source] * 2, order, [[7, 8]], 2, 10_000)
        assert passes.rc == 0, passes.message
        assert sorted(zip(passes.out_keys[0], passes.out_payloads[0])) == (
            sorted((key + 1, payload) for key, payload in zip(order, (7, 8))))
        assert vm.stats()["dropped"] == 0


@pytest.mark.parametrize("order", [(0, 4), (4, 0)])
def test_a_key_the_next_chip_has_no_entry_for_goes_its_own_way(
        relay_app, monkeypatch, order):
    # One entry for both at the first chip; the next has one for key 0
    # alone, so key 4 goes on by default routing, east, where there is
    # no link, and is dropped: key 0's tree must not serve key 4, nor
    # key 4's key 0.
    vm, source = _relay_pair(relay_app, monkeypatch,
                             [(0, 0xFFFFFFFF, 1 << (6 + 1))])
    with vm:
        for _ in range(2):
            passes = vm.run_samples([source] * 2, order, [[7, 8]], 1,
                                    10_000)
            assert passes.rc == 0, passes.message
            assert list(passes.out_keys[0]) == [1]
        assert vm.stats()["dropped"] == 2
        assert vm.stats()["delivered"] == 4      # relay, gatherer, twice
