"""``keras.optimizers.Adam`` (AMSGrad included) and ``AdamW`` on the cores
(c_code/common/optimizers/adam.h)."""
import numpy

from spiDNN.abi import optimizers as abi
from spiDNN.errors import SpiDNNConfigurationError
from spiDNN.optimizers.base import (
    F32_MAX, Optimizer, f32, fraction, one_minus, powers, register)


@register
class Adam(Optimizer):
    """``keras.optimizers.Adam``: ``m <- m + (g - m)(1 - beta_1)``,
    ``v <- v + (g^2 - v)(1 - beta_2)``, ``w <- w - m alpha / (sqrt(v) +
    epsilon)``, alpha the host's ``lr sqrt(1 - beta_2^t) / (1 -
    beta_1^t)``; with ``amsgrad`` the largest v so far stands for v."""

    ABI = abi.BY_NAME["adam"]
    KERAS = "Adam"
    KERAS_SETTINGS = ("beta_1", "beta_2", "epsilon", "amsgrad")
    KERAS_SLOTS = ("_momentums", "_velocities", "_velocity_hats")
    CALIBRATION = {"adam": dict(learning_rate=0.01),
                   "adam_amsgrad": dict(learning_rate=0.01, amsgrad=True)}

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, weight_decay=None,
                 clipvalue=None, clipnorm=None,
                 global_clipnorm=None):
        super().__init__(learning_rate, weight_decay, clipvalue,
                         clipnorm, global_clipnorm)
        name = type(self).__name__
        self.beta_1 = fraction(beta_1, f"{name} beta_1")
        self.beta_2 = fraction(beta_2, f"{name} beta_2")
        self.epsilon = fraction(epsilon, f"{name} epsilon", 0.0, F32_MAX)
        self.amsgrad = bool(amsgrad)

    def states(self):
        return self.ABI.states if self.amsgrad else self.ABI.states[:2]

    def constants(self):
        # Keras subtracts in Python (double), then the tensor maths casts
        # the result to float32.
        return {"one_minus_beta_1": one_minus(self.beta_1),
                "one_minus_beta_2": one_minus(self.beta_2),
                "epsilon": float(f32(self.epsilon)),
                "amsgrad": int(self.amsgrad)}

    def step_values(self, steps):
        """alpha = lr sqrt(1 - beta_2^t) / (1 - beta_1^t), in float32."""
        one = f32(1)
        alpha = (self.learning_rates(steps)
                 * numpy.sqrt(one - powers(self.beta_2, steps))
                 / (one - powers(self.beta_1, steps)))
        return alpha.astype(numpy.float32)[:, None]


@register
class AdamW(Adam):
    """``keras.optimizers.AdamW``: Adam with Keras' weight decay, which
    every optimizer applies the same way (``w - w wd lr`` before the
    step), and whose default is 0.004."""

    NAME = "adamw"
    KERAS = "AdamW"

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9,
                 beta_2=0.999, epsilon=1e-7, amsgrad=False, clipvalue=None, clipnorm=None,
                 global_clipnorm=None):
        if weight_decay is None:
            raise SpiDNNConfigurationError(
                "AdamW needs a weight_decay (as Keras' AdamW does); for Adam "
                "without weight decay use Adam")
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad,
                         weight_decay, clipvalue, clipnorm, global_clipnorm)
