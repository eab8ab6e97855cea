"""``keras.optimizers.Adamax`` on the cores
(c_code/common/optimizers/adamax.h)."""
import numpy

from spiDNN.abi import optimizers as abi
from spiDNN.optimizers.base import (
    F32_MAX, Optimizer, f32, fraction, one_minus, powers, register)


@register
class Adamax(Optimizer):
    """``keras.optimizers.Adamax``: ``m <- m + (g - m)(1 - beta_1)``,
    ``u <- max(beta_2 u, |g|)``, ``w <- w - lr m / ((1 - beta_1^t) (u +
    epsilon))``, ``1 - beta_1^t`` the host's."""

    ABI = abi.BY_NAME["adamax"]
    KERAS = "Adamax"
    KERAS_SETTINGS = ("beta_1", "beta_2", "epsilon")
    KERAS_SLOTS = ("_m", "_u")
    CALIBRATION = {"adamax": dict(learning_rate=0.01)}

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, weight_decay=None, clipvalue=None, clipnorm=None,
                 global_clipnorm=None):
        super().__init__(learning_rate, weight_decay, clipvalue,
                         clipnorm, global_clipnorm)
        self.beta_1 = fraction(beta_1, "Adamax beta_1")
        self.beta_2 = fraction(beta_2, "Adamax beta_2")
        self.epsilon = fraction(epsilon, "Adamax epsilon", 0.0, F32_MAX)

    def constants(self):
        return {"one_minus_beta_1": one_minus(self.beta_1),
                "beta_2": float(f32(self.beta_2)),
                "epsilon": float(f32(self.epsilon))}

    def step_values(self, steps):
        """The learning rate and ``1 - beta_1^t`` (a float32 tensor's)."""
        return numpy.stack([self.learning_rates(steps),
                            f32(1) - powers(self.beta_1, steps)], axis=1)
