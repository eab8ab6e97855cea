"""Layers are Keras-shaped and know no vertex: importing them (and
spiDNN itself) loads none of the SpiNNaker toolchain, which the compiler
imports only when it plans or builds a graph (spiDNN.compiler.registry)."""
import subprocess
import sys

import pytest

TOOLCHAIN = ("pacman", "spinn_front_end_common", "spinnman", "spinn_machine",
             "spinnaker_graph_front_end")


@pytest.mark.parametrize("module", ["spiDNN.layers", "spiDNN"])
def test_import_loads_no_toolchain_module(module):
    loaded = subprocess.run(
        [sys.executable, "-c",
         f"import sys, {module}; print(' '.join(sorted({{"
         f"name.split('.')[0] for name in sys.modules}})))"],
        capture_output=True, text=True, check=True).stdout.split()
    assert not set(loaded) & set(TOOLCHAIN)


def test_the_compiler_finds_each_layers_vertex():
    import spiDNN
    from spiDNN.compiler.registry import vertex_class_of
    from spiDNN.layers import Conv2D, Dense, Input, MaxPooling2D
    model = spiDNN.Model([Input(6, 6, 1), Conv2D(2, 3), MaxPooling2D(2),
                          Conv2D(3, 2), Dense(2)])
    names = [vertex_class_of(layer).__name__ for layer in model.layers]
    # The last convolution's window covers its whole 2x2 input: it runs
    # on the dense app.
    assert names == ["ConvVertex", "PoolVertex", "DenseVertex",
                     "DenseVertex"]
