"""Keras models in and out: ``spiDNN.from_keras`` and ``Model.to_keras``.

A Keras ``Sequential`` model, or a functional model that is a single
chain, becomes an equivalent spiDNN model holding the same weights; a
spiDNN model becomes a Keras ``Sequential``.  Every argument of a Keras
layer is either carried over or checked to be one spiDNN computes exactly
(its default, mostly): anything else is refused with an error naming the
layer and the setting, never silently ignored.
"""
import numpy

from spiDNN.errors import SpiDNNConfigurationError
from spiDNN.keras.settings import first_unsupported

#: Settings every converted layer must leave at these values (when the
#: layer has them): spiDNN has no regularisers, constraints, dilation,
#: groups, quantisation or layer-specific dtypes.
_MUST_BE = {
    "use_bias": True,
    "kernel_regularizer": None, "bias_regularizer": None,
    "activity_regularizer": None, "kernel_constraint": None,
    "bias_constraint": None, "quantization_config": None,
    "lora_rank": None, "groups": 1, "noise_shape": None,
    "data_format": "channels_last", "dilation_rate": 1,
}
#: Per Keras class: the arguments carried over to the spiDNN layer.
_CARRIED = {
    "Dense": ("units", "activation"),
    "Conv1D": ("filters", "kernel_size", "strides", "padding", "activation"),
    "Conv2D": ("filters", "kernel_size", "strides", "padding", "activation"),
    "MaxPooling1D": ("pool_size", "strides", "padding"),
    "MaxPooling2D": ("pool_size", "strides", "padding"),
    "AveragePooling1D": ("pool_size", "strides", "padding"),
    "AveragePooling2D": ("pool_size", "strides", "padding"),
    "ZeroPadding2D": ("padding",),
    "Flatten": (),
    "Dropout": ("rate", "seed"),
}
#: Settings that are only bookkeeping in Keras.
_IGNORABLE = {"name", "trainable", "dtype", "kernel_initializer",
              "bias_initializer"}


def _refuse(layer, what):
    raise SpiDNNConfigurationError(
        f"Keras layer {layer.name!r} ({type(layer).__name__}): {what}; "
        f"spiDNN cannot run it exactly")


def _chain(kmodel):
    """The model's layers in order, after checking it is one chain."""
    import keras
    if len(kmodel.inputs) != 1 or len(kmodel.outputs) != 1:
        raise SpiDNNConfigurationError(
            "spiDNN converts models with one input and one output")
    layers = [layer for layer in kmodel.layers
              if not isinstance(layer, keras.layers.InputLayer)]
    if not isinstance(kmodel, keras.Sequential):
        previous = None
        for layer in kmodel.layers:
            nodes = layer._inbound_nodes
            sources = ([t._keras_history[0] for t in nodes[0].input_tensors]
                       if nodes and nodes[0].input_tensors else [])
            if len(nodes) != 1 or (previous is not None
                                   and sources != [previous]):
                raise SpiDNNConfigurationError(
                    f"layer {layer.name!r} does not follow the one before "
                    f"it: spiDNN converts models that are a single chain")
            previous = layer
    return layers


def _check_settings(layer, config, dtype):
    config = dict(config)
    # Keras' None means its default image data format, channels last; a
    # dilation of ones is none.
    if config.get("data_format") is None and "data_format" in config:
        config["data_format"] = "channels_last"
    if "dilation_rate" in config and all(v == 1 for v in numpy.atleast_1d(
            config["dilation_rate"])):
        config["dilation_rate"] = 1
    unsupported = first_unsupported(
        config, _MUST_BE, _IGNORABLE | set(_CARRIED[type(layer).__name__]))
    if unsupported:
        name, value = unsupported
        _refuse(layer, f"{name}={value!r}" + (
            f" (spiDNN supports {_MUST_BE[name]!r})" if name in _MUST_BE
            else " is not supported"))
    if dtype != "float32":
        _refuse(layer, f"dtype {dtype!r} (spiDNN computes in float32)")


def _activation_into_previous(layer, layers):
    """A Keras ``Activation`` layer, folded into the layer before it."""
    from spiDNN.layers.layer import activation_name
    previous = layers[-1] if layers else None
    if previous is None or not previous.weight_names or (
            previous.activation != "linear"):
        _refuse(layer, "an Activation must follow a Dense or convolution "
                       "that has no activation of its own")
    try:
        previous.activation = activation_name(
            layer.get_config()["activation"], previous.ACTIVATIONS)
    except SpiDNNConfigurationError as error:
        _refuse(layer, str(error))


def from_keras(kmodel, seed=None):
    """An equivalent :py:class:`spiDNN.Model` of a Keras model, with its
    weights.

    :param kmodel: a built ``keras.Sequential`` or single-chain functional
        model over spiDNN's layers (Dense, Conv1D/2D, pooling,
        ZeroPadding2D, Flatten, Dropout, Activation)
    :param seed: the spiDNN model's seed (its dropout masks)
    """
    import spiDNN
    from spiDNN.layers import Input
    if not getattr(kmodel, "built", False) or not kmodel.inputs:
        raise SpiDNNConfigurationError(
            "build the Keras model first (give it a keras.Input)")
    layers = []
    for layer in _chain(kmodel):
        kind = type(layer).__name__
        if kind == "Activation":
            _activation_into_previous(layer, layers)
            continue
        if kind not in _CARRIED:
            _refuse(layer, "spiDNN has no such layer")
        config = layer.get_config()
        _check_settings(layer, config, layer.dtype_policy.name)
        kwargs = {name: config[name] for name in _CARRIED[kind]}
        if kind == "Dense" and len(layer.input.shape) > 2:
            _refuse(layer, f"a Dense on inputs of shape "
                           f"{tuple(layer.input.shape[1:])} acts on their "
                           f"last axis in Keras; add a Flatten before it")
        try:
            layers.append(getattr(spiDNN.layers, kind)(**kwargs,
                                                       name=layer.name))
        except SpiDNNConfigurationError as error:
            _refuse(layer, str(error))
    model = spiDNN.Model(seed=seed)
    model.add(Input(shape=tuple(kmodel.inputs[0].shape[1:])))
    for layer in layers:
        model.add(layer)
    model.set_weights(kmodel.get_weights())
    return model


def _compile_from_keras(model, kmodel):
    """The Keras model's compile settings and optimizer state, on
    ``model`` (when it was compiled)."""
    from spiDNN import optimizers
    if not getattr(kmodel, "compiled", False) or kmodel.loss is None:
        return
    config = kmodel._compile_config.config
    model.compile(optimizer=kmodel.optimizer, loss=kmodel.loss,
                  metrics=config.get("metrics"))
    model.optimizer_state = optimizers.state_from_keras(
        model.optimizer, kmodel.optimizer)


def load_model(filepath, seed=None):
    """A spiDNN model from a Keras ``.keras`` file (``Model.save`` writes
    one): its layers and weights as ``from_keras`` converts them, and its
    compile settings and optimizer state, so training resumes where it
    stopped."""
    import keras
    kmodel = keras.models.load_model(filepath)
    model = from_keras(kmodel, seed=seed)
    _compile_from_keras(model, kmodel)
    return model


def to_keras(model):
    """A ``keras.Sequential`` equivalent to ``model``, with its weights;
    compiled as ``model`` is, with its optimizer's state."""
    import keras
    model._check_built()
    klayers = [keras.Input(model.input.output_shape)]
    for layer in model.layers:
        if type(layer).__name__ == "Dense" and len(layer.input_shape) > 1:
            klayers.append(keras.layers.Flatten())   # implicit in spiDNN
        klayers.append(getattr(keras.layers, type(layer).__name__)(
            name=layer.name, **layer.keras_config()))
    kmodel = keras.Sequential(klayers)
    kmodel.set_weights(model.get_weights())
    if model.optimizer is not None and model.loss is not None:
        from spiDNN import optimizers
        koptimizer = optimizers.to_keras(model.optimizer)
        kmodel.compile(optimizer=koptimizer, loss=model.loss,
                       metrics=model._compiled_metrics)
        optimizers.state_into_keras(model.optimizer, model.optimizer_state,
                                    koptimizer, kmodel.trainable_variables)
    return kmodel
