"""What ``Model.fit`` returns, shaped like Keras' ``History``."""
import numpy


def mean_loss(losses):
    """The mean of per-sample float32 losses, summed in float64 so that
    large (diverging) losses do not overflow on the way."""
    return float(numpy.mean(losses, dtype=numpy.float64))


def mean_of_batches(values, sizes):
    """The mean of the means of consecutive batches: of ``sizes`` samples
    each (a list), or of a batch size (an int; the last may be short), in
    float64."""
    values = numpy.asarray(values, dtype=numpy.float64)
    if numpy.ndim(sizes) == 0:
        starts = numpy.arange(0, len(values), sizes)
    else:
        starts = numpy.cumsum([0] + list(sizes))[:-1]
    sums = numpy.add.reduceat(values, starts)
    counts = numpy.diff(numpy.append(starts, len(values)))
    return float(numpy.mean(sums / counts))


class History:
    """``history.history``: per epoch, as Keras' ``History``, the mean
    training loss, each metric, and the validation loss and metrics
    (``val_``); ``history.epoch`` the epochs' numbers.

    :ivar sample_losses: per epoch, each sample's loss in the order the
        samples were trained (computed on the machine before that batch's
        update, as Keras' running loss is); under a reduction other than
        the batch's mean (``sum``, ``mean_with_sample_weight`` with
        weights), its share of the logged loss: its loss times a factor
        of its batch, so that the batch's mean is Keras' reduced loss
    """

    def __init__(self, params):
        self.params = dict(params)
        self.epoch = []
        # Keys in the order of the first epoch's logs, as Keras' (sorted).
        self.history = {}
        self.sample_losses = []

    def add_epoch(self, losses, logs=None, epoch=None):
        """Records an epoch: its sample losses and its other logs."""
        losses = numpy.asarray(losses, dtype=numpy.float32)
        self.epoch.append(len(self.epoch) if epoch is None else epoch)
        self.sample_losses.append(losses)
        logs = dict(logs or {"loss": mean_loss(losses)})
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)

    def __repr__(self):
        return f"History({self.history})"
