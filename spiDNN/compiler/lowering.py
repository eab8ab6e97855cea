"""The model as the machine sees it: the layers that take cores, each with
its neighbours and the Dropout (if any) that its cores apply.

Flatten needs no core (the machine numbers neurons channels last, so it
changes only the shape) and a Dropout is a flag on the layer before it.
"""
import dataclasses

from spiDNN.errors import SpiDNNConfigurationError
from spiDNN.compiler.registry import vertex_class_of
from spiDNN.layers.core import Dropout
from spiDNN.abi import layouts


@dataclasses.dataclass(eq=False)
class CoreLayer:
    """A layer with cores, in the order of the model."""
    layer: object
    index: int
    dropout: object = None            # the Dropout layer after it
    previous: "CoreLayer" = None
    next: "CoreLayer" = None

    @property
    def vertex_class(self):
        """The application vertex class that runs the layer."""
        return vertex_class_of(self.layer)

    @property
    def is_first(self):
        return self.previous is None

    @property
    def is_output(self):
        return self.next is None

    @property
    def needs_backward(self):
        """Whether training needs this layer's backward pass: it or a layer
        before it has weights.  A first ZeroPadding, say, only forwards."""
        core = self
        while core is not None:
            if core.layer.weights:
                return True
            core = core.previous
        return False

    @property
    def sends_backward(self):
        """Whether, training, the layer sends the previous one gradients."""
        return self.previous is not None and self.previous.needs_backward

    @property
    def gradient_source(self):
        """Where the cores get dL/d(output) from when training (layouts'
        GRADIENT_SOURCES): the next Dense layer's deltas, through a copy
        of its kernel rows, or one packet per neuron directly."""
        if self.next is not None and self.next.vertex_class.SENDS_DELTAS:
            return "dense_deltas"
        return "direct"

    @property
    def n_next(self):
        """Values a core gathers per sample in the backward pass."""
        if self.gradient_source == "dense_deltas":
            return self.next.layer.units
        return self.layer.units

    @property
    def dropout_rate(self):
        return self.dropout.rate if self.dropout is not None else 0.0

    def dtcm_bytes(self, training, n_neurons=None, streamed=None,
                   inputs=None, carried=False, partial=False):
        """DTCM of one core holding ``n_neurons`` (default: a full slice),
        its kernel and inputs in SDRAM if ``streamed`` (default: as the
        layer is planned); in a 2-D split, a core of ``inputs`` of the
        layer's inputs, its sums ``carried`` from the previous block's,
        ``partial`` if its block is not the last."""
        vertex_class = self.vertex_class
        training = training if self.needs_backward else None
        if n_neurons is None:
            n_neurons = min(self.layer.neurons_per_core, self.layer.units)
        if streamed is None:
            streamed = self.layer.streamed
        if inputs is None:
            inputs = self.layer.n_inputs
        source = layouts.GRADIENT_SOURCES[
            "direct" if partial else self.gradient_source]
        return layouts.layer_dtcm_bytes(
            n_neurons, inputs, bool(training), source,
            self.n_next if not partial else n_neurons,
            self.dropout_rate > 0 and not partial,
            training.optimizer.n_states if training else 0, streamed,
            carried) + 4 * vertex_class.app_dtcm_floats(
                self, n_neurons, training, streamed, inputs, partial)


def core_layers(layers):
    """The CoreLayers of a model's layers (after its Input)."""
    result = []
    for layer in layers:
        if layer.takes_cores:
            core = CoreLayer(layer, len(result))
            if result:
                core.previous = result[-1]
                result[-1].next = core
            result.append(core)
        elif isinstance(layer, Dropout):
            if not result:
                raise SpiDNNConfigurationError(
                    f"{layer.name}: a Dropout must follow a layer with "
                    f"neurons (spiDNN drops on the cores of the layer "
                    f"before it), not the Input")
            if result[-1].dropout is not None:
                raise SpiDNNConfigurationError(
                    f"{layer.name}: two Dropouts after "
                    f"{result[-1].layer.name}; combine them into one")
            result[-1].dropout = layer
    for core in result:
        if core.dropout is not None and not core.needs_backward:
            raise SpiDNNConfigurationError(
                f"{core.dropout.name}: a Dropout before the first layer "
                f"with weights is not supported")
    if result and result[-1].dropout is not None:
        raise SpiDNNConfigurationError(
            f"{result[-1].dropout.name}: a Dropout after the output layer "
            f"is not supported: the loss takes the output layer's values")
    return result
