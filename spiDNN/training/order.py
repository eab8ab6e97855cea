"""The order of the samples, epoch by epoch."""
import numpy


class EpochOrder:
    """The order of the samples, epoch by epoch: ``order(epoch)``, asked
    for epochs 0, 1, ... in turn, draws each epoch's permutation when it
    starts (from the model's generator, so runs repeat exactly), so a long
    run holds one epoch's order at a time."""

    def __init__(self, n_samples, n_epochs, rng=None):
        self.n_samples = n_samples
        self.n_epochs = n_epochs
        self._rng = rng
        self._next = 0

    def __call__(self, epoch):
        if epoch != self._next:
            raise ValueError(f"epoch {epoch} asked for before epoch "
                             f"{self._next}")
        self._next += 1
        if self._rng is None:
            return numpy.arange(self.n_samples)
        return self._rng.permutation(self.n_samples)
