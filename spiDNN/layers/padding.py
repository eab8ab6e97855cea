"""ZeroPadding2D, as Keras': rows and columns of zeros around the input.

It runs on the pool app as a 1x1 window whose padding reads as zero."""
from spiDNN.layers.arguments import zero_padding_2d
from spiDNN.layers.layer import unique_name
from spiDNN.layers.windowed import WindowedLayer


class ZeroPadding2D(WindowedLayer):
    """``ZeroPadding2D(padding=1)``: an int, (rows, columns) or
    ((top, bottom), (left, right))."""

    takes_cores = True
    mode = "pad"
    rank = 2
    #: Its gradient is the window's "max" (pool_argmax): it reads inputs.
    gradient_reads_inputs = True

    def __init__(self, padding=1, neurons_per_core=None, name=None):
        super().__init__(name or unique_name("zero_padding2d"),
                         neurons_per_core)
        self.pads = zero_padding_2d(padding)
        self.kernel_size = self.strides = (1, 1)
        self.padding = "explicit"

    def keras_config(self):
        return {"padding": self.pads}

    def window_pads(self, rows, columns):
        (top, bottom), (left, right) = self.pads
        return (rows + top + bottom, top), (columns + left + right, left)
