"""Permute, as Keras': the input's axes (not the batch's) reordered.

Reordering moves every element elsewhere, so it needs cores, unlike
Reshape: it runs on the pool app (mode "permute") as a windowed layer,
each core taking the whole input (its "receptive field": any output row
may read any input row) and computing whole output positions.
The machine numbers an input of up to three axes as (height, width,
channels), a two-axis one as one row; each output axis reads an input
axis at that axis' stride (``permute_*_stride``), and the backward pass
sends input element b the delta of the output element it became
(``unpermute_*_stride``: each input axis' stride in the output).
"""
from spiDNN.errors import SpiDNNConfigurationError
from spiDNN.layers.layer import unique_name
from spiDNN.layers.windowed import AXES, WindowedLayer, window_geometry


def _strides(shape):
    """Row-major strides of a three-axis shape."""
    return (shape[1] * shape[2], shape[2], 1)


class Permute(WindowedLayer):
    """``Permute(dims)``: output axis i is input axis ``dims[i]`` (1 the
    first axis after the batch), as Keras."""

    takes_cores = True
    mode = "permute"

    def __init__(self, dims, neurons_per_core=None, name=None):
        super().__init__(name or unique_name("permute"), neurons_per_core)
        dims = tuple(dims) if isinstance(dims, (tuple, list)) else None
        if not dims or any(isinstance(d, bool) or not hasattr(
                type(d), "__index__") for d in dims) or (
                sorted(dims) != list(range(1, len(dims) + 1))):
            raise SpiDNNConfigurationError(
                f"Permute dims must be a permutation of 1 .. the input's "
                f"number of axes, such as (2, 1), not {dims!r}")
        self.dims = tuple(int(d) for d in dims)
        self.kernel_size = self.strides = (1, 1)
        self.padding = "valid"

    def output_shape_for(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) != len(self.dims) or len(input_shape) > 3:
            raise SpiDNNConfigurationError(
                f"{self.name}: Permute{self.dims} reorders "
                f"{len(self.dims)} axes, but its input has shape "
                f"{input_shape}" + (
                    "; spiDNN's inputs have at most 3 axes"
                    if len(input_shape) > 3 else ""))
        output_shape = tuple(input_shape[d - 1] for d in self.dims)
        # Padded in front to three axes, which the permutation keeps.
        pad = 3 - len(input_shape)
        in3 = (1,) * pad + input_shape
        out3 = (1,) * pad + output_shape
        axes = tuple(range(pad)) + tuple(pad + d - 1 for d in self.dims)
        in_strides, out_strides = _strides(in3), _strides(out3)
        self.geometry = {
            **window_geometry(in3, out3),
            **{f"permute_{name}_stride": in_strides[axes[k]]
               for k, name in enumerate(AXES)},
            **{f"unpermute_{name}_stride": out_strides[axes.index(k)]
               for k, name in enumerate(AXES)}}
        return output_shape

    # Any output row may read any input row: every core keeps the whole
    # input, and gathers every delta to send its inputs' gradients.
    def input_span(self, lo, hi):
        return 0, self.n_inputs

    def output_span(self, lo, hi):
        return (0, self.units) if hi > lo else (0, 0)

    @property
    def slice_granularity(self):
        """A core computes whole output positions (the last axis')."""
        return self.output_shape[-1]

    def keras_config(self):
        return {"dims": self.dims}
