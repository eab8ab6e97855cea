"""Shared fixtures: Keras as the oracle, and scikit-learn's digits; and
the tests' tiers (pytest.ini): each test is unit, machine, live or system,
from its module's entry in MODULE_TIERS unless it is marked itself."""
import os
import sys
import tempfile

# The developer tools (tools/: calibration, fault rigs) live beside the
# package, not in it.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

# Under pytest-xdist (make test runs two workers) each worker makes its
# toolchain folders in a temporary folder of its own, so the tests that
# check nothing is left behind see only their own process's.
if os.environ.get("PYTEST_XDIST_WORKER"):
    import atexit
    import shutil
    tempfile.tempdir = tempfile.mkdtemp(
        prefix=f"spiDNN-tests-{os.environ['PYTEST_XDIST_WORKER']}-")
    atexit.register(shutil.rmtree, tempfile.tempdir, True)

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy  # noqa: E402
import pytest  # noqa: E402

import spiDNN  # noqa: E402
from spiDNN.layers import Dense, Input  # noqa: E402

#: The tiers, fastest first (pytest.ini describes them; ``make test-fast``
#: runs the unit tier).
TIERS = ("unit", "machine", "live", "system")

#: Each test module's tier; a test marked ``@pytest.mark.<tier>`` itself
#: takes that tier instead.  A module missing here fails the collection:
#: a new module chooses its tier.
MODULE_TIERS = {
    "test_activation_layers": "machine",
    "test_activations_match_keras": "machine",
    "test_bad_input": "unit",
    "test_board_binaries": "machine",
    "test_c_headers": "system",
    "test_board_build": "system",
    "test_benchmark_suite": "system",
    "test_board_data": "live",
    "test_branches": "machine",
    "test_callbacks_model": "machine",
    "test_clip_norm": "machine",
    "test_cnn_digits": "machine",
    "test_test_and_predict_hooks": "machine",
    "test_short_last_batch": "machine",
    "test_configuration": "machine",
    "test_conv_matches_keras": "machine",
    "test_conv_protocol": "machine",
    "test_conv_streamed": "machine",
    "test_large_windows": "machine",
    "test_cost_table": "system",
    "test_data_sources": "machine",
    "test_datasets": "unit",
    "test_reductions": "machine",
    "test_regularizers": "machine",
    "test_sample_weights": "machine",
    "test_shared_layers": "machine",
    "test_steps": "machine",
    "test_stream_weights": "machine",
    "test_dropout": "machine",
    "test_energy_models": "unit",
    "test_examples": "system",
    "test_faults": "machine",
    "test_fit_matches_keras": "machine",
    "test_frozen_layers": "machine",
    "test_global_pooling": "machine",
    "test_keras_callbacks": "machine",
    "test_keras_interop": "machine",
    "test_keras_surface": "unit",
    "test_kernels": "unit",
    "test_large_layers": "machine",
    "test_layers_import": "unit",
    "test_lowering": "unit",
    "test_loss_formulas": "unit",
    "test_losses_keras": "machine",
    "test_metrics_keras": "machine",
    "test_live_io": "live",
    "test_live_training_loop": "live",
    "test_misuse": "machine",
    "test_multi_output": "machine",
    "test_optimizers": "machine",
    "test_original_conv1d": "unit",
    "test_planner": "unit",
    "test_predict_interrupt": "machine",
    "test_predict_matches_keras": "machine",
    "test_training": "machine",
    "test_training_interface": "machine",
    "test_upsampling": "machine",
    "test_permute": "machine",
    "test_prelu": "machine",
    "test_receptive_fields": "machine",
    "test_use_bias": "machine",
    "test_virtual_clock": "machine",
    "test_virtual_machine": "unit",
}


@pytest.hookimpl(tryfirst=True)     # before -m selects by the marks
def pytest_collection_modifyitems(config, items):
    """Gives each test its tier: its own mark, else its module's."""
    problems = []
    for item in items:
        own = {mark.name for mark in item.iter_markers() if mark.name in TIERS}
        module = item.module.__name__.rpartition(".")[2]
        if len(own) > 1:
            problems.append(f"{item.nodeid}: marked {sorted(own)}, "
                            "choose one tier")
        elif not own:
            if module not in MODULE_TIERS:
                problems.append(f"{item.nodeid}: no tier; add {module!r} "
                                "to MODULE_TIERS in tests/conftest.py or "
                                "mark the test with one of " + ", ".join(
                                    TIERS))
                continue
            item.add_marker(MODULE_TIERS[module])
        if item.get_closest_marker("live") is not None:
            # Fixed UDP ports: the live tests run one at a time, on one
            # worker (make test's --dist loadgroup).
            item.add_marker(pytest.mark.xdist_group("live"))
    if problems:
        raise pytest.UsageError("tests without exactly one tier:\n  "
                                + "\n  ".join(problems))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """A unit test maps nothing: entering a toolchain session (mapping a
    graph through the SpiNNaker toolchain) fails it, fixtures included."""
    if item.get_closest_marker("unit") is None:
        yield
        return
    from spiDNN.machines.toolchain.session import ToolchainSession

    def refuse(session):
        raise AssertionError(
            f"{item.nodeid} is a unit test but maps through the SpiNNaker "
            "toolchain: mark it @pytest.mark.machine")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ToolchainSession, "__enter__", refuse)
        yield


def keras_model(n_inputs, spec, seed=0):
    """A Keras MLP; spec is [(units, activation), ...]."""
    import keras
    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [keras.Input((n_inputs,))]
        + [keras.layers.Dense(units, activation=activation)
           for units, activation in spec])


def spidnn_model(n_inputs, spec, neurons_per_core=1, weights=None):
    """The same MLP in spiDNN, optionally with the given weights."""
    model = spiDNN.Model(seed=0)
    model.add(Input(n_inputs))
    for units, activation in spec:
        model.add(Dense(units, activation=activation,
                        neurons_per_core=neurons_per_core))
    if weights is not None:
        model.set_weights(weights)
    return model


@pytest.fixture(scope="session")
def relay_app(tmp_path_factory):
    """tests/vm_apps/relay.c built as the VM builds the apps: each packet
    it takes it sends on with its key plus one."""
    import subprocess
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    c_code = os.path.join(root, "c_code")
    out = tmp_path_factory.mktemp("relay") / "relay.so"
    subprocess.run(
        ["gcc", "-std=gnu11", "-O2", "-fPIC", "-shared",
         "-DSPIDNN_VIRTUAL_MACHINE", f"-I{c_code}/include",
         f"-I{c_code}/common", f"-I{c_code}/build/generated",
         os.path.join(root, "tests", "vm_apps", "relay.c"), "-o", str(out)],
        check=True)
    return str(out)


@pytest.fixture(scope="session")
def digits():
    """scikit-learn's bundled 8x8 digits, scaled to [0, 1]."""
    from sklearn.datasets import load_digits
    data = load_digits()
    return (data.data / 16.0).astype(numpy.float32), data.target


def upscale_to_mnist(images_8x8):
    """8x8 digits as 28x28 images (3x3 blocks, 2-pixel border), flattened."""
    images = images_8x8.reshape(-1, 8, 8)
    big = numpy.kron(images, numpy.ones((3, 3), dtype=numpy.float32))
    big = numpy.pad(big, ((0, 0), (2, 2), (2, 2)))
    return big.reshape(len(images), 784).astype(numpy.float32)


def spidnn_temp_folders():
    return {name for name in os.listdir(tempfile.gettempdir())
            if name.startswith("spiDNN-")}


def keras_train(model, x, y, loss, learning_rate, epochs, batch_size):
    """Trains a Keras model in order (no shuffling) with plain SGD, batch
    by batch; returns each epoch's per-sample losses, each taken before
    its batch's update as in Keras' running loss."""
    import keras
    model.compile(optimizer=keras.optimizers.SGD(learning_rate), loss=loss)
    loss_fn = keras.losses.get(loss)     # per sample, no reduction
    sample_losses = []
    for _ in range(epochs):
        losses = []
        for start in range(0, len(x), batch_size):
            xb, yb = x[start:start + batch_size], y[start:start + batch_size]
            losses.append(numpy.asarray(loss_fn(yb, model(xb))))
            model.train_on_batch(xb, yb)
        sample_losses.append(numpy.concatenate(losses))
    return sample_losses
