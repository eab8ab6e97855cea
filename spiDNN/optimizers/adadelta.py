"""``keras.optimizers.Adadelta`` on the cores
(c_code/common/optimizers/adadelta.h)."""
from spiDNN.abi import optimizers as abi
from spiDNN.optimizers.base import (
    F32_MAX, Optimizer, f32, fraction, one_minus, register)


@register
class Adadelta(Optimizer):
    """``keras.optimizers.Adadelta``: ``a <- rho a + (1 - rho) g^2``,
    ``d = -sqrt(s + epsilon) g / sqrt(a + epsilon)``, ``s <- rho s + (1 -
    rho) d^2``, ``w <- w + lr d``."""

    ABI = abi.BY_NAME["adadelta"]
    KERAS = "Adadelta"
    KERAS_SETTINGS = ("rho", "epsilon")
    KERAS_SLOTS = ("_accumulated_grads", "_accumulated_delta_vars")
    CALIBRATION = {"adadelta": dict(learning_rate=1.0)}

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7,
                 weight_decay=None, clipvalue=None, clipnorm=None,
                 global_clipnorm=None):
        super().__init__(learning_rate, weight_decay, clipvalue,
                         clipnorm, global_clipnorm)
        self.rho = fraction(rho, "Adadelta rho")
        self.epsilon = fraction(epsilon, "Adadelta epsilon", 0.0, F32_MAX)

    def constants(self):
        # rho times a tensor: cast to float32; 1 - rho: in Python first.
        return {"rho": float(f32(self.rho)),
                "one_minus_rho": one_minus(self.rho),
                "epsilon": float(f32(self.epsilon))}
