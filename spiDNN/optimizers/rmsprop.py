"""``keras.optimizers.RMSprop`` (momentum and centred) on the cores
(c_code/common/optimizers/rmsprop.h)."""
from spiDNN.abi import optimizers as abi
from spiDNN.optimizers.base import (
    F32_MAX, Optimizer, f32, fraction, one_minus, register)


@register
class RMSprop(Optimizer):
    """``keras.optimizers.RMSprop``: ``v <- rho v + (1 - rho) g^2``;
    centred, ``a <- rho a + (1 - rho) g`` and the variance is ``v - a^2``;
    the increment ``lr g / sqrt(variance + epsilon)`` is subtracted, or
    with momentum accumulated first, ``m <- momentum m + increment``."""

    ABI = abi.BY_NAME["rmsprop"]
    KERAS = "RMSprop"
    KERAS_SETTINGS = ("rho", "momentum", "epsilon", "centered")
    KERAS_SLOTS = ("_velocities", "_momentums", "_average_gradients")
    CALIBRATION = {
        "rmsprop": dict(learning_rate=0.01),
        "rmsprop_momentum": dict(learning_rate=0.01, momentum=0.5),
        "rmsprop_centered": dict(learning_rate=0.01, centered=True),
        "rmsprop_centered_momentum": dict(learning_rate=0.01, momentum=0.5,
                                          centered=True),
    }

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0,
                 epsilon=1e-7, centered=False, weight_decay=None,
                 clipvalue=None, clipnorm=None,
                 global_clipnorm=None):
        super().__init__(learning_rate, weight_decay, clipvalue,
                         clipnorm, global_clipnorm)
        self.rho = fraction(rho, "RMSprop rho")
        self.momentum = fraction(momentum, "RMSprop momentum",
                                 closed_high=True)
        self.epsilon = fraction(epsilon, "RMSprop epsilon", 0.0, F32_MAX)
        self.centered = bool(centered)

    def states(self):
        velocities, momentums, averages = self.ABI.states
        return ((velocities,) + ((momentums,) if self.momentum > 0 else ())
                + ((averages,) if self.centered else ()))

    def constants(self):
        return {"rho": float(f32(self.rho)),
                "one_minus_rho": one_minus(self.rho),
                "momentum": float(f32(self.momentum)),
                "epsilon": float(f32(self.epsilon)),
                "centered": int(self.centered)}
