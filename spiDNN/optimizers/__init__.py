"""Optimizers the cores run at each batch end, with Keras' update rules
(``c_code/common/optimizer.h``): SGD (momentum, Nesterov), Adam (AMSGrad)
and AdamW, RMSprop (momentum, centred), Adagrad, Adadelta, Adamax, Nadam
and Lion.

Their state (momenta, velocities, accumulators) lives on the cores beside
the weights and counts against DTCM.  What depends on the step number
alone, the learning rate (a Keras schedule evaluated at the step) and
terms such as Adam's ``lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)``, the
host computes in float32 as Keras does and sends with the step's commit
(``step_values``).

An optimizer is its entry in spiDNN/abi/optimizers.py (what the cores
need: id, constants, state arrays, cost points, step values), its update
in c_code/common/optimizers/<name>.h, and its class here (one module
each), registered with ``@register``: argument checking, the constants'
values, the state arrays its settings keep, the step values, its Keras
counterpart (class, settings, slots) and the settings the calibration
measures each cost point with.  ``get``, the Keras conversion and the
state's round trip (conversion.py) all go through the registry.
"""
from spiDNN.optimizers.base import (
    Optimizer, calibration_optimizers, check_registry, register, registered)
from spiDNN.optimizers.sgd import SGD
from spiDNN.optimizers.adam import Adam, AdamW
from spiDNN.optimizers.rmsprop import RMSprop
from spiDNN.optimizers.adagrad import Adagrad
from spiDNN.optimizers.adadelta import Adadelta
from spiDNN.optimizers.adamax import Adamax
from spiDNN.optimizers.nadam import Nadam
from spiDNN.optimizers.lion import Lion
from spiDNN.optimizers.conversion import (
    get, state_from_keras, state_into_keras, to_keras)

check_registry()

__all__ = [
    "Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta",
    "Adamax", "Nadam", "Lion", "get", "to_keras", "state_from_keras",
    "state_into_keras", "register", "registered", "calibration_optimizers",
]
