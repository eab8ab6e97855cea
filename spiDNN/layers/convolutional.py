"""Conv1D and Conv2D, as Keras' (channels_last, no dilation or groups)."""
import numpy

from spiDNN.initializers import glorot_uniform
from spiDNN.layers.arguments import padding_mode, positive_int
from spiDNN.layers.layer import KernelAndBias, activation_name, unique_name
from spiDNN.layers.windowed import WindowedLayer


class _Conv(KernelAndBias, WindowedLayer):
    """A convolution.  One whose window covers its whole input (one output
    position, no padding, as LeNet-5's C5) is a Dense layer over the
    flattened input with the kernel reshaped (Keras' kernel layout
    flattens in the input's channels_last order), and runs on the dense
    app, so its filters can be sliced over cores like neurons."""

    takes_cores = True

    def keras_config(self):
        return {"filters": self.filters, "kernel_size": self.kernel_size,
                "strides": self.strides, "padding": self.padding,
                "activation": self.activation, "use_bias": self.use_bias,
                **self.regularizer_config()}

    @property
    def is_fully_connected(self):
        g = self.geometry
        return g is not None and (
            g["kernel_height"], g["kernel_width"], g["pad_top"],
            g["pad_left"], g["out_height"], g["out_width"]) == (
            g["in_height"], g["in_width"], 0, 0, 1, 1)

    @property
    def slice_granularity(self):
        return 1 if self.is_fully_connected else self.output_shape[-1]

    @property
    def softmax_span(self):
        """Keras' softmax on a convolution is over the channels of each
        output position, which a core holds whole (one position: the
        whole layer, on the dense app)."""
        return None if self.is_fully_connected else self.output_shape[-1]

    @property
    def kernel(self):
        """The kernel as a Dense kernel (inputs, filters)."""
        return self.weights[0].reshape(self.n_inputs, self.filters)

    def outgoing_rows(self, lo, hi, kernel=None):
        kernel = self.kernel if kernel is None else numpy.reshape(
            kernel, (self.n_inputs, self.filters))
        return kernel[lo:hi]

    def __init__(self, filters, kernel_size, strides=1, padding="valid",
                 activation=None, neurons_per_core=None, name=None,
                 stride=None, use_bias=True, kernel_regularizer=None,
                 bias_regularizer=None, weights_in="auto"):
        kind = type(self).__name__
        super().__init__(name or unique_name(kind.lower()), neurons_per_core)
        self.take_weights_in(weights_in)
        self.take_use_bias(use_bias)
        self.take_regularizers(kernel_regularizer, bias_regularizer)
        if stride is not None:        # the original spiDNN's spelling
            strides = stride
        self.filters = positive_int(filters, f"{kind} filters")
        self.kernel_size = self._dims(kernel_size, f"{kind} kernel_size")
        self.strides = self._dims(strides, f"{kind} strides")
        self.padding = padding_mode(padding, kind)
        self.activation = activation_name(activation)

    def output_channels(self, input_channels):
        return self.filters

    def initial_weights(self, rng):
        # Keras' GlorotUniform on a kernel: the fans count the window.
        window = self.geometry["kernel_height"] * self.geometry[
            "kernel_width"]
        shape = self.kernel_size + (self.input_shape[-1], self.filters)
        return self.with_bias(
            glorot_uniform(rng, window * self.input_shape[-1],
                           window * self.filters, shape), self.filters)


class Conv1D(_Conv):
    """``Conv1D(filters, kernel_size, strides=1, padding="valid",
    activation=None, use_bias=True, kernel_regularizer=None,
    bias_regularizer=None)`` over (steps, channels) inputs; the original spiDNN's
    ``stride=`` works too.

    :param neurons_per_core: output elements per core, a multiple of
        ``filters`` (whole positions with every filter); None chooses the
        fewest cores that fit
    :param weights_in: where each core keeps its kernel (and, training,
        its gradients, optimizer state and each position's sums):
        ``"dtcm"``, ``"sdram"`` (streamed through DMA, the same numbers),
        or ``"auto"``, the default: DTCM where it fits, else SDRAM
    """
    rank = 1


class Conv2D(_Conv):
    """``Conv2D(filters, kernel_size, strides=1, padding="valid",
    activation=None, use_bias=True, kernel_regularizer=None,
    bias_regularizer=None)`` over (rows, columns, channels) inputs.

    :param neurons_per_core: output elements per core, a multiple of
        ``filters`` (whole positions with every filter); None chooses the
        fewest cores that fit
    :param weights_in: where each core keeps its kernel (and, training,
        its gradients, optimizer state and each position's sums):
        ``"dtcm"``, ``"sdram"`` (streamed through DMA, the same numbers),
        or ``"auto"``, the default: DTCM where it fits, else SDRAM
    """
    rank = 2
