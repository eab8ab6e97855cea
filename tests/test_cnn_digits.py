"""A small CNN learns scikit-learn's digits as well as Keras does.

Input(8, 8, 1) -> Conv2D(8, 3, relu) -> MaxPooling2D(2) -> Flatten ->
Dense(10, softmax), trained with SGD from Keras' initial weights, without
shuffling: spiDNN's test accuracy is within one point of Keras'.
"""
import numpy
import pytest

import spiDNN

from conv_oracle import keras_model, layer, spidnn_model

EPOCHS = 5
BATCH_SIZE = 16
LEARNING_RATE = 0.3


@pytest.fixture(scope="module")
def split(digits):
    from sklearn.model_selection import train_test_split
    x, y = digits
    x = x.reshape(-1, 8, 8, 1)
    return train_test_split(x, y, test_size=0.25, random_state=0,
                            stratify=y)


@pytest.mark.parametrize("flatten", [True, False],
                         ids=["flatten", "implicit-flatten"])
def test_cnn_reaches_keras_accuracy(split, flatten):
    import keras
    x_train, x_test, y_train, y_test = split
    specs = [layer("Conv2D", 8, 3, activation="relu"),
             layer("MaxPooling2D", 2),
             layer("Flatten", keras_only=not flatten),
             layer("Dense", 10, activation="softmax")]
    reference = keras_model((8, 8, 1), specs, seed=2, bias_scale=0.0)
    model = spidnn_model((8, 8, 1), specs, reference.get_weights())
    model.compile(optimizer=spiDNN.optimizers.SGD(LEARNING_RATE),
                  loss="sparse_categorical_crossentropy")
    history = model.fit(x_train, y_train, epochs=EPOCHS,
                        batch_size=BATCH_SIZE, shuffle=False, verbose=0)
    reference.compile(optimizer=keras.optimizers.SGD(LEARNING_RATE),
                      loss="sparse_categorical_crossentropy")
    keras_history = reference.fit(x_train, y_train, epochs=EPOCHS,
                                  batch_size=BATCH_SIZE, shuffle=False,
                                  verbose=0)
    ours = numpy.mean(model.predict(x_test).argmax(1) == y_test)
    theirs = numpy.mean(
        reference.predict(x_test, verbose=0).argmax(1) == y_test)
    assert theirs > 0.9
    assert abs(ours - theirs) <= 0.01, (ours, theirs)
    # The training itself followed Keras': the first epoch's mean loss
    # (before any drift can build up) equals Keras' closely.
    assert abs(history.history["loss"][0]
               - keras_history.history["loss"][0]) < 1e-3
    assert history.history["loss"][-1] < history.history["loss"][0]
