"""``keras.optimizers.Lion`` on the cores (c_code/common/optimizers/lion.h)."""
from spiDNN.abi import optimizers as abi
from spiDNN.optimizers.base import (
    Optimizer, f32, fraction, one_minus_f32, register)


@register
class Lion(Optimizer):
    """``keras.optimizers.Lion``: ``w <- w - lr sign(beta_1 m + (1 -
    beta_1) g)``, then ``m <- beta_2 m + (1 - beta_2) g``."""

    ABI = abi.BY_NAME["lion"]
    KERAS = "Lion"
    KERAS_SETTINGS = ("beta_1", "beta_2")
    KERAS_SLOTS = ("_momentums",)
    CALIBRATION = {"lion": dict(learning_rate=0.001)}

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99,
                 weight_decay=None, clipvalue=None, clipnorm=None,
                 global_clipnorm=None):
        super().__init__(learning_rate, weight_decay, clipvalue,
                         clipnorm, global_clipnorm)
        # Keras' own range for beta_1 (0 would make Lion SignSGD).
        self.beta_1 = fraction(beta_1, "Lion beta_1", closed_high=True,
                               open_low=True)
        self.beta_2 = fraction(beta_2, "Lion beta_2", closed_high=True)

    def constants(self):
        # Keras casts the betas to float32, then subtracts from 1.0.
        return {"beta_1": float(f32(self.beta_1)),
                "one_minus_beta_1": one_minus_f32(self.beta_1),
                "beta_2": float(f32(self.beta_2)),
                "one_minus_beta_2": one_minus_f32(self.beta_2)}
