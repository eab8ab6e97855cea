"""PReLU: ``max(x, 0) - alpha * max(-x, 0)`` with a trained alpha per
element, or per element of the axes not in ``shared_axes``, as Keras'
``PReLU``; on cores of its own (the prelu app)."""
import math

import numpy

from spiDNN.errors import SpiDNNConfigurationError
from spiDNN.layers.activation import _Elementwise
from spiDNN.layers.layer import KernelAndBias, unique_name


class PReLU(_Elementwise):
    """``PReLU(alpha_initializer="zeros", alpha_regularizer=None,
    shared_axes=None)``, as Keras'.

    :param alpha_initializer: ``"zeros"`` (Keras' default), ``"ones"``, or
        a number every alpha starts at
    :param alpha_regularizer: as a Dense's kernel_regularizer
        (:py:mod:`spiDNN.regularizers`)
    :param shared_axes: the input axes (1 the first after the batch's)
        along which one alpha serves every element, as Keras'
    """

    weight_names = ("alpha",)

    def __init__(self, alpha_initializer="zeros", alpha_regularizer=None,
                 shared_axes=None, neurons_per_core="auto", name=None):
        super().__init__(name or unique_name("p_re_lu"), neurons_per_core)
        from spiDNN import regularizers
        self.alpha_start = _initial_value(alpha_initializer)
        self.alpha_initializer = alpha_initializer
        self.kernel_regularizer = regularizers.get(
            alpha_regularizer, "PReLU alpha_regularizer")
        if shared_axes is None:
            shared_axes = ()
        elif isinstance(shared_axes, int) and not isinstance(
                shared_axes, bool):
            shared_axes = (shared_axes,)
        self.shared_axes = tuple(shared_axes)
        if not all(isinstance(axis, int) and not isinstance(axis, bool)
                   for axis in self.shared_axes):
            raise SpiDNNConfigurationError(
                f"{self.name}: PReLU shared_axes must be input axes "
                f"(integers), not {shared_axes!r}")

    def output_shape_for(self, input_shape):
        rank = len(input_shape)
        wrong = [axis for axis in self.shared_axes
                 if not 1 <= axis <= rank]
        if wrong:
            raise SpiDNNConfigurationError(
                f"{self.name}: PReLU shared_axes {list(self.shared_axes)} "
                f"must each be an input axis from 1 to {rank} (1 the first "
                f"after the batch's; Keras counts so)")
        if rank > 3:
            raise SpiDNNConfigurationError(
                f"{self.name}: spiDNN's PReLU takes inputs of at most 3 "
                f"axes, not shape {tuple(input_shape)}")
        return input_shape

    @property
    def alpha_shape(self):
        """Keras' param_shape: the input's, 1 along each shared axis."""
        return tuple(1 if axis + 1 in self.shared_axes else size
                     for axis, size in enumerate(self.input_shape))

    @property
    def n_alphas(self):
        return math.prod(self.alpha_shape)

    @property
    def shares_alphas(self):
        """An alpha serves several elements: the cores sum its gradient
        along the chain."""
        return self.n_alphas < self.units

    def initial_weights(self, rng):
        return [numpy.full(self.alpha_shape, self.alpha_start,
                           dtype=numpy.float32)]

    # The regulariser: the cores' "kernel" fields carry alpha's.
    use_bias = False
    bias_regularizer = None

    @property
    def regularised(self):
        return self.kernel_regularizer is not None

    regularizer_fields = KernelAndBias.regularizer_fields

    def keras_config(self):
        from spiDNN import regularizers
        return {"alpha_initializer": self.alpha_initializer
                if isinstance(self.alpha_initializer, str)
                else {"class_name": "Constant",
                      "config": {"value": self.alpha_start}},
                "alpha_regularizer": regularizers.to_keras(
                    self.kernel_regularizer),
                "shared_axes": list(self.shared_axes) or None}


def _initial_value(initializer):
    """The value every alpha starts at."""
    named = {"zeros": 0.0, "ones": 1.0}
    if isinstance(initializer, str) and initializer in named:
        return named[initializer]
    if isinstance(initializer, (int, float)) and not isinstance(
            initializer, bool) and math.isfinite(initializer):
        return float(initializer)
    raise SpiDNNConfigurationError(
        f"PReLU alpha_initializer={initializer!r}: spiDNN starts the alphas "
        f"at 'zeros', 'ones' or a number (set others with set_weights)")
