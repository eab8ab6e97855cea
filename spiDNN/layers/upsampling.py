"""UpSampling1D, UpSampling2D ("nearest") and RepeatVector, as Keras':
each input element repeated over a block of the output.  They run on the
pool app (mode "upsample"), the block's size standing in the window's."""
from spiDNN.errors import SpiDNNConfigurationError
from spiDNN.layers.arguments import positive_int
from spiDNN.layers.layer import unique_name
from spiDNN.layers.windowed import WindowedLayer


class _Repeat(WindowedLayer):
    takes_cores = True
    mode = "upsample"

    def __init__(self, name, size, neurons_per_core):
        super().__init__(name, neurons_per_core)
        self.kernel_size = self.strides = self._dims(
            size, f"{type(self).__name__} size")
        self.padding = "repeat"

    def window_pads(self, rows, columns):
        (kh, kw) = self._2d(self.kernel_size)
        return (rows * kh, 0), (columns * kw, 0)

    # The window's size is the repeat: output row r repeats input row
    # r // size.
    def rows_read(self, first, end):
        size = self._axis()[4]
        return first // size, (end - 1) // size + 1

    def rows_reading(self, first, end):
        size = self._axis()[4]
        return first * size, end * size


class UpSampling1D(_Repeat):
    """``UpSampling1D(size=2)``: each step repeated ``size`` times."""
    rank = 1

    def __init__(self, size=2, neurons_per_core=None, name=None):
        super().__init__(name or unique_name("up_sampling1d"), size,
                         neurons_per_core)

    def keras_config(self):
        return {"size": self.kernel_size[0]}


class UpSampling2D(_Repeat):
    """``UpSampling2D(size=(2, 2), interpolation="nearest")``: each row and
    column repeated."""
    rank = 2

    def __init__(self, size=(2, 2), interpolation="nearest",
                 neurons_per_core=None, name=None):
        if interpolation != "nearest":
            raise SpiDNNConfigurationError(
                f"UpSampling2D interpolation={interpolation!r}: spiDNN "
                f"computes 'nearest'")
        super().__init__(name or unique_name("up_sampling2d"), size,
                         neurons_per_core)

    def keras_config(self):
        return {"size": self.kernel_size, "interpolation": "nearest"}


class RepeatVector(_Repeat):
    """``RepeatVector(n)``: a flat input (features,) repeated as (n,
    features): one step of features channels, upsampled ``n`` times."""
    rank = 1

    def __init__(self, n, neurons_per_core=None, name=None):
        self.n = positive_int(n, "RepeatVector n")
        super().__init__(name or unique_name("repeat_vector"), self.n,
                         neurons_per_core)

    def output_shape_for(self, input_shape):
        if len(input_shape) != 1:
            raise SpiDNNConfigurationError(
                f"{self.name} (RepeatVector) takes a flat input, not shape "
                f"{tuple(input_shape)}")
        return super().output_shape_for((1,) + tuple(input_shape))

    def keras_config(self):
        return {"n": self.n}
