"""Train a small convolutional network on the virtual SpiNNaker machine,
beside Keras.

scikit-learn's 8x8 digits as 8x8x1 images: Conv2D(8, 3, relu) ->
MaxPooling2D(2) -> Flatten -> Dense(10, softmax), from the same initial
weights in Keras and in spiDNN, trained with the same SGD settings; in
spiDNN every pass, the loss and the updates run in the C apps.

    PYTHONPATH=. python examples/digits_cnn.py
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")   # quiet TensorFlow's logs

import keras  # noqa: E402

import spiDNN  # noqa: E402
from beside_keras import train_beside_keras  # noqa: E402
from spiDNN.datasets import load_digits  # noqa: E402
from spiDNN.layers import (  # noqa: E402
    Conv2D, Dense, Flatten, Input, MaxPooling2D)

EPOCHS, BATCH_SIZE, LEARNING_RATE = 5, 16, 0.1
LOSS = "sparse_categorical_crossentropy"
VERBOSE = 2   # a line per epoch

(x_train, y_train), (x_test, y_test) = load_digits()
x_train, x_test = x_train.reshape(-1, 8, 8, 1), x_test.reshape(-1, 8, 8, 1)

keras.utils.set_random_seed(0)
reference = keras.Sequential([
    keras.Input((8, 8, 1)),
    keras.layers.Conv2D(8, 3, activation="relu"),
    keras.layers.MaxPooling2D(2),
    keras.layers.Flatten(),
    keras.layers.Dense(10, activation="softmax")])

model = spiDNN.Model(seed=0)
model.add(Input(8, 8, 1))
model.add(Conv2D(8, 3, activation="relu"))
model.add(MaxPooling2D(2))
model.add(Flatten())
model.add(Dense(10, activation="softmax"))
model.set_weights(reference.get_weights())     # the same starting point
model.summary()

train_beside_keras(model, reference, ((x_train, y_train), (x_test, y_test)),
                   EPOCHS, BATCH_SIZE, LEARNING_RATE, LOSS,
                   verbose=VERBOSE)
