"""A training set as the board holds it (the feeder's SDRAM regions).

The inputs are kept as uint8 codes into a table of their values when they
take at most 256 distinct values (pixels scaled or not, binary data), so
the board sends back exactly the float32 the host had; otherwise as
float32.  Labels are the payload words the host would stream.  Every
epoch's order is drawn here, from the model's generator, as host-streamed
training draws it, and every optimizer step's learning rate and scale is
worked out here, so the board needs no host to train.

The validation samples, if any, are held after the training set's, so
that validation needs no host either.

When the samples do not fit one chip's share of SDRAM they are cut into
shards, each held by a feeder core that the placer puts where there is
room (another chip, when one is full).
"""
import numpy

from spiDNN.errors import SpiDNNConfigurationError

#: SDRAM one feeder core may hold: half a chip's 128 MiB, leaving the rest
#: to the chip's other cores.
SHARD_BYTES = 64 * 1024 * 1024
#: Codes a byte can hold.
TABLE_SIZE = 256


class BoardData:
    """The regions of each shard's feeder core.

    :param inputs: float32 (n_samples, n_inputs)
    :param labels: uint32 payload words (n_samples, label_width)
    :param order: the run's :py:class:`~spiDNN.training.order.EpochOrder`, whose
        epochs are all drawn here
    :param training: the run's :py:class:`~spiDNN.training.training_run.TrainingRun`
    :param validation: (inputs, labels) to validate on, or None
    :param first_epoch: the epoch the run starts from (Keras'
        ``initial_epoch``): the orders of the epochs before it are drawn,
        so that the seeded orders stay in step, but not held
    """

    def __init__(self, inputs, labels, order, training, shard_bytes=None,
                 validation=None, first_epoch=0):
        self.n_samples, self.n_inputs = inputs.shape
        self.label_width = labels.shape[1]
        self.first_epoch = first_epoch
        #: Epochs the feeder streams.
        self.n_epochs = order.n_epochs - first_epoch
        self.batch_size = training.batch_size
        #: Values a shard relays to the lead per sample.
        self.relayed = self.n_inputs + self.label_width
        self.validation = validation
        if validation is not None:
            inputs = numpy.concatenate([inputs, validation[0]])
            labels = numpy.concatenate([labels, validation[1]])
        self.n_validation = 0 if validation is None else len(validation[0])
        n_rows = len(inputs)
        bits = numpy.ascontiguousarray(inputs, dtype=numpy.float32).view(
            numpy.uint32)
        values = numpy.unique(bits)
        self.table = numpy.zeros(TABLE_SIZE, dtype=numpy.uint32)
        if len(values) <= TABLE_SIZE:
            self.table[:len(values)] = values
            codes = numpy.zeros(
                (n_rows, -(-self.n_inputs // 4) * 4), dtype=numpy.uint8)
            codes[:, :self.n_inputs] = numpy.searchsorted(values, bits)
            rows = codes.view(numpy.uint32)
        else:
            rows = bits
        #: The rows are uint8 codes into the table (else float32).
        self.coded = rows is not bits
        self._rows = rows
        self._labels = numpy.ascontiguousarray(labels, dtype=numpy.uint32)
        #: Every epoch's order, those before first_epoch included.
        self.orders = numpy.stack(
            [order(epoch) for epoch in range(order.n_epochs)]).astype(
                numpy.uint32)
        #: The orders of the epochs the feeder streams.
        self.order = self.orders[first_epoch:]
        # Steps go on from where the optimizer's state left them.
        # Per step: the learning rate, then the optimizer's step values.
        commands = training.step_commands(range(
            training.initial_step, training.initial_step + self.n_batches))
        self.schedule = numpy.stack([values for _, values in commands],
                                    axis=1).view(numpy.uint32)
        #: The optimizer's step values per step (after the learning rate).
        self.n_step_values = len(commands) - 1
        row_bytes = 4 * (rows.shape[1] + self.label_width)
        per_shard = (shard_bytes or SHARD_BYTES) // row_bytes
        if per_shard == 0:
            raise SpiDNNConfigurationError(
                f"one sample takes {row_bytes} bytes of SDRAM, more than a "
                f"feeder core may hold")
        #: (first sample, samples) of each shard.
        self.shards = [(first, min(per_shard, n_rows - first))
                       for first in range(0, n_rows, per_shard)]

    @property
    def n_batches(self):
        """The optimizer steps the feeder commits."""
        return self.n_epochs * -(-self.n_samples // self.batch_size)

    def epoch_order(self, epoch):
        """Epoch ``epoch``'s order, as the run's EpochOrder drew it."""
        return self.orders[epoch]

    def regions(self, shard):
        """[(region name, uint32 words)] of shard ``shard``'s core."""
        first, count = self.shards[shard]
        schedule = self.schedule.ravel() if shard == 0 else _NONE
        return [("TABLE", self.table),
                ("SAMPLES", self._rows[first:first + count].ravel()),
                ("SAMPLE_LABELS", self._labels[first:first + count].ravel()),
                ("ORDER", self.order.ravel() if self.order.size else _NONE),
                ("SCHEDULE", schedule if len(schedule) else _NONE)]


#: A region with nothing in it still has a word.
_NONE = numpy.zeros(1, dtype=numpy.uint32)
