"""Train an MLP on the virtual SpiNNaker machine, beside Keras.

Uses scikit-learn's 8x8 handwritten digits (no download).  A 64 ->
Dense(32, tanh) -> Dense(10, softmax) network starts from the same initial
weights in Keras and in spiDNN; both train with the same SGD settings, in
spiDNN entirely in the C apps on the machine (forward pass, loss, backward
pass, weight updates).  The trained weights come back to the host, and the
test set is predicted on the machine.

    PYTHONPATH=. python examples/digits_train.py
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")   # quiet TensorFlow's logs

import keras  # noqa: E402

import spiDNN  # noqa: E402
from beside_keras import train_beside_keras  # noqa: E402
from spiDNN.datasets import load_digits  # noqa: E402
from spiDNN.layers import Dense, Input  # noqa: E402

EPOCHS, BATCH_SIZE, LEARNING_RATE = 10, 16, 0.1
LOSS = "sparse_categorical_crossentropy"
VERBOSE = 1   # a progress bar

(x_train, y_train), (x_test, y_test) = load_digits()

keras.utils.set_random_seed(0)
reference = keras.Sequential([
    keras.Input((64,)),
    keras.layers.Dense(32, activation="tanh"),
    keras.layers.Dense(10, activation="softmax")])

model = spiDNN.Model(seed=0)
model.add(Input(64))
model.add(Dense(32, activation="tanh"))
model.add(Dense(10, activation="softmax"))
model.set_weights(reference.get_weights())     # the same starting point
model.summary()

train_beside_keras(model, reference, ((x_train, y_train), (x_test, y_test)),
                   EPOCHS, BATCH_SIZE, LEARNING_RATE, LOSS,
                   verbose=VERBOSE)
