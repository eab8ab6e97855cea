"""What the examples share: train a spiDNN model on the machine and the
same Keras model on the CPU with the same SGD settings, then compare."""
import numpy

import spiDNN


def train_beside_keras(model, reference, data, epochs, batch_size,
                       learning_rate, loss, verbose=1):
    """Fits both (no shuffling: the same batches), predicts the test set
    on both, and prints loss, accuracy, weights and the machine's run."""
    import keras
    (x_train, y_train), (x_test, y_test) = data
    model.compile(optimizer=spiDNN.optimizers.SGD(learning_rate), loss=loss)
    history = model.fit(x_train, y_train, epochs=epochs,
                        batch_size=batch_size, shuffle=False,
                        verbose=verbose)              # trains on the machine
    training = model.last_run
    spidnn_out = model.predict(x_test)              # predicts on the machine

    reference.compile(optimizer=keras.optimizers.SGD(learning_rate),
                      loss=loss)
    keras_history = reference.fit(x_train, y_train, epochs=epochs,
                                  batch_size=batch_size, shuffle=False,
                                  verbose=0)
    keras_out = reference.predict(x_test, verbose=0)

    print(f"final loss    spiDNN {history.history['loss'][-1]:.4f}   "
          f"Keras {keras_history.history['loss'][-1]:.4f}")
    print(f"test accuracy spiDNN "
          f"{numpy.mean(spidnn_out.argmax(1) == y_test):.4f}   "
          f"Keras {numpy.mean(keras_out.argmax(1) == y_test):.4f}")
    difference = max(numpy.abs(ours - theirs).max() for ours, theirs in zip(
        model.get_weights(), reference.get_weights()))
    print(f"max |weight difference|: {difference:.3g}")
    per_batch = "".join(
        f"; {name}: {count:.0f} per batch"
        for name, count in training.packets_per_batch.items())
    print(f"training on the machine: {training.samples} samples at "
          f"{training.samples_per_second:,.0f} samples/s, {training.cores} "
          f"cores on {training.chips} chip(s), "
          f"{training.packets_per_sample_total:.0f} packets per sample "
          f"(lower bound {training.packets_per_sample_lower_bound}"
          f"{per_batch})")
