"""Fault campaign: does every run with faults give the fault-free result or
end quickly with a clear error, and what does recovery cost?

1. A campaign of seeded runs (1,000 by default) over four small rigs (a
   dense model with dropout and softmax, and a conv model with pooling;
   each predicting and training), every run with a random mix of faults:
   random drops (with and without reinjection), a targeted drop on a
   random partition, delays and reorders, a core stalling briefly, past
   the host's timeout or for good.  Each run is classed as identical (to
   the fault-free run, bit for bit), clear error (SpiDNNMachineError in
   under ``HANG_SECONDS``), hang (longer than that) or wrong (a different
   result, or any other exception).
2. Throughput of training the MNIST-shaped MLP (784-128 relu-10 softmax,
   8 and 5 neurons per core) at drop rates 0, 1e-4, 1e-3 and 1e-2 with
   recovery on, each against the fault-free run just before it in the same
   process; the trained weights must equal the fault-free ones.

    PYTHONPATH=. python benchmarks/fault_campaign.py [--runs N] [--quick]

Prints the figures and writes them to benchmarks/results/fault_campaign.json.
The published figures are in benchmarks/published/fault_campaign.json and
README.rst.
"""
import argparse
import os
import sys
import threading
import time

import numpy

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
try:
    import spiDNN
except ImportError:
    sys.path.insert(0, _ROOT)
    import spiDNN
from spiDNN import Drop, Faults, Stall  # noqa: E402
from spiDNN.errors import SpiDNNMachineError  # noqa: E402
from spiDNN.layers import (  # noqa: E402
    Conv2D, Dense, Dropout, Input, MaxPooling2D)
from tools.mapped import MappedModel, identical  # noqa: E402
from results_file import write_json  # noqa: E402

DEFAULT_OUTPUT = os.path.join("benchmarks", "results", "fault_campaign.json")
#: A run longer than this counts as a hang.
HANG_SECONDS = 10
#: A run this long is stuck for good: the campaign stops and says so.
WATCHDOG_SECONDS = 120
RATES = (0.0, 1e-4, 1e-3, 1e-2)

RNG = numpy.random.default_rng(7)
X = RNG.normal(size=(12, 6)).astype(numpy.float32)
IMAGES = RNG.normal(size=(7, 6, 6, 1)).astype(numpy.float32)
Y = numpy.arange(12) % 3


def mlp():
    return spiDNN.Model(seed=0, layers=[
        Input(6), Dense(5, activation="relu"), Dropout(0.3, seed=1),
        Dense(3, activation="softmax")])


def cnn():
    return spiDNN.Model(seed=0, layers=[
        Input(6, 6, 1),
        Conv2D(2, 3, activation="relu", neurons_per_core=16),
        MaxPooling2D(2), Dense(3, activation="softmax")])


def rigs():
    """(name, a function opening the rig) of the four campaign rigs."""
    onehot = numpy.eye(3, dtype=numpy.float32)
    return [
        ("mlp predict", lambda: MappedModel(mlp(), X)),
        ("mlp fit", lambda: MappedModel(
            mlp(), X, onehot[Y], loss="mse", epochs=2, batch_size=5)),
        ("cnn predict", lambda: MappedModel(cnn(), IMAGES)),
        ("cnn fit", lambda: MappedModel(
            cnn(), IMAGES, onehot[Y[:len(IMAGES)]], loss="mse", epochs=2,
            batch_size=5)),
    ]


def partitions(rig):
    """(label, partition) of everything the rig's cores send."""
    from spinn_front_end_common.data import FecDataView
    infos = FecDataView.get_routing_infos()
    return sorted({(vertex.label, partition)
                   for vertex in rig.graph.app_vertices()
                   for machine_vertex in vertex.machine_vertices
                   for partition in infos.get_partitions_from(
                       machine_vertex)})


def random_faults(rng, rig, seed):
    """One run's faults: (kind, Faults)."""
    kind = rng.choice(["drops", "drops without reinjection", "targeted",
                       "delays", "stall", "drops and delays"])
    log_rate = rng.uniform(numpy.log(1e-4), numpy.log(1e-2))
    if kind == "drops":
        return kind, Faults(drop_rate=float(numpy.exp(log_rate)), seed=seed)
    if kind == "drops without reinjection":
        return kind, Faults(drop_rate=float(numpy.exp(log_rate)) / 3,
                            seed=seed, reinjection=False)
    if kind == "targeted":
        options = partitions(rig)
        label, partition = options[rng.integers(len(options))]
        switches = [{}, {"reinjection": False}, {"replay": False}][
            rng.integers(3)]
        return kind, Faults(drops=[Drop(label, partition,
                                        int(rng.integers(50)))],
                            seed=seed, **switches)
    if kind == "delays":
        return kind, Faults(delay_rate=float(rng.uniform(0.01, 0.3)),
                            max_delay=int(rng.integers(1, 60)), seed=seed)
    if kind == "stall":
        layers = [v for v in rig.graph.layer_vertices]
        vertex = layers[rng.integers(len(layers))]
        duration = [20, 3000, None][rng.integers(3)]
        return kind, Faults(stalls=[Stall(
            vertex.label, int(rng.integers(len(vertex.machine_vertices))),
            int(rng.integers(1, 200)), duration)], seed=seed)
    return kind, Faults(drop_rate=float(numpy.exp(log_rate)),
                        delay_rate=0.05, seed=seed)


class Watchdog:
    """Ends the process if one run takes WATCHDOG_SECONDS: a hang."""

    def __init__(self, on_hang):
        self.started = None
        self.on_hang = on_hang
        threading.Thread(target=self._watch, daemon=True).start()

    def _watch(self):
        while True:
            time.sleep(1)
            started = self.started
            if started and time.perf_counter() - started > WATCHDOG_SECONDS:
                self.on_hang()
                os._exit(3)


def campaign(n_runs, results):
    counts = {"identical": 0, "clear error": 0, "hang": 0, "wrong": 0}
    by_kind = {}
    slowest = 0.0
    failures = []
    results["campaign"] = {"runs": n_runs, "counts": counts,
                           "by_kind": by_kind, "failures": failures}
    watchdog = Watchdog(lambda: print("HANG: a run passed the watchdog"))
    per_rig = -(-n_runs // 4)
    run = 0
    for name, open_rig in rigs():
        with open_rig() as rig:
            expected = rig.run()
            rng = numpy.random.default_rng(len(name))
            for _ in range(min(per_rig, n_runs - run)):
                kind, faults = random_faults(rng, rig, run)
                watchdog.started = time.perf_counter()
                try:
                    result = rig.run(faults)
                    outcome = ("identical" if identical(result, expected)
                               else "wrong")
                except SpiDNNMachineError:
                    outcome = "clear error"
                except Exception as error:   # anything else is a defect
                    outcome = "wrong"
                    failures.append(f"{name}: {faults}: {error!r}")
                watchdog.started = None
                if outcome != "wrong" and rig.seconds > HANG_SECONDS:
                    outcome = "hang"
                if outcome == "wrong" and len(failures) < 20:
                    failures.append(f"{name}: {faults}")
                slowest = max(slowest, rig.seconds)
                counts[outcome] += 1
                key = f"{name}: {kind}"
                by_kind.setdefault(key, {})
                by_kind[key][outcome] = by_kind[key].get(outcome, 0) + 1
                run += 1
    results["campaign"]["slowest_run_seconds"] = slowest
    print(f"campaign: {run} runs: " + ", ".join(
        f"{n} {outcome}" for outcome, n in counts.items())
        + f"; slowest run {slowest:.2f} s")
    for key in sorted(by_kind):
        print(f"  {key}: {by_kind[key]}")


def mnist_mlp(faults=None):
    model = spiDNN.Model(seed=0, faults=faults).add(Input(784))
    model.add(Dense(128, activation="relu", neurons_per_core=8))
    model.add(Dense(10, activation="softmax", neurons_per_core=5))
    return model


def throughput(n_samples, repeats, results):
    rng = numpy.random.default_rng(0)
    x = rng.random((n_samples, 784), dtype=numpy.float32)
    y = rng.integers(0, 10, n_samples)
    rows = []
    results["throughput"] = rows

    def train(faults):
        model = mnist_mlp(faults)
        model.fit(x, y, loss="sparse_categorical_crossentropy", epochs=1,
                  batch_size=32, learning_rate=0.05, shuffle=False,
                  verbose=0)
        return model

    for rate in RATES:
        ratios, speeds, replays, same = [], [], 0, True
        for repeat in range(repeats):
            clean = train(None)
            faulty = train(Faults(drop_rate=rate, seed=repeat))
            ratios.append(faulty.last_run.samples_per_second
                          / clean.last_run.samples_per_second)
            speeds.append((clean.last_run.samples_per_second,
                           faulty.last_run.samples_per_second))
            replays += faulty.last_run.faults["replays"]
            same &= all(numpy.array_equal(a, b) for a, b in zip(
                clean.get_weights(), faulty.get_weights()))
        row = {"drop_rate": rate, "ratio_median": float(numpy.median(ratios)),
               "ratios": ratios, "samples_per_second": speeds,
               "replays": replays, "weights_identical": bool(same)}
        rows.append(row)
        print(f"drop rate {rate:g}: training throughput "
              f"{row['ratio_median']:.3f} of the fault-free run "
              f"(ratios {', '.join(f'{r:.3f}' for r in ratios)}; "
              f"{replays} replays; weights identical: {same})")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true",
                        help="100 runs, 256 samples, 1 repeat")
    parser.add_argument("--output", default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    if args.quick:
        args.runs, args.samples, args.repeats = 100, 256, 1
    results = {"hang_seconds": HANG_SECONDS}
    start = time.perf_counter()
    campaign(args.runs, results)
    throughput(args.samples, args.repeats, results)
    results["seconds"] = time.perf_counter() - start
    write_json(results, args.output)
    return results


if __name__ == "__main__":
    main()
