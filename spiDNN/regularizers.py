"""Weight regularisers, as Keras' (keras/src/regularizers/regularizers.py):
``L1(l1)``, ``L2(l2)``, ``L1L2(l1, l2)`` and the strings ``"l1"``,
``"l2"``, ``"l1_l2"`` (Keras' defaults: 0.01 each).

A layer's ``kernel_regularizer`` and ``bias_regularizer`` add the
penalty ``l1 * sum(|w|) + l2 * sum(w^2)`` of the current weights to
every batch's loss, as Keras' ``compute_loss`` does.  The cores compute
it: each step's gradient gains ``l1 sign(w) + l2 2w`` (TensorFlow's
gradients of ``abs`` and ``square``, sign 0 at 0), added to the batch's
mean gradient before the optimizer's clipping and step
(c_code/common/optimizer.h, trained_regularise); and before each batch
every regularised core sends the host its parts of the penalty of the
weights that batch trains from (the ``send_penalty`` control command): a
Dense core one per neuron (its row's, then its bias's), a convolution's
first core its whole kernel's.  The host adds them in a fixed order
(spiDNN.compiler.machine_graph, decode_penalty) to the batch's losses
(spiDNN/machines/virtual.py), so the History is bit-identical on every
1-D slicing; a Dense split 2-D (inputs_per_core) sends each input
block's parts of its rows, so its penalty rounds by its blocks.
Keras' ``activity_regularizer`` (a penalty of the layers' outputs) is
not computed.
"""
import numpy

from spiDNN.errors import SpiDNNConfigurationError

#: Keras' factor of the strings "l1", "l2" and "l1_l2".
DEFAULT_FACTOR = 0.01


class L1L2:
    """``l1 * sum(|w|) + l2 * sum(w^2)``; Keras' L1L2 (0 leaves a term
    out, as Keras does)."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _factor(l1, "l1")
        self.l2 = _factor(l2, "l2")

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}

    def fields(self):
        """(l1, l2) as Keras casts them to the weights' dtype: float32."""
        return numpy.float32(self.l1), numpy.float32(self.l2)

    def penalty(self, weights):
        """The penalty of ``weights``, in float32 as Keras computes it."""
        l1, l2 = self.fields()
        w = numpy.asarray(weights, dtype=numpy.float32)
        total = numpy.float32(0.0)
        if l1 != 0:
            total += l1 * numpy.sum(numpy.abs(w), dtype=numpy.float32)
        if l2 != 0:
            total += l2 * numpy.sum(w * w, dtype=numpy.float32)
        return numpy.float32(total)

    def to_keras(self):
        import keras
        return getattr(keras.regularizers, type(self).__name__)(
            **self.get_config())

    def __eq__(self, other):
        return type(self) is type(other) and self.fields() == other.fields()

    def __hash__(self):
        return hash((type(self).__name__, self.fields()))

    def __repr__(self):
        settings = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({settings})"


class L1(L1L2):
    """``l1 * sum(|w|)``; Keras' L1."""

    def __init__(self, l1=DEFAULT_FACTOR):
        super().__init__(l1=l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(L1L2):
    """``l2 * sum(w^2)``; Keras' L2."""

    def __init__(self, l2=DEFAULT_FACTOR):
        super().__init__(l2=l2)

    def get_config(self):
        return {"l2": self.l2}


#: Keras' names of its regularisers (``keras.regularizers.get``).
_BY_NAME = {
    "l1": lambda: L1(), "l2": lambda: L2(),
    "l1_l2": lambda: L1L2(DEFAULT_FACTOR, DEFAULT_FACTOR),
    "L1": L1, "L2": L2, "L1L2": L1L2,
}


def _factor(value, name):
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise SpiDNNConfigurationError(
            f"a regulariser's {name} must be a number, not {value!r}"
        ) from None
    if not numpy.isfinite(value) or value < 0:
        raise SpiDNNConfigurationError(
            f"a regulariser's {name} must be finite and at least 0, not "
            f"{value!r}")
    return value


def get(identifier, what="regularizer"):
    """A regulariser from ``identifier``: None, one of this module's, a
    Keras L1/L2/L1L2 (or its config dict), or one of Keras' names."""
    if identifier is None or isinstance(identifier, L1L2):
        return identifier
    if isinstance(identifier, str):
        if identifier not in _BY_NAME:
            raise SpiDNNConfigurationError(
                f"{what}={identifier!r}: spiDNN knows the regularisers "
                f"{', '.join(repr(n) for n in _BY_NAME)}")
        return _BY_NAME[identifier]()
    if isinstance(identifier, dict) and "class_name" in identifier:
        return _from_kind(identifier["class_name"],
                          identifier.get("config", {}), what)
    return from_keras(identifier, what)


def from_keras(regularizer, what="regularizer"):
    """The spiDNN regulariser of a Keras one (None: None)."""
    if regularizer is None:
        return None
    kind = type(regularizer).__name__
    if type(regularizer).__module__.startswith("keras") and kind in (
            "L1", "L2", "L1L2"):
        return _from_kind(kind, regularizer.get_config(), what)
    raise SpiDNNConfigurationError(
        f"{what}={regularizer!r}: spiDNN computes Keras' L1, L2 and L1L2 "
        f"regularisers only")


def _from_kind(kind, config, what):
    if kind not in ("L1", "L2", "L1L2"):
        raise SpiDNNConfigurationError(
            f"{what}: spiDNN computes Keras' L1, L2 and L1L2 regularisers, "
            f"not {kind}")
    try:
        return _BY_NAME[kind](**config)
    except TypeError as error:
        raise SpiDNNConfigurationError(f"{what}: {kind}: {error}") from None


def to_keras(regularizer):
    """The Keras regulariser of a spiDNN one (None: None)."""
    return None if regularizer is None else regularizer.to_keras()


def fields_of(regularizer):
    """(l1, l2) as float32 of a regulariser, or (0, 0) for None."""
    if regularizer is None:
        return numpy.float32(0.0), numpy.float32(0.0)
    return regularizer.fields()
