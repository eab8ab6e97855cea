"""How fast and how frugal would spiDNN be on a real SpiNNaker?  The
virtual clock's prediction beside Keras on this machine's CPU, in one run.

For each MLP of the MNIST suite (784-128-10 relu/softmax, MLP-300,
MLP-300-100) at 1, 4 and 8 neurons per core, spiDNN trains one epoch on N
MNIST images (SGD 0.05, batch 32) and predicts them on the virtual
machine; the run report gives the board's predicted samples/s, joules per
sample and bottleneck (spiDNN/vm/timing.py), on the cores the model uses
and on a whole SpiN-5 board filled with copies of the model (data-
parallel, the copies' gradient exchange left out).  Keras trains and
predicts the same on the CPU; its energy is RAPL's where readable, else
the estimate tools.host_energy documents (said in the output).  The
virtual machine's own slow-down from the clock is the predict time with
the clock over the predict time without it, measured back to back.

    PYTHONPATH=. python benchmarks/board_prediction.py [--samples N]
        [--slices 1 4 8] [--mnist PATH]

Prints a table and writes benchmarks/results/board_prediction.json; the
published figures are in benchmarks/published/board_prediction.json (and
.png) and README.rst.
"""
import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy  # noqa: E402

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _ROOT)
import spiDNN  # noqa: E402
from spiDNN import datasets  # noqa: E402
from spiDNN.costs import power_model  # noqa: E402
from tools import host_energy  # noqa: E402
from spiDNN.layers import Dense, Input  # noqa: E402
from spiDNN.costs import fabric  # noqa: E402
from spiDNN.vm import clock  # noqa: E402
from results_file import write_json  # noqa: E402

DEFAULT_OUTPUT = os.path.join("benchmarks", "results",
                              "board_prediction.json")
MODELS = {
    "MLP 784-128-10": [(128, "relu"), (10, "softmax")],
    "MLP-300": [(300, "tanh"), (10, "softmax")],
    "MLP-300-100": [(300, "tanh"), (100, "tanh"), (10, "softmax")],
}
LEARNING_RATE = 0.05
BATCH_SIZE = 32
LOSS = "sparse_categorical_crossentropy"


def parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=512)
    parser.add_argument("--slices", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--mnist", default=None)
    parser.add_argument("--output", default=DEFAULT_OUTPUT)
    return parser.parse_args(argv)


def spidnn_model(spec, per_core):
    model = spiDNN.Model(seed=0)
    model.add(Input(784))
    for units, activation in spec:
        # The output layer keeps one neuron a core: a softmax exchanges
        # its z across the layer's cores either way.
        model.add(Dense(units, activation, neurons_per_core=min(
            per_core, units)))
    model.compile(loss=LOSS, optimizer=spiDNN.optimizers.SGD(LEARNING_RATE))
    return model


def _board(report, per_sample_busy_cycles, cores):
    """A SpiN-5 board filled with copies of the model: samples/s and
    joules per sample (every chip powered, the board's own power too)."""
    power = power_model.SpiNNakerPower()
    copies = (power.chips_per_board * power.app_cores_per_chip) // cores
    rate = copies * report.predicted_samples_per_second
    router, links = report.predicted_energy["routers"], report.predicted_energy[
        "links"]
    per_sample = power_model.predict_energy(
        seconds=1.0 / rate, chips=power.chips_per_board,
        busy_cycles=per_sample_busy_cycles, router_visits=0,
        link_crossings=0, boards=1)["total"] + (router + links) / (
            report.samples)
    return {"copies": copies, "samples_per_second": rate,
            "joules_per_sample": per_sample}


def _prediction(report):
    energy = report.predicted_energy
    busy_cycles = energy["cores"] / power_model.SpiNNakerPower(
    ).joules_per_core_cycle
    return {
        "samples_per_second": report.predicted_samples_per_second,
        "joules_per_sample": report.predicted_joules_per_sample,
        "latency_seconds": report.predicted_latency_seconds,
        "bottleneck": report.bottleneck,
        "bottleneck_seconds_per_sample": report.bottleneck_seconds_per_sample,
        "busiest_core": report.busiest_core,
        "busiest_core_fraction": report.busiest_core_fraction,
        "busiest_link": report.busiest_link,
        "busiest_link_fraction": report.busiest_link_fraction,
        "energy": energy,
        "cores": report.cores,
        "chips": report.chips,
        "board": _board(report, busy_cycles / report.samples,
                        report.cores),
        "vm_samples_per_second": report.samples_per_second,
    }


def run_spidnn(spec, per_core, x, y):
    model = spidnn_model(spec, per_core)
    model.fit(x, y, batch_size=BATCH_SIZE, epochs=1, shuffle=False,
              verbose=0)
    train = _prediction(model.last_run)
    model.predict(x)
    infer = _prediction(model.last_run)
    return {"neurons_per_core": per_core, "train": train, "predict": infer,
            "clock_slowdown": clock_slowdown(model, x)}


def clock_slowdown(model, x, repeats=3):
    """The virtual machine's predict time with the clock over without it:
    the fastest of ``repeats`` runs each, taken in turn (this machine is
    shared and noisy)."""
    seconds = {True: [], False: []}
    try:
        for _ in range(repeats):
            for enabled in (True, False):
                clock.ENABLED = enabled
                model.predict(x)
                seconds[enabled].append(model.last_run.machine_seconds)
    finally:
        clock.ENABLED = True
    return min(seconds[True]) / min(seconds[False])


def run_keras(spec, x, y):
    import keras
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((784,))] + [
        keras.layers.Dense(units, activation=activation)
        for units, activation in spec])
    model.compile(optimizer=keras.optimizers.SGD(LEARNING_RATE), loss=LOSS)
    model.fit(x[:BATCH_SIZE], y[:BATCH_SIZE], batch_size=BATCH_SIZE,
              verbose=0)          # tracing, left out of the timing
    model.predict(x[:BATCH_SIZE], verbose=0)
    _, train = host_energy.measure(
        model.fit, x, y, batch_size=BATCH_SIZE, epochs=1, shuffle=False,
        verbose=0)
    _, infer = host_energy.measure(model.predict, x, batch_size=BATCH_SIZE,
                                   verbose=0)
    return {kind: {"samples_per_second": len(x) / reading.seconds,
                   "joules_per_sample": reading.joules / len(x),
                   "method": reading.method, "how": reading.how}
            for kind, reading in (("train", train), ("predict", infer))}


def best(runs, kind):
    return max(runs, key=lambda run: run[kind]["samples_per_second"])


def main(argv=None):
    args = parse(argv)
    (x, y), _ = datasets.load_mnist(args.mnist or datasets.default_mnist_path())
    x = numpy.ascontiguousarray(x[:args.samples].reshape(-1, 784),
                                dtype=numpy.float32)
    y = y[:args.samples]
    results = {"samples": len(x), "timing_assumptions": {
        "hop_seconds": fabric.HOP_SECONDS,
        "link_bits_per_second": fabric.LINK_BITS_PER_SECOND,
        "source_cycles_per_packet": fabric.SOURCE_CYCLES_PER_PACKET,
        "host_round_trip_seconds": fabric.HOST_ROUND_TRIP_SECONDS},
        "models": {}}
    started = time.perf_counter()
    for name in args.models:
        spec = MODELS[name]
        keras_figures = run_keras(spec, x, y)
        runs = []
        for per_core in args.slices:
            try:
                runs.append(run_spidnn(spec, per_core, x, y))
            except spiDNN.SpiDNNError as error:
                print(f"{name} at {per_core} per core: {error}")
        results["models"][name] = {
            "keras_cpu": keras_figures, "spidnn": runs,
            "best_train": best(runs, "train")["neurons_per_core"],
            "best_predict": best(runs, "predict")["neurons_per_core"]}
        print_model(name, keras_figures, runs)
    results["seconds"] = time.perf_counter() - started
    write_json(results, args.output)
    plot(results, os.path.splitext(args.output)[0] + ".png")


def plot(results, path):
    """Samples/s and mJ/sample, log scale: Keras on the CPU, spiDNN
    predicted on the model's cores and on a filled board (best slice)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as pyplot
    names = list(results["models"])
    bars = (("Keras CPU", lambda m, k: m["keras_cpu"][k]),
            ("SpiNNaker, model's cores", lambda m, k: best(
                m["spidnn"], k)[k]),
            ("SpiN-5 board of copies", lambda m, k: best(
                m["spidnn"], k)[k]["board"]))
    figure, axes = pyplot.subplots(2, 2, figsize=(11, 7))
    for row, kind in enumerate(("train", "predict")):
        for column, (figure_key, scale, label) in enumerate((
                ("samples_per_second", 1, "samples/s"),
                ("joules_per_sample", 1e3, "mJ/sample"))):
            axis = axes[row][column]
            for i, (bar, get) in enumerate(bars):
                values = [get(results["models"][name], kind)[figure_key]
                          * scale for name in names]
                axis.bar(numpy.arange(len(names)) + 0.27 * (i - 1), values,
                         0.27, label=bar)
            axis.set_yscale("log")
            axis.set_xticks(range(len(names)), names)
            axis.set_title(f"{kind}: {label}")
    axes[0][0].legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    pyplot.close(figure)
    print(f"plot written to {path}")


def print_model(name, keras_figures, runs):
    print(f"\n{name}: Keras CPU train "
          f"{keras_figures['train']['samples_per_second']:,.0f} samples/s, "
          f"{keras_figures['train']['joules_per_sample'] * 1e3:.3f} mJ/sample"
          f"; predict {keras_figures['predict']['samples_per_second']:,.0f}/s"
          f", {keras_figures['predict']['joules_per_sample'] * 1e3:.3f} mJ "
          f"({keras_figures['train']['method']})")
    for run in runs:
        for kind in ("train", "predict"):
            p = run[kind]
            print(f"  {run['neurons_per_core']} per core {kind:7s}: "
                  f"{p['samples_per_second']:>10,.0f} samples/s "
                  f"{p['joules_per_sample'] * 1e3:8.4f} mJ/sample on "
                  f"{p['cores']} cores; board x{p['board']['copies']}: "
                  f"{p['board']['samples_per_second']:>11,.0f} samples/s "
                  f"{p['board']['joules_per_sample'] * 1e3:8.4f} mJ; "
                  f"{p['bottleneck']}")
        print(f"  {run['neurons_per_core']} per core: the clock slows the "
              f"virtual machine {run['clock_slowdown']:.2f}x")


if __name__ == "__main__":
    main()
