"""The settings of Keras' parameterised activations (its ReLU, LeakyReLU
and ELU layers'), and what the cores compute from them.

A layer carries its activation as the name the user wrote and, where
that activation has settings, a dict of them (``activation_settings``;
empty at the defaults of Keras' string, so a layer that never had
settings packs exactly what it did before).  ``core_activation`` turns
the two into the id the cores run and the constants of
``layer_params.activation_*``, choosing the id as Keras' ReLU op chooses
TensorFlow's ops, so that the gradients at the kinks agree too.
"""
import math

from spiDNN.abi import layouts
from spiDNN.errors import SpiDNNConfigurationError

#: The settings of each activation that has them, at the values its Keras
#: string stands for (the string "leaky_relu" is Keras' leaky_relu
#: function, slope 0.2; the LeakyReLU layer's default is 0.3).
DEFAULTS = {
    "relu": {"max_value": None, "negative_slope": 0.0, "threshold": 0.0},
    "leaky_relu": {"negative_slope": 0.2},
    "elu": {"alpha": 1.0},
}

#: The ids the cores run only for settings: no Keras string names them.
SETTINGS_IDS = ("relu_parametric", "elu_alpha")

#: Settings that may be None (no upper bound).
_OPTIONAL = {"max_value"}


def checked_settings(activation, settings, who):
    """``settings`` of ``activation`` (an ACTIVATIONS name), each a float
    (max_value may be None), only those that differ from DEFAULTS; a
    clear error naming ``who`` (the layer) and what its user wrote."""
    known = DEFAULTS.get(activation, {})
    unknown = sorted(set(settings) - set(known))
    if unknown:
        raise SpiDNNConfigurationError(
            f"{who}: activation {activation!r} has no setting(s) {unknown}; "
            f"it has {sorted(known) or 'none'}")
    checked = {}
    for key, value in settings.items():
        if value is None and key in _OPTIONAL:
            pass
        elif (isinstance(value, bool) or not isinstance(value, (int, float))
              or not math.isfinite(value)):
            raise SpiDNNConfigurationError(
                f"{who}: {key} must be a finite number"
                + (" or None" if key in _OPTIONAL else "")
                + f", not {value!r}")
        else:
            value = float(value)
        if value != known[key]:
            checked[key] = value
    max_value = checked.get("max_value")
    if max_value is not None and max_value < 0:
        # Keras clips to [0, max_value]: an empty interval.
        raise SpiDNNConfigurationError(
            f"{who}: max_value={max_value!r} must be at least 0 (Keras' "
            f"ReLU clips its output to [0, max_value])")
    return checked


def _relu_kind(max_value, negative_slope, threshold):
    """The id of Keras' relu at these settings, as its ReLU op picks
    TensorFlow's ops: Relu, Relu6 or LeakyRelu where one computes it
    alone (their gradients at the kinks are theirs), else the general
    composition."""
    if threshold == 0 and negative_slope == 0 and max_value in (None, 6):
        return "relu" if max_value is None else "relu6"
    if threshold == 0 and max_value is None:
        return "leaky_relu"
    return "relu_parametric"


def _clip(max_value, threshold):
    if max_value is None:
        return "none"
    return "relu6" if max_value == 6 and threshold == 0 else "clip"


def core_activation(activation, settings):
    """(the ACTIVATIONS id name the cores run, the layer_params
    activation_* fields) of ``activation`` (a name, an alias resolved)
    with ``settings`` (checked_settings')."""
    kind = layouts.activation_kind(activation)
    full = {**DEFAULTS.get(kind, {}), **settings}
    alpha = full.get("negative_slope", full.get("alpha", 0.0))
    max_value, threshold = full.get("max_value"), full.get("threshold", 0.0)
    if kind == "relu":
        kind = _relu_kind(max_value, alpha, threshold)
    elif kind == "elu" and alpha != 1:
        kind = "elu_alpha"
    clip = _clip(max_value, threshold) if kind == "relu_parametric" else (
        "none")
    return kind, {
        "activation": layouts.ACTIVATIONS[kind],
        "activation_alpha": layouts.float_bits(alpha),
        "activation_max_value": layouts.float_bits(
            0.0 if max_value is None else max_value),
        "activation_threshold": layouts.float_bits(threshold),
        "activation_clip": layouts.ACTIVATION_CLIPS[clip],
    }


#: Keras' layer of each activation with settings, and how its arguments
#: name them (ELU's alpha is its own; ReLU's and LeakyReLU's are
#: negative_slope).
KERAS_LAYERS = {
    "relu": "ReLU",
    "leaky_relu": "LeakyReLU",
    "elu": "ELU",
}


def keras_layer_config(activation, settings):
    """(Keras' layer class name, its arguments) computing ``activation``
    at ``settings``: the whole of them, as Keras' layer defaults differ
    from its strings' (LeakyReLU's 0.3)."""
    kind = layouts.activation_kind(activation)
    return KERAS_LAYERS[kind], {**DEFAULTS[kind], **settings}
