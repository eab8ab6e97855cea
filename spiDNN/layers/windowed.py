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

    # ------------------------------------------------ receptive fields
    # A core keeps only the input its windows read: a band of whole rows
    # (of a 2-D input; of positions, 1-D), which is a contiguous run of
    # the input elements, as the machine numbers them.  Backward, the
    # input elements a core sends dL/dx of need the deltas of the output
    # rows whose windows read them: a band of the output too.

    def _axis(self):
        """(elements per input row, input rows, elements per output row,
        output rows, window rows, stride, padding above) along the axis
        the bands run: rows, or, 1-D, positions."""
        g = self.geometry
        if g["in_height"] > 1 or g["out_height"] > 1:
            return (g["in_width"] * g["in_channels"], g["in_height"],
                    g["out_width"] * g["out_channels"], g["out_height"],
                    g["kernel_height"], g["stride_height"], g["pad_top"])
        return (g["in_channels"], g["in_width"], g["out_channels"],
                g["out_width"], g["kernel_width"], g["stride_width"],
                g["pad_left"])

    def rows_read(self, first, end):
        """The input rows [lo, hi) that output rows [first, end) read; if
        they read only padding, the nearest row (every core takes some
        input: its arrival starts the core's pass)."""
        _, n_in, _, _, k, stride, pad = self._axis()
        lo = max(0, first * stride - pad)
        hi = min(n_in, (end - 1) * stride - pad + k)
        if hi <= lo:
            lo = min(lo, n_in - 1)
            hi = lo + 1
        return lo, hi

    def rows_reading(self, first, end):
        """The output rows [lo, hi) whose windows read input rows
        [first, end) (empty if none does)."""
        _, _, _, n_out, k, stride, pad = self._axis()
        lo = max(0, -(-(first + pad - k + 1) // stride))
        return lo, max(lo, min(n_out, (end - 1 + pad) // stride + 1))

    def input_span(self, lo, hi):
        """(first, n) of the input elements that output elements [lo, hi)
        read."""
        in_row, _, out_row, _, _, _, _ = self._axis()
        first, end = self.rows_read(lo // out_row, (hi - 1) // out_row + 1)
        return first * in_row, (end - first) * in_row

    def output_span(self, lo, hi):
        """(first, n) of the output elements whose windows read input
        elements [lo, hi); (0, 0) for none."""
        if hi <= lo:
            return 0, 0
        in_row, _, out_row, _, _, _, _ = self._axis()
        first, end = self.rows_reading(lo // in_row, (hi - 1) // in_row + 1)
        return (first * out_row, (end - first) * out_row) if end > first \
            else (0, 0)

    #: The backward pass reads the inputs of the windows over an element
    #: (a max's argmax), not only the deltas.
    gradient_reads_inputs = False

    def stored_span(self, lo, hi, owned=None):
        """(first, n) of the input elements a core of output elements
        [lo, hi) keeps: the windows', and, training, when the gradient
        reads inputs, those of the windows over the ``owned`` (first,
        end) input elements whose dL/dx it sends: the smallest run
        holding both."""
        first, n = self.input_span(lo, hi)
        if owned is None or not self.gradient_reads_inputs:
            return first, n
        out_first, out_n = self.output_span(*owned)
        if out_n == 0:
            return first, n
        back_first, back_n = self.input_span(out_first, out_first + out_n)
        end = max(first + n, back_first + back_n)
        first = min(first, back_first)
        return first, end - first

    def core_slices(self, n_neurons):
        """[(lo, hi)] of output elements of each core of ``n_neurons``."""
        return [(lo, min(lo + n_neurons, self.units))
                for lo in range(0, self.units, n_neurons)]

    def owned_inputs(self, n_cores):
        """[(first, end)] of the input elements each of ``n_cores`` cores
        sends dL/dx of: an even split, in core order."""
        q = -(-self.n_inputs // n_cores)
        return [(min(c * q, self.n_inputs), min((c + 1) * q, self.n_inputs))
                for c in range(n_cores)]

    def core_inputs(self, n_neurons, training=False):
        """The most input elements a core of ``n_neurons`` keeps
        (``training``: one that sends dL/dx)."""
        slices = self.core_slices(n_neurons)
        owned = (self.owned_inputs(len(slices)) if training
                 else [None] * len(slices))
        return max(self.stored_span(lo, hi, mine)[1]
                   for (lo, hi), mine in zip(slices, owned))

    def core_deltas(self, n_neurons):
        """The most deltas a core of ``n_neurons`` gathers to send the
        dL/dx of its owned inputs."""
        n_cores = len(self.core_slices(n_neurons))
        return max(self.output_span(*owned)[1]
                   for owned in self.owned_inputs(n_cores))
