"""Live I/O against the in-process virtual machine, on the MNIST MLP.

Samples/s of ``predict`` and of one epoch of ``fit`` (batch 32, SGD 0.05)
on MNIST 784-128-10 at the default plan, through the board backend and the
toolchain's ``LiveEventConnection`` on the loopback and in-process, in the
same run: ``fit`` with the samples streamed from the host
(``LiveIO(data_on_board=False)``) and with the training set held on the
board (the default: the feeder streams it from SDRAM); ``predict`` is
host-streamed.  Beside them, the virtual clock's predicted board time of
the same passes, which says how much of a host-streamed live run's time a
real board would spend computing and how much the host link takes.

    PYTHONPATH=. python benchmarks/live_io.py [--samples N]

The published figures are in benchmarks/published/live_io.json and
README.rst.
"""
import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import spiDNN  # noqa: E402
import spiDNN.datasets  # noqa: E402
from spiDNN.layers import Dense, Input  # noqa: E402
from results_file import write_json  # noqa: E402

DEFAULT_OUTPUT = os.path.join("benchmarks", "results", "live_io.json")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mnist", default=spiDNN.datasets.default_mnist_path())
    parser.add_argument("--samples", type=int, default=64,
                        help="MNIST images per run (default 64)")
    parser.add_argument("--output", default=DEFAULT_OUTPUT)
    return parser.parse_args(argv)


def mlp(live_io):
    model = spiDNN.Model([Input(784), Dense(128, activation="relu"),
                          Dense(10, activation="softmax")], seed=0,
                         live_io=live_io)
    model.compile(spiDNN.optimizers.SGD(0.05),
                  "sparse_categorical_crossentropy")
    return model


def figures(live_io, x, y, kinds=("fit", "predict")):
    model = mlp(live_io)
    result = {}
    for kind, run in (
            ("fit", lambda: model.fit(x, y, batch_size=32, epochs=1,
                                      shuffle=False, verbose=0)),
            ("predict", lambda: model.predict(x))):
        if kind not in kinds:
            continue
        start = time.perf_counter()
        run()
        seconds = time.perf_counter() - start
        report = model.last_run
        result[kind] = {
            "samples_per_second": len(x) / seconds,
            "machine_samples_per_second": report.samples_per_second,
            "wall_seconds": seconds,
            "machine_seconds": report.machine_seconds,
            "predicted_board_seconds": report.predicted_seconds,
            "host_link": report.host_link}
    return result, model.get_weights()


def _same(weights, other):
    return all(a.tobytes() == b.tobytes() for a, b in zip(weights, other))


def main(argv=None):
    args = parse_args(argv)
    (x_all, y_all), _ = spiDNN.datasets.load_mnist(args.mnist)
    x, y = x_all[:args.samples], y_all[:args.samples]
    in_process, weights = figures(False, x, y)
    live, live_weights = figures(
        spiDNN.LiveIO(data_on_board=False), x, y)
    resident, resident_weights = figures(True, x, y, kinds=("fit",))
    results = {"samples": args.samples, "in_process": in_process,
               "live_io": live, "live_io_data_on_board": resident,
               "identical_weights": _same(weights, live_weights),
               "identical_weights_data_on_board": _same(
                   weights, resident_weights)}
    print(f"MNIST 784-128-10, {args.samples} samples, default plan "
          f"(weights after fit bit-identical: host-streamed "
          f"{results['identical_weights']}, data on the board "
          f"{results['identical_weights_data_on_board']}):")
    for kind in ("fit", "predict"):
        board = in_process[kind]["predicted_board_seconds"]
        link = live[kind]["machine_seconds"]
        share = 1 - board / link if board and link else None
        results[f"{kind}_host_link_share"] = share
        print(f"  {kind}: in-process VM "
              f"{in_process[kind]['samples_per_second']:,.1f}/s, live I/O "
              f"host-streamed {live[kind]['samples_per_second']:,.1f}/s "
              f"(streaming {live[kind]['machine_samples_per_second']:,.1f}/s)"
              f"; a board computes it in {board:.4f} s of the live run's "
              f"{link:.2f} s streaming: the host link takes "
              f"{100 * share:.1f} %")
        print(f"    host link: {live[kind]['host_link']}")
    fit = resident["fit"]
    training = fit["host_link"]["training_seconds"]
    fit["training_samples_per_second"] = len(x) / training
    print(f"  fit, data on the board: {fit['samples_per_second']:,.1f}/s "
          f"(streaming {fit['machine_samples_per_second']:,.1f}/s, of which "
          f"the passes {training:.2f} s, {len(x) / training:,.1f}/s, and "
          f"the weights' download the rest), "
          f"{fit['samples_per_second'] / live['fit']['samples_per_second']:,.1f}"
          f" x host-streamed")
    print(f"    host link: {fit['host_link']}")
    write_json(results, args.output)


if __name__ == "__main__":
    main()
