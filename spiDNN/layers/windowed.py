"""What convolution, pooling and zero padding share: a window sliding over
a channels_last input, described by one geometry (the WINDOW region)."""
from spiDNN.errors import SpiDNNConfigurationError
from spiDNN.layers.arguments import int_tuple, window_output
from spiDNN.layers.layer import Layer


#: The axes of the WINDOW region's shapes.
AXES = ("height", "width", "channels")


def window_geometry(input_shape, output_shape):
    """The WINDOW region's fields of a layer from ``input_shape`` to
    ``output_shape`` (rows, columns, channels each) with a 1x1 window:
    what every windowed layer starts from (a Permute's strides unused)."""
    return {
        **{f"in_{axis}": n for axis, n in zip(AXES, input_shape)},
        **{f"out_{axis}": n for axis, n in zip(AXES, output_shape)},
        "kernel_height": 1, "kernel_width": 1, "stride_height": 1,
        "stride_width": 1, "pad_top": 0, "pad_left": 0,
        **{f"{kind}_{axis}_stride": 0 for kind in ("permute", "unpermute")
           for axis in AXES}}


class WindowedLayer(Layer):
    """A layer whose output element depends on a window of its input.

    ``rank`` is 1 (inputs (steps, channels)) or 2 (rows, columns,
    channels).  Subclasses set ``kernel_size``, ``strides`` and ``padding``
    ("valid" or "same") or override ``window_pads``.
    """

    rank = 2

    def __init__(self, name, neurons_per_core=None):
        super().__init__(name)
        self.request_slice(neurons_per_core)
        self.geometry = None

    def _dims(self, value, what):
        return int_tuple(value, self.rank, what)

    def _2d(self, dims):
        """Rows and columns of a 1-D or 2-D size (1-D layers: one row)."""
        return (1,) * (2 - self.rank) + tuple(dims)

    def output_channels(self, input_channels):
        return input_channels

    def window_pads(self, rows, columns):
        """((out rows, pad top), (out columns, pad left))."""
        (kh, kw), (sh, sw) = self._2d(self.kernel_size), self._2d(self.strides)
        return (window_output(rows, kh, sh, self.padding),
                window_output(columns, kw, sw, self.padding))

    def output_shape_for(self, input_shape):
        kind = type(self).__name__
        if len(input_shape) != self.rank + 1:
            raise SpiDNNConfigurationError(
                f"{self.name} ({kind}) needs inputs of {self.rank + 1} "
                f"dimensions ({'steps' if self.rank == 1 else 'rows, columns'}"
                f", channels), got shape {input_shape}; add it after an "
                f"Input or a layer of that shape")
        rows, columns = self._2d(input_shape[:-1])
        channels = input_shape[-1]
        (out_rows, top), (out_columns, left) = self.window_pads(rows, columns)
        if out_rows <= 0 or out_columns <= 0:
            raise SpiDNNConfigurationError(
                f"{self.name} ({kind}): its window does not fit its input "
                f"of shape {input_shape} with padding {self.padding!r}")
        (kh, kw), (sh, sw) = self._2d(self.kernel_size), self._2d(self.strides)
        out_channels = self.output_channels(channels)
        self.geometry = {
            **window_geometry((rows, columns, channels),
                              (out_rows, out_columns, out_channels)),
            "kernel_height": kh, "kernel_width": kw, "stride_height": sh,
            "stride_width": sw, "pad_top": top, "pad_left": left}
        spatial = (out_columns,) if self.rank == 1 else (out_rows,
                                                         out_columns)
        return spatial + (out_channels,)

    @property
    def slice_granularity(self):
        """neurons_per_core is a multiple of this: the output channels (a
        core computes whole output positions)."""
        return self.output_shape[-1]
