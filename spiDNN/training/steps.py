"""Which batches each epoch takes, as Keras 3's ``EpochIterator``
(keras/src/trainers/epoch_iterator.py) decides: ``steps_per_epoch``,
``validation_steps``, ``evaluate(steps=)`` and ``predict(steps=)``, and
what happens when the data runs out.

Keras' rules, kept here exactly:

- without ``steps``, each epoch is a whole pass over the data (a new
  iterator, so a new shuffle, each epoch); a source of unknown length
  (a generator) runs until it is exhausted;
- with ``steps``, the iterator carries on from one epoch to the next; an
  epoch that finds it at the end of the data (its number of batches seen)
  warns that the input ran out and ends there, and the next epoch starts a
  new pass;
- a source that raises StopIteration warns, ends the epoch and learns its
  length from the batches seen (Keras counts the failed step too).
"""
import numbers
import warnings

from spiDNN.errors import SpiDNNConfigurationError

#: Keras' warning when the data runs out before ``steps`` batches.
RAN_OUT = ("Your input ran out of data; interrupting training. Make sure "
           "that your dataset or generator can generate at least "
           "`steps_per_epoch * epochs` batches. You may need to use the "
           "`.repeat()` function when building your dataset.")


def steps_argument(value, name):
    """``steps_per_epoch``, ``validation_steps`` or ``steps``: None (a
    whole pass), or a positive whole number."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or (
            value < 1):
        raise SpiDNNConfigurationError(
            f"{name} must be None or a positive whole number of batches, "
            f"not {value!r}")
    return int(value)


def validation_freq_argument(value):
    """Keras' ``validation_freq``: an int (every so many epochs) or a list
    of the epochs (1 first) to validate after."""
    if isinstance(value, bool):
        raise SpiDNNConfigurationError(
            f"validation_freq must be a positive int or a list of epochs "
            f"(1 first), not {value!r}")
    if isinstance(value, numbers.Integral):
        if value < 1:
            raise SpiDNNConfigurationError(
                f"validation_freq must be a positive int or a list of "
                f"epochs (1 first), not {value!r}")
        return int(value)
    if isinstance(value, (list, tuple)) and all(
            isinstance(one, numbers.Integral) and not isinstance(one, bool)
            for one in value):
        return [int(one) for one in value]
    raise SpiDNNConfigurationError(
        f"validation_freq must be a positive int or a list of epochs (1 "
        f"first), not {value!r}")


def should_validate(epoch, validation_freq):
    """Keras' Trainer._should_eval: validate after ``epoch`` (0 first)?"""
    if isinstance(validation_freq, int):
        return (epoch + 1) % validation_freq == 0
    return epoch + 1 in validation_freq


class Steps:
    """The batches of each epoch over ``source``: an object with
    ``num_batches`` (None where unknown), ``new_pass()`` (an iterator of a
    pass's batches) and ``on_epoch_begin``/``on_epoch_end`` (PyDataset's
    hooks).

    :param steps: the epoch's number of batches, or None (a whole pass)
    """

    def __init__(self, source, steps=None):
        self.source = source
        self.steps = steps
        self._iterator = None
        self._seen = 0
        self._num_batches = source.num_batches
        #: Whether the last epoch ran out of data (and warned).
        self.ran_out = False
        #: Whether the source raised StopIteration in the last epoch.
        self.stopped = False

    @property
    def num_batches(self):
        """Batches an epoch takes, where known (Keras' ``steps`` of the
        callbacks' params)."""
        return self.steps or self._num_batches

    def reset(self):
        """A new iterator for the next epoch, as Keras' evaluate and
        predict start theirs."""
        self._iterator = None
        self._seen = 0
        self._num_batches = self.source.num_batches
        self.source.on_epoch_end()

    def epoch(self):
        """Yields the batches of the next epoch."""
        self.ran_out = self.stopped = False
        self.source.on_epoch_begin()
        steps = self.steps or self._num_batches or -1
        if steps > 0:
            if self._iterator is None or self.steps is None:
                self._iterator = self.source.new_pass()
                self._seen = 0
            for _ in range(steps):
                if self._num_batches and self._seen >= self._num_batches:
                    if self.steps:
                        self._warn()
                    break
                self._seen += 1
                try:
                    batch = next(self._iterator)
                except StopIteration:
                    self._stopped()
                    return
                yield batch
            if self._num_batches and self._seen >= self._num_batches:
                self._iterator = self.source.new_pass()
                self._seen = 0
        else:
            iterator = self.source.new_pass()
            self._seen = 0
            while True:
                self._seen += 1
                try:
                    batch = next(iterator)
                except StopIteration:
                    self._stopped()
                    return
                yield batch
        self.source.on_epoch_end()

    def _warn(self):
        self.ran_out = True
        warnings.warn(RAN_OUT, UserWarning, stacklevel=4)

    def _stopped(self):
        """The source raised StopIteration (Keras' catch_stop_iteration)."""
        if self._num_batches is None:
            self._num_batches = self._seen
        self.stopped = True
        self._warn()
        self._iterator = None
        self.source.on_epoch_end()
