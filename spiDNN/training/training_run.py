"""One ``fit`` as the machine sees it: each output's loss (a loss core
each), the optimizer and how many samples make a batch and the run."""
import dataclasses

import numpy

from spiDNN.abi import layouts
from spiDNN.training import outputs as output_losses


#: Samples streamed per call into the machine during fit, rounded up to
#: whole batches (progress and the running loss are updated between calls).
FIT_CHUNK = 256

#: The cores count samples in 32 bits: a stream of unknown length is a
#: pass of (almost) this many samples, all in batches of one size.
UNBOUNDED = 0xFFFFFFFF


def unbounded_samples(batch_size):
    """A pass's samples for a stream of unknown length: whole batches."""
    return UNBOUNDED // batch_size * batch_size


@dataclasses.dataclass(frozen=True)
class TrainingRun:
    #: Each output's loss core (spiDNN.training.outputs.OutputLoss), in
    #: the model's order of its outputs
    outputs: tuple
    optimizer: object      # a spiDNN.optimizers.Optimizer
    batch_size: int
    n_samples: int         # per epoch
    n_epochs: int
    #: The optimizer's state to start from: {layer name: [state arrays
    #: of each kind, each a list shaped as the layer's weights]}, or None
    optimizer_state: dict = None
    #: The optimizer's steps before this run (Keras' ``iterations``)
    initial_step: int = 0

    @property
    def unbounded(self):
        """The samples of a pass are not known (a generator's)."""
        return self.n_samples > UNBOUNDED - self.batch_size

    def history_params(self):
        """What a History of this run records as its ``params``."""
        names = [output.loss for output in self.outputs]
        return {"epochs": self.n_epochs, "batch_size": self.batch_size,
                "samples": None if self.unbounded else self.n_samples,
                "loss": names[0] if len(names) == 1 else names,
                "optimizer": self.optimizer}

    def layer_state(self, layer):
        """The state arrays of ``layer`` (a shared layer's use: of its
        layer) to start from, or None."""
        if not self.optimizer_state or not self.optimizer.n_states:
            return None
        return self.optimizer_state.get(layer.owner.name)

    @property
    def log_names(self):
        """What the loss cores report beside the total loss, by its name
        in the logs (each output's loss, with several; the metrics)."""
        return output_losses.log_names(self.outputs)

    @property
    def batch_averaged(self):
        """Of ``log_names``, how many first ones Keras averages over the
        batches (outputs.batch_averaged)."""
        return output_losses.batch_averaged(self.outputs)

    @property
    def metrics(self):
        """[(name in the logs, kind in layouts.METRICS)] of every
        output's metrics."""
        return tuple((output.log_name(name), kind) for output in self.outputs
                     for name, kind in output.metrics)

    @property
    def n_results(self):
        """Values the loss cores send the host per sample: each one's
        loss and its metrics' quantities."""
        return sum(1 + len(output.quantities) for output in self.outputs)

    @property
    def n_columns(self):
        """Columns of combine's second result (outputs.n_columns)."""
        return output_losses.n_columns(self.outputs)

    def metric_logs(self, columns):
        """The metrics' values of ``log_names`` from combine's columns of
        the samples so far (outputs.metric_logs)."""
        return output_losses.metric_logs(self.outputs, columns)

    def combine(self, values):
        """(total losses, the columns of ``log_names``) of the values the
        loss cores sent (output.combine)."""
        return output_losses.combine(self.outputs, values)

    def reduce_logged(self, losses, columns, sizes, words):
        """combine's (losses, columns) of whole batches (of ``sizes``,
        their label ``words``) as Keras logs them under each output's
        reduction (output.reduce_logged)."""
        return output_losses.reduce_logged(self.outputs, losses, columns,
                                           sizes, words)

    @property
    def takes_weight_sums(self):
        """A loss core divides by its batch's sum of sample weights,
        streamed with each training sample (mean_with_sample_weight)."""
        return output_losses.needs_weight_sums(self.outputs)

    def training_words(self, words, first):
        """The label ``words`` of a training chunk from sample ``first``
        of its pass: with each batch's sum of sample weights where a loss
        core divides by it (mean_with_sample_weight)."""
        if not self.takes_weight_sums:
            return words
        batch = (first + numpy.arange(len(words))) // self.batch_size
        return output_losses.with_weight_sums(self.outputs, words, batch)

    @property
    def n_batches(self):
        """Batches of the whole run (an epoch's last may be short)."""
        return self.n_epochs * -(-self.n_samples // self.batch_size)

    @property
    def chunk(self):
        """Samples a machine trains per call of the loop: FIT_CHUNK,
        rounded up to whole batches (commits fall inside a call)."""
        return -(-FIT_CHUNK // self.batch_size) * self.batch_size

    @property
    def batches_per_epoch(self):
        return -(-self.n_samples // self.batch_size)

    def ends_batch(self, index):
        """Whether the passes at ``index`` (an epoch's sample numbers, 0
        first) end a batch, so a commit follows them: every batch_size-th
        and the epoch's last."""
        index = numpy.asarray(index)
        return ((index + 1) % self.batch_size == 0) | (
            index + 1 == self.n_samples)

    def step_commands(self, steps):
        """[(control command, float32 per step)]: what the commit of each
        of optimizer ``steps`` carries: the learning rate (which weight
        decay scales by), then each of the optimizer's step values
        (``layouts.STEP_VALUE_COMMANDS``)."""
        optimizer = self.optimizer
        steps = [int(step) for step in numpy.ravel(steps)]
        values = optimizer.step_values(steps).astype(numpy.float32)
        assert values.shape == (len(steps), len(optimizer.ABI.step_values))
        return [("learning_rate", optimizer.learning_rates(steps))] + [
            (command, values[:, k])
            for k, command in enumerate(layouts.STEP_VALUE_COMMANDS[
                :values.shape[1]])]

    def batch_fields(self):
        """The batch-counting fields every training core's params carry."""
        return {"batch_size": self.batch_size, "n_samples": self.n_samples}
