"""The record of one run: what was asked, the hyper-parameters, how each
side is timed, the host and the GPUs; ``run_model`` adds the models."""
import datetime
import sys

from .boosting import BOOSTING
from .host import machine_info
from .settings import BATCH_SIZE, LEARNING_RATE, LOSS, SEED


def new_results(args, argv, data, gpus):
    """The results dict of a run, its ``models`` still empty.

    :param argv: the arguments ``main`` was given (None: ``sys.argv``)
    """
    return {
        "benchmark": "mnist_suite",
        "arguments": vars(args),
        "command_line": sys.argv[1:] if argv is None else list(argv),
        "run": {
            "timestamp": datetime.datetime.now(
                datetime.timezone.utc).isoformat(timespec="seconds"),
            "mode": "quick" if args.quick else "full",
            "train_samples": len(data[0][0]),
            "test_samples": len(data[1][0]),
            "epochs": args.epochs,
        },
        "hyper_parameters": {
            "optimizer": "SGD", "learning_rate": LEARNING_RATE,
            "batch_size": BATCH_SIZE, "shuffle": False, "loss": LOSS,
            "seed": SEED, "initial_weights": "Keras' (seeded), copied "
                                             "into spiDNN",
            "neurons_per_core": "every layer 'auto': spiDNN's planner "
                                "chooses it per run "
                                "(spidnn.neurons_per_core for fit, "
                                "neurons_per_core_predict)"},
        "timing": {
            "spidnn_train": "samples x epochs / RunReport.machine_seconds "
                            "of fit; *_whole_fit: / wall time of fit, "
                            "mapping included",
            "spidnn_predict": "RunReport.samples_per_second (machine time); "
                              "*_whole_call: the whole predict call",
            "ensembles": BOOSTING["throughput"],
            "keras_train": "from the end of the first (tracing) batch to "
                           "the end of fit; *_whole_fit: the whole fit call",
            "keras_predict": "predict(batch_size=32) after a one-batch "
                             "warm-up call",
        },
        "machine": machine_info(),
        "gpu": {"present": bool(gpus), "devices": gpus,
                "note": "Keras also run on the GPU" if gpus
                else "no GPU present"},
        "models": [],
    }
