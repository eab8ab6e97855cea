"""Every optimizer the cores run, as the C side needs it: one entry each,
from which layouts.py generates the optimizer ids, the optimizer fields of
the cores' params, the optimizer struct's constants, the dispatch list
and the update cost points.  Standard library only (the C build runs
layouts.py as a plain script).

The host side of each optimizer (argument checking, Keras conversion,
step scale) is its class in spiDNN/optimizers.py, which names its entry
here; its update is c_code/common/optimizers/<name>.h.
"""
import collections

#: One optimizer on the cores.
#:
#: ``name``: the Keras-style name (``optimizers.get(name)``), also the C
#: prefix: OPTIMIZER_<NAME> is its id and optimizers/<name>.h defines
#: ``<name>_n_states``, ``<name>_cost_point`` and ``<name>_step``.
#: ``constants``: (field, type, comment) of the params fields it reads,
#: type "float" (float32 bits in the params) or "uint32"; a field two
#: optimizers share is one field (same type).
#: ``states``: its state arrays per weight array, in the cores' order (the
#: settings may leave the last ones out: n_states).
#: ``variants``: its cost points, ``update_<variant>``, one per way its
#: settings change the work per weight (momentum, Nesterov).
Optimizer = collections.namedtuple(
    "Optimizer", "name constants states variants")

#: The optimizers, in id order (the id is the position).
TABLE = (
    Optimizer(
        "sgd",
        constants=(
            ("momentum", "float", "SGD's and RMSprop's momentum"),
            ("nesterov", "uint32", "1: SGD's Nesterov momentum"),
        ),
        states=("momentums",),
        variants=("sgd", "sgd_momentum", "sgd_nesterov")),
    Optimizer(
        "adam",
        constants=(
            ("one_minus_beta_1", "float", "Adam's 1 - beta_1"),
            ("one_minus_beta_2", "float", "Adam's 1 - beta_2"),
            ("epsilon", "float", "Adam's and RMSprop's epsilon"),
        ),
        states=("momentums", "velocities"),
        variants=("adam",)),
    Optimizer(
        "rmsprop",
        constants=(
            ("rho", "float", "RMSprop's rho"),
            ("one_minus_rho", "float", "RMSprop's 1 - rho"),
            ("momentum", "float", "SGD's and RMSprop's momentum"),
            ("epsilon", "float", "Adam's and RMSprop's epsilon"),
        ),
        states=("velocities", "momentums"),
        variants=("rmsprop", "rmsprop_momentum")),
)

#: By name, in id order.
BY_NAME = {entry.name: entry for entry in TABLE}

#: Ids the cores use (OPTIMIZER_*), by name.
IDS = {entry.name: i for i, entry in enumerate(TABLE)}

#: The most state arrays any optimizer keeps per weight array.
MAX_STATES = max(len(entry.states) for entry in TABLE)

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
