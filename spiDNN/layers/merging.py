"""Layers that merge several inputs, as Keras' merging layers: Add,
Subtract, Multiply, Average, Maximum, Minimum (element by element, in
the inputs' order: ``inputs[0] op inputs[1]``, then op the next) and
Concatenate.  They take a list: ``Add()([x, y])``, or ``x + y``.

They run on the merge app: each core takes its slice of each input, so
a merge's cores receive only the elements they combine."""
import math

from spiDNN.errors import SpiDNNConfigurationError
from spiDNN.layers.layer import Layer, unique_name


class Merge(Layer):
    """What the merges share: a list of inputs, a slice of the output's
    elements per core (``neurons_per_core``, as Dense's).

    ``op`` is the merge app's operation (``layouts.MERGE_OPS``)."""

    takes_cores = True
    merges = True
    op = None
    #: Exactly this many inputs (None: two or more).
    n_sources = None

    def __init__(self, neurons_per_core="auto", name=None):
        super().__init__(name or unique_name(_snake(type(self).__name__)))
        self.request_slice(neurons_per_core)

    def _check_count(self, input_shapes):
        kind = type(self).__name__
        wanted = self.n_sources
        if (wanted is None and len(input_shapes) < 2) or (
                wanted is not None and len(input_shapes) != wanted):
            raise SpiDNNConfigurationError(
                f"{self.name} ({kind}) merges "
                + (f"exactly {wanted}" if wanted else "two or more")
                + f" inputs, got {len(input_shapes)}")

    def output_shape_for(self, input_shapes):
        self._check_count(input_shapes)
        first = tuple(input_shapes[0])
        for shape in input_shapes[1:]:
            if tuple(shape) != first:
                raise SpiDNNConfigurationError(
                    f"{self.name} ({type(self).__name__}) merges inputs "
                    f"of one shape element by element; got shapes "
                    f"{', '.join(str(tuple(s)) for s in input_shapes)} "
                    f"(spiDNN does not broadcast)")
        return first

    @property
    def row(self):
        """Output elements a core's slice is made of whole ones of: 1
        element by element (Concatenate: the rows it joins)."""
        return 1

    def source_rows(self):
        """Each input's elements per row (``row``)."""
        return [1] * len(self.input_shape)

    def core_inputs(self, n_neurons, training=False):
        rows = -(-n_neurons // self.row)
        return rows * sum(self.source_rows())

    @property
    def slice_granularity(self):
        return self.row


def _snake(name):
    return "".join(f"_{c.lower()}" if c.isupper() and i else c.lower()
                   for i, c in enumerate(name))


class Add(Merge):
    """``Add()([x, y, ...])``: their sum, in the inputs' order."""
    op = "add"


class Subtract(Merge):
    """``Subtract()([x, y])``: x - y."""
    op = "subtract"
    n_sources = 2


class Multiply(Merge):
    """``Multiply()([x, y, ...])``: their product, in the inputs' order."""
    op = "multiply"


class Average(Merge):
    """``Average()([x, y, ...])``: their sum divided by their number."""
    op = "average"


class Maximum(Merge):
    """``Maximum()([x, y, ...])``: the gradient goes to the first of equal
    maxima, as TensorFlow's."""
    op = "maximum"


class Minimum(Merge):
    """``Minimum()([x, y, ...])``: the gradient goes to the first of equal
    minima, as TensorFlow's."""
    op = "minimum"


class Concatenate(Merge):
    """``Concatenate(axis=-1)([x, y, ...])``: the inputs side by side
    along ``axis`` (Keras counts the batch axis as 0; -1 is the last,
    channels), their other axes equal.

    A core holds whole rows (the concatenated axis and those after it),
    so that its part of each input is one run of elements: flat inputs
    concatenate on one core."""
    op = "concatenate"

    def __init__(self, axis=-1, neurons_per_core="auto", name=None):
        super().__init__(neurons_per_core, name)
        if isinstance(axis, bool) or not hasattr(type(axis), "__index__"):
            raise SpiDNNConfigurationError(
                f"Concatenate axis must be an integer, not {axis!r}")
        self.axis = int(axis)

    def _axis(self, rank):
        """The axis as an index into a shape without the batch axis
        (Keras counts the batch axis as 0)."""
        axis = self.axis - 1 if self.axis > 0 else rank + self.axis
        if not 0 <= axis < rank:
            raise SpiDNNConfigurationError(
                f"{self.name} (Concatenate): axis={self.axis} is not an axis "
                f"of its inputs of {rank} dimensions (after the batch's)")
        return axis

    def output_shape_for(self, input_shapes):
        self._check_count(input_shapes)
        rank = len(input_shapes[0])
        axis = self._axis(rank)
        for shape in input_shapes:
            if len(shape) != rank or any(
                    a != b for i, (a, b) in enumerate(
                        zip(shape, input_shapes[0])) if i != axis):
                raise SpiDNNConfigurationError(
                    f"{self.name} (Concatenate): on axis {self.axis} its "
                    f"inputs must match in every other axis; got shapes "
                    f"{', '.join(str(tuple(s)) for s in input_shapes)}")
        out = list(input_shapes[0])
        out[axis] = sum(shape[axis] for shape in input_shapes)
        return tuple(out)

    @property
    def row(self):
        return math.prod(self.output_shape[self._axis(len(
            self.output_shape)):])

    def source_rows(self):
        axis = self._axis(len(self.output_shape))
        return [math.prod(shape[axis:]) for shape in self.input_shape]

    def keras_config(self):
        return {"axis": self.axis}


Layer.OPERATORS.update(add=Add, subtract=Subtract, multiply=Multiply)
