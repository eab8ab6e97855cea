"""The suite's fixed settings: hyper-parameters shared by both sides, what
--quick runs, where the results go and where the repository is."""
import os

#: The repository's root (benchmarks/mnist_suite/ is two folders below).
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

DEFAULT_OUTPUT = os.path.join("benchmarks", "results", "mnist_suite.json")

#: Hyper-parameters shared by both sides (the issue fixes them).
LEARNING_RATE = 0.05
BATCH_SIZE = 32
LOSS = "sparse_categorical_crossentropy"
SEED = 0

#: What --quick trains and tests on: small enough for a 2-core machine.
QUICK_TRAIN_SAMPLES = 1000
QUICK_TEST_SAMPLES = 500
QUICK_EPOCHS = 1
