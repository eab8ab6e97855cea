"""The six models of the suite, as both libraries name their layers, and
whether the installed spiDNN can build each."""
import dataclasses

import spiDNN.layers


@dataclasses.dataclass(frozen=True)
class LayerSpec:
    """One layer as both libraries name it: ``kind`` is the class name in
    ``keras.layers`` and (when it exists) in ``spiDNN.layers``, so one entry
    both builds the layer and says which spiDNN layer the model needs."""
    kind: str
    kwargs: dict


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """A model of the suite.

    :param members: networks in an ensemble (boosting), 1 for a plain net
    :param runner_needs: features this runner itself would need and does
        not implement, with why (so an entry can be unsupported even once
        spiDNN has all its layers)
    """
    name: str
    description: str
    input_shape: tuple
    layers: tuple
    members: int = 1
    runner_needs: tuple = ()

    @property
    def layer_kinds(self):
        """spiDNN layer classes the model needs, in order of first use."""
        return list(dict.fromkeys(["Input"] + [
            layer.kind for layer in self.layers]))


def _dense(units, activation):
    return LayerSpec("Dense", {"units": units, "activation": activation})


def _conv(filters, activation="tanh"):
    return LayerSpec("Conv2D", {"filters": filters, "kernel_size": 5,
                                "activation": activation})


_POOL = LayerSpec("AveragePooling2D", {"pool_size": 2})
_PAD_TO_32 = LayerSpec("ZeroPadding2D", {"padding": 2})
_FLATTEN = LayerSpec("Flatten", {})

#: LeNet-4's layers, shared by the boosted ensemble.
_LENET4_LAYERS = (_PAD_TO_32, _conv(4), _POOL, _conv(16), _POOL, _FLATTEN,
                  _dense(120, "tanh"), _dense(10, "softmax"))

#: The suite, in the order of LeCun et al.'s comparison.  The LeNets are
#: the usual simplifications: full connection tables, average pooling for
#: the trainable sub-sampling, tanh for the scaled tanh, softmax for
#: LeNet-5's RBF output.
MODELS = (
    ModelSpec("mlp-300", "784 -> Dense(300, tanh) -> Dense(10, softmax)",
              (784,), (_dense(300, "tanh"), _dense(10, "softmax"))),
    ModelSpec("mlp-300-100",
              "784 -> Dense(300, tanh) -> Dense(100, tanh) "
              "-> Dense(10, softmax)",
              (784,), (_dense(300, "tanh"), _dense(100, "tanh"),
                       _dense(10, "softmax"))),
    ModelSpec("lenet-1",
              "28x28 -> Conv(4, 5x5) -> AvgPool(2) -> Conv(12, 5x5) "
              "-> AvgPool(2) -> Dense(10, softmax)",
              (28, 28, 1), (_conv(4), _POOL, _conv(12), _POOL, _FLATTEN,
                            _dense(10, "softmax"))),
    ModelSpec("lenet-4",
              "32x32 -> Conv(4, 5x5) -> AvgPool(2) -> Conv(16, 5x5) "
              "-> AvgPool(2) -> Dense(120, tanh) -> Dense(10, softmax)",
              (28, 28, 1), _LENET4_LAYERS),
    ModelSpec("lenet-5",
              "32x32 -> Conv(6, 5x5) -> AvgPool(2) -> Conv(16, 5x5) "
              "-> AvgPool(2) -> Conv(120, 5x5) -> Dense(84, tanh) "
              "-> Dense(10, softmax)",
              (28, 28, 1), (_PAD_TO_32, _conv(6), _POOL, _conv(16), _POOL,
                            _conv(120), _FLATTEN, _dense(84, "tanh"),
                            _dense(10, "softmax"))),
    ModelSpec("boosted-lenet-4",
              "three LeNet-4, outputs summed; the 2nd trained on samples "
              "half of which the 1st gets wrong, the 3rd on samples where "
              "the 1st and 2nd disagree",
              (28, 28, 1), _LENET4_LAYERS, members=3),
)
MODEL_NAMES = tuple(spec.name for spec in MODELS)


def support(spec):
    """Whether this spiDNN can run ``spec``, and if not, why.

    Asks ``spiDNN.layers`` for each layer class by name, so a model becomes
    supported by itself once spiDNN gains its layers.

    :return: (supported, missing layer names, reason or None)
    """
    missing = [kind for kind in spec.layer_kinds
               if not hasattr(spiDNN.layers, kind)]
    reasons = []
    if missing:
        reasons.append(f"spiDNN has no {', '.join(missing)} layers yet")
    reasons.extend(spec.runner_needs)
    return not reasons, missing, "; ".join(reasons) or None
