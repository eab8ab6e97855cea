"""Max and average pooling, windowed and global, as Keras' (channels_last).

A global pooling layer is the pool app with one window covering the
whole input: one output position, so one core (the slices are whole
positions)."""
from spiDNN.errors import SpiDNNConfigurationError
from spiDNN.layers.arguments import padding_mode
from spiDNN.layers.layer import unique_name
from spiDNN.layers.windowed import WindowedLayer


def _keras_name(prefix, mode, rank):
    """Keras' default name: ``max_pooling2d``, ``global_average_pooling1d``
    ..."""
    return unique_name(f"{prefix}{mode}_pooling{rank}d")


class _Pooling(WindowedLayer):
    takes_cores = True
    mode = None

    @property
    def gradient_reads_inputs(self):
        """A max's gradient goes to its window's maximum."""
        return self.mode.startswith("max")

    def __init__(self, pool_size=2, strides=None, padding="valid",
                 neurons_per_core=None, name=None):
        kind = type(self).__name__
        super().__init__(name or _keras_name("", self.mode, self.rank),
                         neurons_per_core)
        self.pool_size = self._dims(pool_size, f"{kind} pool_size")
        self.strides = (self.pool_size if strides is None
                        else self._dims(strides, f"{kind} strides"))
        self.kernel_size = self.pool_size
        self.padding = padding_mode(padding, kind)

    def keras_config(self):
        return {"pool_size": self.pool_size, "strides": self.strides,
                "padding": self.padding}


class MaxPooling1D(_Pooling):
    """``MaxPooling1D(pool_size=2, strides=None, padding="valid")``."""
    mode, rank = "max", 1


class MaxPooling2D(_Pooling):
    """``MaxPooling2D(pool_size=2, strides=None, padding="valid")``; the
    gradient goes to each window's first maximum, as TensorFlow's."""
    mode, rank = "max", 2


class AveragePooling1D(_Pooling):
    """``AveragePooling1D(pool_size=2, strides=None, padding="valid")``."""
    mode, rank = "average", 1


class AveragePooling2D(_Pooling):
    """``AveragePooling2D(pool_size=2, strides=None, padding="valid")``;
    with "same" padding a window averages its elements inside the input."""
    mode, rank = "average", 2


class _GlobalPooling(WindowedLayer):
    """The max or mean of each channel over every position: a "valid"
    window the size of the input."""

    takes_cores = True
    mode = None
    gradient_reads_inputs = _Pooling.gradient_reads_inputs

    def __init__(self, keepdims=False, neurons_per_core=None, name=None):
        super().__init__(name or _keras_name(
            "global_", self.mode.split("_")[0], self.rank),
                         neurons_per_core)
        if not isinstance(keepdims, bool):
            raise SpiDNNConfigurationError(
                f"{type(self).__name__} keepdims must be True or False, not "
                f"{keepdims!r}")
        self.keepdims = keepdims
        self.padding = "valid"

    def output_shape_for(self, input_shape):
        # The window is the input's positions (a wrong rank is refused by
        # the geometry before the window is used).
        self.kernel_size = self.strides = tuple(input_shape[:-1])
        channels = super().output_shape_for(input_shape)[-1]
        return (1,) * self.rank * self.keepdims + (channels,)

    def keras_config(self):
        return {"keepdims": self.keepdims}


class GlobalMaxPooling1D(_GlobalPooling):
    """``GlobalMaxPooling1D(keepdims=False)``: output (channels,), or
    (1, channels) with keepdims.  Tied maxima of a channel share its
    gradient equally, as TensorFlow's reduce_max (max pooling gives it to
    the first)."""
    mode, rank = "max_shared", 1


class GlobalMaxPooling2D(_GlobalPooling):
    """``GlobalMaxPooling2D(keepdims=False)``: output (channels,), or
    (1, 1, channels) with keepdims; the gradient as GlobalMaxPooling1D's."""
    mode, rank = "max_shared", 2


class GlobalAveragePooling1D(_GlobalPooling):
    """``GlobalAveragePooling1D(keepdims=False)``: the mean of each channel
    over the steps (no mask); output (channels,) or (1, channels)."""
    mode, rank = "average", 1


class GlobalAveragePooling2D(_GlobalPooling):
    """``GlobalAveragePooling2D(keepdims=False)``: the mean of each channel
    over rows and columns; output (channels,) or (1, 1, channels)."""
    mode, rank = "average", 2
