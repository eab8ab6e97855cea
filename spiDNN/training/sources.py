"""Where ``fit``, ``evaluate`` and ``predict`` take their samples from:
arrays (numpy arrays, lists, dicts of them by Input or output name), held
on the host and batched by spiDNN in its seeded order; or a streamed
source (``tf.data.Dataset``, ``keras.utils.PyDataset``, a Python
generator), read batch by batch through Keras' own data adapters, so each
is read as Keras reads it (its elements ``(x,)``, ``(x, y)`` or ``(x, y,
sample_weight)``, its length, its hooks), and never held whole.

A streamed source's batches set the batch size, as in Keras.  The cores
count the samples of each batch themselves (``c_code/common/batch.h``):
every batch holds the first batch's number of samples, except a pass's
last where the samples of a pass are known before the machine is loaded
(a dataset of known length, a PyDataset with ``len``).
"""
import dataclasses
import sys
import types

import numpy

from spiDNN.errors import SpiDNNConfigurationError

#: What spiDNN takes as data, for the errors.
ACCEPTED = ("numpy arrays (or lists, or a list or dict of them, one per "
            "Input by name), a tf.data.Dataset, a keras.utils.PyDataset or "
            "a Python generator")


@dataclasses.dataclass
class Batch:
    """A batch: ``rows`` of ``inputs`` (float32, (n, elements)) and of
    ``labels`` (the labels sources' words, or None for predict)."""
    inputs: numpy.ndarray
    labels: object
    rows: numpy.ndarray

    def __len__(self):
        return len(self.rows)


def _is_tf_dataset(x):
    module = type(x).__module__ or ""
    return module.startswith("tensorflow") and any(
        klass.__name__ in ("DatasetV2", "DistributedDataset")
        for klass in type(x).__mro__)


def _is_py_dataset(x):
    # A PyDataset is an instance of a class of Keras', so Keras is loaded
    # already; importing it here would take seconds of a plain predict
    # (TensorFlow), during which a Ctrl-C breaks the half-done imports.
    keras = sys.modules.get("keras")
    return keras is not None and isinstance(x, keras.utils.PyDataset)


def kind_of(x, what):
    """"array", "dataset", "pydataset" or "generator", or an error naming
    what spiDNN takes."""
    if isinstance(x, types.GeneratorType):
        return "generator"
    if _is_tf_dataset(x):
        return "dataset"
    if _is_py_dataset(x):
        return "pydataset"
    if isinstance(x, (numpy.ndarray, list, tuple, dict, numpy.generic,
                      int, float)) or hasattr(x, "__array__"):
        return "array"
    raise SpiDNNConfigurationError(
        f"{what}: spiDNN takes {ACCEPTED}, not {type(x).__name__}")


class ArraySource:
    """Batches of arrays held on the host: each pass in the order
    ``order()`` gives (drawn when the pass starts)."""

    def __init__(self, inputs, labels, batch_size, order=None):
        self.inputs = inputs
        self.labels = labels
        self.batch_size = batch_size
        self.n_samples = len(inputs)
        self._order = order or (lambda: numpy.arange(self.n_samples))
        self.num_batches = -(-self.n_samples // batch_size)

    def new_pass(self):
        def batches():
            rows = self._order()
            for lo in range(0, self.n_samples, self.batch_size):
                yield Batch(self.inputs, self.labels,
                            rows[lo:lo + self.batch_size])
        return batches()

    def on_epoch_begin(self):
        pass

    def on_epoch_end(self):
        pass


class StreamedSource:
    """A tf.data.Dataset, PyDataset or generator read through Keras' data
    adapter: ``convert(x, y, sample_weight)`` makes each element a
    (inputs, labels) pair the machine takes (set once the run is
    planned).

    :param what: the argument, for errors ("x", "validation_data")
    """

    def __init__(self, x, shuffle, what):
        from keras.src.trainers.data_adapters import get_data_adapter
        self.kind = kind_of(x, what)
        self.what = what
        try:
            self.adapter = get_data_adapter(x, shuffle=shuffle)
        except ValueError as error:
            raise SpiDNNConfigurationError(f"{what}: {error}") from None
        self.source = x
        self.convert = None
        self.num_batches = self.adapter.num_batches

    @property
    def infinite(self):
        """A tf.data.Dataset that repeats for ever."""
        if self.kind != "dataset":
            return False
        import tensorflow as tf
        return int(self.source.cardinality()) == int(
            tf.data.INFINITE_CARDINALITY)

    def first(self):
        """The (x, y, sample_weight) of the first batch (read again when
        the first pass starts; a generator's is kept by Keras' adapter)."""
        iterator = self.adapter.get_numpy_iterator()
        try:
            element = next(iter(iterator))
        except StopIteration:
            raise SpiDNNConfigurationError(
                f"{self.what}: the {self.described} yields no batch") from None
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()
        return unpack(element, self.what)

    @property
    def described(self):
        return {"dataset": "tf.data.Dataset", "pydataset": "PyDataset",
                "generator": "generator"}[self.kind]

    def samples_per_pass(self, batch_size):
        """The samples of one pass where they can be known before it runs
        without reading the data into memory (a dataset of known length:
        its batches' sizes; a PyDataset with ``len``: its last batch's), or
        None."""
        if self.num_batches is None:
            return None
        if self.kind == "dataset":
            import tensorflow as tf

            def size(*element):
                return tf.shape(tf.nest.flatten(element)[0])[0]
            sizes = [int(n) for n in self.source.map(size)]
            return int(sum(sizes))
        if self.kind == "pydataset":
            x, _, _ = unpack(self.source[self.num_batches - 1], self.what)
            return batch_size * (self.num_batches - 1) + batch_length(x)
        return None

    def new_pass(self):
        def batches():
            for element in self.adapter.get_numpy_iterator():
                x, y, weights = unpack(element, self.what)
                inputs, labels = self.convert(x, y, weights)
                yield Batch(inputs, labels, numpy.arange(len(inputs)))
        return batches()

    def on_epoch_begin(self):
        self.adapter.on_epoch_begin()

    def on_epoch_end(self):
        self.adapter.on_epoch_end()


def unpack(element, what):
    """Keras' (x, y, sample_weight) of a streamed element."""
    from keras.src.trainers.data_adapters.data_adapter_utils import (
        unpack_x_y_sample_weight)
    try:
        return unpack_x_y_sample_weight(element)
    except ValueError as error:
        raise SpiDNNConfigurationError(f"{what}: {error}") from None


def batch_length(x):
    """Samples of a batch's x (an array, or a list or dict of them)."""
    if isinstance(x, dict):
        x = next(iter(x.values()))
    elif isinstance(x, (list, tuple)):
        x = x[0]
    return len(x)

