"""Train a small MLP in Keras, then run its predictions on spiDNN.

Uses scikit-learn's 8x8 handwritten digits (no download): a 64 -> Dense(32,
tanh) -> Dense(10, softmax) network is trained briefly in Keras, its weights
are copied into a spiDNN model, and the test set is predicted on the
virtual SpiNNaker machine.

    PYTHONPATH=. python examples/digits_predict.py
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")   # quiet TensorFlow's logs

import keras  # noqa: E402
import numpy  # noqa: E402

import spiDNN  # noqa: E402
from spiDNN.datasets import load_digits  # noqa: E402
from spiDNN.layers import Dense, Input  # noqa: E402

(x_train, y_train), (x_test, y_test) = load_digits()

keras.utils.set_random_seed(0)
reference = keras.Sequential([
    keras.Input((64,)),
    keras.layers.Dense(32, activation="tanh"),
    keras.layers.Dense(10, activation="softmax")])
reference.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
reference.fit(x_train, y_train, epochs=20, batch_size=32, verbose=0)
keras_out = reference.predict(x_test, verbose=0)

model = spiDNN.Model(seed=0)
model.add(Input(64))
model.add(Dense(32, activation="tanh"))
model.add(Dense(10, activation="softmax"))
model.set_weights(reference.get_weights())
spidnn_out = model.predict(x_test)   # runs on the virtual machine

print(model.summary())
print(f"Keras  test accuracy: {numpy.mean(keras_out.argmax(1) == y_test):.4f}")
print(f"spiDNN test accuracy: {numpy.mean(spidnn_out.argmax(1) == y_test):.4f}")
print(f"max |spiDNN - Keras|: {numpy.max(numpy.abs(spidnn_out - keras_out)):.3g}")
print(model.last_run)
print(f"spiDNN samples/s (machine time): {model.last_run.samples_per_second:.1f}")
