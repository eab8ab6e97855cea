"""``keras.optimizers.SGD`` on the cores (c_code/common/optimizers/sgd.h)."""
from spiDNN.abi import optimizers as abi
from spiDNN.optimizers.base import Optimizer, f32, fraction, register


@register
class SGD(Optimizer):
    """``keras.optimizers.SGD``: ``w <- w - lr g``; with momentum,
    ``m <- momentum m - lr g``, then ``w <- w + m`` (or, Nesterov,
    ``w <- w + momentum m - lr g``)."""

    ABI = abi.BY_NAME["sgd"]
    KERAS = "SGD"
    KERAS_SETTINGS = ("momentum", "nesterov")
    KERAS_SLOTS = ("momentums",)
    CALIBRATION = {
        "sgd": dict(learning_rate=0.1),
        "sgd_momentum": dict(learning_rate=0.1, momentum=0.9),
        "sgd_nesterov": dict(learning_rate=0.1, momentum=0.9, nesterov=True),
    }

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False,
                 weight_decay=None, clipvalue=None, clipnorm=None,
                 global_clipnorm=None):
        super().__init__(learning_rate, weight_decay, clipvalue,
                         clipnorm, global_clipnorm)
        self.momentum = fraction(momentum, "SGD momentum", closed_high=True)
        self.nesterov = bool(nesterov)

    def states(self):
        return self.ABI.states if self.momentum else ()

    def constants(self):
        return {"momentum": float(f32(self.momentum)),
                "nesterov": int(self.nesterov)}
