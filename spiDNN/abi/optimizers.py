"""Every optimizer the cores run, as the C side needs it: one entry each,
from which layouts.py generates the optimizer ids, the optimizer fields of
the cores' params, the optimizer struct's constants, the dispatch list
and the update cost points.  Standard library only (the C build runs
layouts.py as a plain script).

The host side of each optimizer (argument checking, Keras conversion,
step values) is its class in spiDNN/optimizers/<name>.py, which names its
entry here; its update is c_code/common/optimizers/<name>.h.
"""
import collections

#: One optimizer on the cores.
#:
#: ``name``: the Keras-style name (``optimizers.get(name)``), also the C
#: prefix: OPTIMIZER_<NAME> is its id and optimizers/<name>.h defines
#: ``<name>_n_states``, ``<name>_cost_point`` and ``<name>_step``.
#: ``constants``: (field, type, comment) of the params fields it reads,
#: type "float" (float32 bits in the params) or "uint32"; a field two
#: optimizers share is one field (same type), each optimizer giving it
#: its own value (Keras casts some before subtracting, some after).
#: ``states``: every state array it may keep per weight array; its
#: settings choose which (its class's ``states()``), which the
#: cores keep in this order (n_states of them).
#: ``variants``: its cost points, ``update_<variant>``, one per way its
#: settings change the work per weight (momentum, Nesterov).
#: ``step_values``: what each step's commit carries for its update, in
#: the order the update reads them (``step->values[k]``): quantities
#: that depend on the step number alone (the learning rate, Adam's bias
#: corrections), computed on the host in Keras' float32 order.
Optimizer = collections.namedtuple(
    "Optimizer", "name constants states variants step_values")

_EPSILON = ("epsilon", "float", "epsilon, added as Keras adds it")
_RHO = (("rho", "float", "rho, the decay of the squared gradients' "
                         "average"),
        ("one_minus_rho", "float", "1 - rho"))
_ONE_MINUS_BETAS = (
    ("one_minus_beta_1", "float", "1 - beta_1, as the optimizer's Keras "
                                  "update rounds it"),
    ("one_minus_beta_2", "float", "1 - beta_2, as the optimizer's Keras "
                                  "update rounds it"))
_BETA_2 = ("beta_2", "float", "beta_2, the second moment's decay")

#: The optimizers, in id order (the id is the position).
TABLE = (
    Optimizer(
        "sgd",
        constants=(
            ("momentum", "float", "SGD's and RMSprop's momentum"),
            ("nesterov", "uint32", "1: SGD's Nesterov momentum"),
        ),
        states=("momentums",),
        variants=("sgd", "sgd_momentum", "sgd_nesterov"),
        step_values=("learning_rate",)),
    Optimizer(
        "adam",
        constants=(*_ONE_MINUS_BETAS, _EPSILON,
                   ("amsgrad", "uint32", "1: Adam's AMSGrad (the largest "
                                         "velocity so far)")),
        states=("momentums", "velocities", "velocity_hats"),
        variants=("adam", "adam_amsgrad"),
        step_values=("alpha",)),
    Optimizer(
        "rmsprop",
        constants=(
            *_RHO,
            ("momentum", "float", "SGD's and RMSprop's momentum"),
            _EPSILON,
            ("centered", "uint32", "1: RMSprop's centred variance"),
        ),
        states=("velocities", "momentums", "average_gradients"),
        variants=("rmsprop", "rmsprop_momentum", "rmsprop_centered",
                  "rmsprop_centered_momentum"),
        step_values=("learning_rate",)),
    Optimizer(
        "adagrad",
        constants=(_EPSILON,),
        states=("accumulators",),
        variants=("adagrad",),
        step_values=("learning_rate",)),
    Optimizer(
        "adadelta",
        constants=(*_RHO, _EPSILON),
        states=("accumulated_grads", "accumulated_delta_vars"),
        variants=("adadelta",),
        step_values=("learning_rate",)),
    Optimizer(
        "adamax",
        constants=(_ONE_MINUS_BETAS[0], _BETA_2, _EPSILON),
        states=("m", "u"),
        variants=("adamax",),
        step_values=("learning_rate", "one_minus_beta_1_power")),
    Optimizer(
        "nadam",
        constants=(*_ONE_MINUS_BETAS, _EPSILON),
        states=("momentums", "velocities"),
        variants=("nadam",),
        # u_{t+1}, 1 - u_1 ... u_{t+1}, 1 - u_t, 1 - u_1 ... u_t and
        # 1 - beta_2^t of Keras' Nadam, t the step (1 first).
        step_values=("learning_rate", "u_next", "one_minus_u_product_next",
                     "one_minus_u", "one_minus_u_product",
                     "one_minus_beta_2_power")),
    Optimizer(
        "lion",
        constants=(("beta_1", "float", "Lion's beta_1, the sign's "
                                       "interpolation"),
                   _ONE_MINUS_BETAS[0], _BETA_2, _ONE_MINUS_BETAS[1]),
        states=("momentums",),
        variants=("lion",),
        step_values=("learning_rate",)),
)

#: By name, in id order.
BY_NAME = {entry.name: entry for entry in TABLE}

#: Ids the cores use (OPTIMIZER_*), by name.
IDS = {entry.name: i for i, entry in enumerate(TABLE)}

#: The most state arrays any optimizer keeps per weight array.
MAX_STATES = max(len(entry.states) for entry in TABLE)

#: The most values a step's commit carries for any optimizer.
MAX_STEP_VALUES = max(len(entry.step_values) for entry in TABLE)

C_TYPES = {"float": "float", "uint32": "uint32_t"}


def constants():
    """{field: (type, comment)} of every optimizer's constants, each field
    once, in the table's order."""
    fields = {}
    for entry in TABLE:
        for field, kind, comment in entry.constants:
            assert kind in C_TYPES, (entry.name, field, kind)
            assert fields.setdefault(field, (kind, comment))[0] == kind, (
                f"{field}: two optimizers give it two types")
    return fields


def cost_points():
    """The update cost points, ``update_<variant>``, in the table's
    order."""
    return [f"update_{variant}" for entry in TABLE
            for variant in entry.variants]
