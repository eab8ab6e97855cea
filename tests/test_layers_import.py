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


def test_every_app_is_one_entry_of_the_apps_list():
    """c_code/<app>/<app>.c, its vertex, the layers it runs: one entry
    each in spiDNN/abi/apps.py, which the C build's app list, the
    calibration and the registry derive from."""
    import os
    import inspect
    import spiDNN.layers
    from spiDNN.abi.apps import APPS, CALIBRATED
    from spiDNN.compiler.registry import APP_OF_LAYER, vertex_class
    from tools.calibration import measure
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for app in APPS:
        assert os.path.isfile(os.path.join(root, "c_code", app.name,
                                           f"{app.name}.c")), app.name
        vertex = vertex_class(app)
        if app.layers:
            assert vertex.MACHINE_VERTEX.APP_NAME == app.name
    takes_cores = {name for name, kind in vars(spiDNN.layers).items()
                   if inspect.isclass(kind) and kind.takes_cores}
    assert takes_cores == set(APP_OF_LAYER)
    assert measure.APPS == CALIBRATED
    assert set(os.listdir(os.path.join(root, "c_code"))) >= {
        app.name for app in APPS}
