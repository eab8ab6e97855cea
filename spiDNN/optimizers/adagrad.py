"""``keras.optimizers.Adagrad`` on the cores
(c_code/common/optimizers/adagrad.h)."""
from spiDNN.abi import optimizers as abi
from spiDNN.optimizers.base import (
    F32_MAX, Optimizer, f32, fraction, register)


@register
class Adagrad(Optimizer):
    """``keras.optimizers.Adagrad``: ``a <- a + g^2``, ``w <- w - lr g /
    sqrt(a + epsilon)``, the accumulators starting at
    ``initial_accumulator_value`` (sent to the cores as a state)."""

    ABI = abi.BY_NAME["adagrad"]
    KERAS = "Adagrad"
    KERAS_SETTINGS = ("initial_accumulator_value", "epsilon")
    KERAS_SLOTS = ("_accumulators",)
    CALIBRATION = {"adagrad": dict(learning_rate=0.05)}

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1,
                 epsilon=1e-7, weight_decay=None, clipvalue=None, clipnorm=None,
                 global_clipnorm=None):
        super().__init__(learning_rate, weight_decay, clipvalue,
                         clipnorm, global_clipnorm)
        self.initial_accumulator_value = fraction(
            initial_accumulator_value, "Adagrad initial_accumulator_value",
            0.0, F32_MAX)
        self.epsilon = fraction(epsilon, "Adagrad epsilon", 0.0, F32_MAX)

    def initial_values(self):
        return [float(f32(self.initial_accumulator_value))]

    def constants(self):
        return {"epsilon": float(f32(self.epsilon))}
