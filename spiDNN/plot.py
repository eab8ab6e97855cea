"""Pictures of a run: ``spiDNN.plot.history(history, "curves.png")``."""
from spiDNN.errors import SpiDNNConfigurationError


def history(history, path):
    """Writes the training and validation curves of a ``fit`` as a PNG:
    one panel per quantity (loss, then each metric), training and
    ``val_`` curves together, epochs along the bottom.

    :param history: what ``fit`` returned (spiDNN's or Keras' History)
    :return: ``path``
    """
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as pyplot
    except ImportError as error:
        raise SpiDNNConfigurationError(
            "spiDNN.plot needs matplotlib: pip install matplotlib") from error
    logs = history.history
    epochs = [epoch + 1 for epoch in history.epoch]
    # The loss first, then the others in the History's (sorted) order.
    names = sorted((key for key in logs if not key.startswith("val_")),
                   key=lambda key: key != "loss")
    figure, axes = pyplot.subplots(
        1, len(names), figsize=(4.5 * len(names), 3.5), squeeze=False)
    for axis, name in zip(axes[0], names):
        axis.plot(epochs, logs[name], "o-", label="training")
        if f"val_{name}" in logs:
            axis.plot(epochs, logs[f"val_{name}"], "s--", label="validation")
        axis.set_title(name)
        axis.set_xlabel("epoch")
        axis.legend()
        axis.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    pyplot.close(figure)
    return path
