"""A pass that cannot complete ends quickly with an error naming the cores."""
import time

import numpy
import pytest

from spiDNN.errors import SpiDNNMachineError
from spiDNN.graph import ModelGraph
from spiDNN.toolchain.session import ToolchainSession
from spiDNN.vm.build import build_virtual_machine

from conftest import spidnn_model


def test_removed_routing_entry_ends_in_a_clear_error():
    model = spidnn_model(6, [(8, "relu"), (3, "softmax")])
    x = numpy.ones((4, 6), dtype=numpy.float32)
    with ToolchainSession() as session:
        graph = ModelGraph(model, session)
        session.map()
        vm, core_of = build_virtual_machine(session.simulator)
        with vm:
            source = core_of[next(iter(graph.input_vertex.machine_vertices))]
            keys = graph.input_keys()
            x_chip, y_chip, _ = vm.core_locations[source]
            # Lose the entry that routes the input layer's packets.
            table = session.simulator.loaded_routing_tables \
                .get_routing_table_for_chip(x_chip, y_chip)
            index = next(i for i, e in enumerate(
                table.multicast_routing_entries)
                if keys[0] & e.mask == e.key)
            vm.remove_routing_entry(x_chip, y_chip, index)
            start = time.perf_counter()
            with pytest.raises(SpiDNNMachineError) as error:
                vm.run_samples([source] * len(keys), keys,
                               x.view(numpy.uint32), 3, 10_000)
            assert time.perf_counter() - start < 5
            assert vm.stats()["dropped"] >= len(keys)
    message = str(error.value)
    assert "0 of 3 expected packets" in message
    assert "stalled" in message
    for layer in model.layers:
        assert layer.name in message
