"""MNIST benchmark suite: spiDNN on the virtual machine against Keras.

Six models of LeCun et al. (1998), "Gradient-based learning applied to
document recognition": two MLPs and four convolutional nets.  Each model
the installed spiDNN can build is trained and evaluated twice in the same
run, by spiDNN on the (virtual) SpiNNaker machine and by Keras on the CPU
(and on a GPU where TensorFlow sees one), from the same initial weights
with the same hyper-parameters and the same sample order.  A model whose
layers spiDNN lacks is listed as "not supported" with the reason, never
left out.  Boosted LeNet-4 trains its three members as the paper does,
each side filtering with its own members (``BOOSTING``).

    python -m benchmarks.mnist_suite --quick
    python -m benchmarks.mnist_suite [--epochs N] [--models ...]

(from the repository root; ``make benchmark-quick`` and ``make benchmark``
run the same).  Writes a JSON file (default
benchmarks/results/mnist_suite.json) and, with the same stem, a Markdown
table (.md) and a figure (.png); prints the table.  ``main(argv)`` returns
the results dict, for tests.  The published figures of a full run are in
benchmarks/published/mnist_suite.json (.md, .png) and README.rst.

The modules, one job each:

- ``settings``: hyper-parameters, --quick's sizes, the default output
- ``models``: the six model specs and whether spiDNN can build each
- ``data``: the MNIST images a run uses
- ``keras_side``, ``spidnn_side``: one side's training and prediction
- ``boosting``: boosted LeNet-4's filters and ensembles
- ``side_by_side``: one model on both sides, and how they compare
- ``records``: accuracies, error lines, JSON-plain values
- ``host``, ``report``: the host and the record of a run
- ``markdown``, ``plot``, ``outputs``: the tables, the figure, the files
- ``cli``: the command line and ``main``; ``__main__`` runs it
"""
import os
import sys

from .settings import ROOT as _ROOT

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")   # quiet TensorFlow's logs

try:
    import spiDNN  # noqa: F401
except ImportError:
    # Imported without PYTHONPATH=. or an installed spiDNN (as
    # ``from mnist_suite import ...`` by a script in benchmarks/), the
    # repository root may not be on the path: add it, so this checkout's
    # spiDNN is used.
    sys.path.insert(0, _ROOT)
    import spiDNN  # noqa: F401

from .boosting import (  # noqa: E402
    BOOSTING, combine_runs, filter_disagreement, filter_half_wrong,
    member_seed, run_boosted)
from .cli import main, parse_args  # noqa: E402
from .data import _as_input, load_data, sample_counts  # noqa: E402
from .host import machine_info  # noqa: E402
from .keras_side import gpu_devices, keras_model, run_keras  # noqa: E402
from .markdown import markdown  # noqa: E402
from .models import (  # noqa: E402
    MODEL_NAMES, MODELS, LayerSpec, ModelSpec, _conv, _dense, support)
from .outputs import write_outputs  # noqa: E402
from .plot import plot  # noqa: E402
from .records import _accuracy, _error_text, _plain  # noqa: E402
from .settings import (  # noqa: E402
    BATCH_SIZE, DEFAULT_OUTPUT, LEARNING_RATE, LOSS, QUICK_EPOCHS,
    QUICK_TEST_SAMPLES, QUICK_TRAIN_SAMPLES, SEED)
from .side_by_side import compare, run_model  # noqa: E402
from .spidnn_side import (  # noqa: E402
    layer_names, report_figures, run_spidnn, slices, spidnn_model)
