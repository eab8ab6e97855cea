"""What ``Model.fit`` returns, shaped like Keras' ``History``."""
import numpy


def mean_loss(losses):
    """The mean of per-sample float32 losses, summed in float64 so that
    large (diverging) losses do not overflow on the way."""
    return float(numpy.mean(losses, dtype=numpy.float64))


class History:
    """``history["loss"]``: the mean training loss of each epoch.

    :ivar sample_losses: per epoch, each sample's loss in the order the
        samples were trained (computed on the machine before that batch's
        update, as Keras' running loss is)
    """

    def __init__(self, params):
        self.params = dict(params)
        self.epoch = []
        self.history = {"loss": []}
        self.sample_losses = []

    def add_epoch(self, losses):
        losses = numpy.asarray(losses, dtype=numpy.float32)
        self.epoch.append(len(self.epoch))
        self.sample_losses.append(losses)
        self.history["loss"].append(mean_loss(losses))

    def __repr__(self):
        return f"History(loss={self.history['loss']})"
