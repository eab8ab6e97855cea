"""Max and average pooling, as Keras' (channels_last)."""
from spiDNN.layers.arguments import padding_mode
from spiDNN.layers.layer import unique_name
from spiDNN.layers.windowed import WindowedLayer


class _Pooling(WindowedLayer):
    takes_cores = True
    mode = None

    def __init__(self, pool_size=2, strides=None, padding="valid",
                 neurons_per_core=None, name=None):
        kind = type(self).__name__
        super().__init__(name or unique_name(
            ("max_pooling" if self.mode == "max" else "average_pooling")
            + ("1d" if self.rank == 1 else "2d")), neurons_per_core)
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
