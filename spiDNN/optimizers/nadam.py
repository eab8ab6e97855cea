"""``keras.optimizers.Nadam`` on the cores
(c_code/common/optimizers/nadam.h)."""
import numpy

from spiDNN.abi import optimizers as abi
from spiDNN.optimizers.base import (
    F32_MAX, Optimizer, f32, fraction, one_minus_f32, powers, register)

#: Keras' momentum-cache decay (keras/src/optimizers/nadam.py).
_DECAY = 0.96

#: {beta_1 as float32: [u_1 ... u_t products for t = 0, 1, ...]}: Keras
#: keeps the product as a variable stepped each step; the host steps it
#: once per step of any run, in float32, as Keras does.
_PRODUCTS = {}


def _cache_factors(steps):
    """``1 - 0.5 * 0.96^t`` of each step's t (step + 1), float32."""
    return f32(1) - f32(0.5) * powers(_DECAY, steps)


def u_products(beta_1, n):
    """The momentum cache's product after 0 .. n steps, as Keras' Nadam
    steps its variable: ``U <- U * beta_1 * (1 - 0.5 * 0.96^t)``, from
    1.0."""
    products = _PRODUCTS.setdefault(f32(beta_1), [f32(1)])
    if len(products) <= n:
        done = len(products) - 1
        factors = _cache_factors(range(done, n))
        for factor in factors:
            products.append(products[-1] * f32(beta_1) * factor)
    return numpy.array(products[:n + 1], dtype=numpy.float32)


@register
class Nadam(Optimizer):
    """``keras.optimizers.Nadam``: Adam's moments, with Nesterov's
    momentum through Keras' momentum cache ``u_t = beta_1 (1 - 0.5
    0.96^t)``: ``w <- w - lr m_hat / (sqrt(v_hat) + epsilon)``, ``m_hat =
    u_{t+1} m / (1 - U_{t+1}) + (1 - u_t) g / (1 - U_t)``, ``v_hat = v /
    (1 - beta_2^t)``; the terms in t the host's."""

    ABI = abi.BY_NAME["nadam"]
    KERAS = "Nadam"
    KERAS_SETTINGS = ("beta_1", "beta_2", "epsilon")
    KERAS_SLOTS = ("_momentums", "_velocities")
    CALIBRATION = {"nadam": dict(learning_rate=0.01)}

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, weight_decay=None, clipvalue=None, clipnorm=None,
                 global_clipnorm=None):
        super().__init__(learning_rate, weight_decay, clipvalue,
                         clipnorm, global_clipnorm)
        self.beta_1 = fraction(beta_1, "Nadam beta_1")
        self.beta_2 = fraction(beta_2, "Nadam beta_2")
        self.epsilon = fraction(epsilon, "Nadam epsilon", 0.0, F32_MAX)

    def constants(self):
        # Nadam casts beta_1 and beta_2 to float32 before 1 - beta.
        return {"one_minus_beta_1": one_minus_f32(self.beta_1),
                "one_minus_beta_2": one_minus_f32(self.beta_2),
                "epsilon": float(f32(self.epsilon))}

    def step_values(self, steps):
        """lr, u_{t+1}, 1 - U_{t+1}, 1 - u_t, 1 - U_t, 1 - beta_2^t of
        each step's t = step + 1, as Keras' update_step computes them (U_t
        its variable, stepped before the update)."""
        steps = numpy.asarray([int(step) for step in steps], dtype=int)
        beta_1, one = f32(self.beta_1), f32(1)
        u = beta_1 * _cache_factors(steps)
        u_next = beta_1 * _cache_factors(steps + 1)
        products = u_products(self.beta_1, int(steps.max(initial=0)) + 1)
        u_product = products[steps + 1]
        return numpy.stack([
            self.learning_rates(steps), u_next, one - u_product * u_next,
            one - u, one - u_product,
            one - powers(self.beta_2, steps)], axis=1).astype(numpy.float32)

    def keras_variables(self, iterations):
        return {"_u_product": u_products(self.beta_1, iterations)[-1]}
