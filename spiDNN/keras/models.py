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
from spiDNN.keras.settings import shown, unsupported

#: Settings every converted layer must leave at these values (when the
#: layer has them): spiDNN has no regularisers, constraints, dilation,
#: groups, quantisation or layer-specific dtypes.
_MUST_BE = {
    "kernel_regularizer": None, "bias_regularizer": None,
    "activity_regularizer": None, "kernel_constraint": None,
    "bias_constraint": None, "quantization_config": None,
    "lora_rank": None, "groups": 1, "noise_shape": None,
    "data_format": "channels_last", "dilation_rate": 1,
}
#: Per Keras class: the arguments carried over to the spiDNN layer.
_CARRIED = {
    "Dense": ("units", "activation", "use_bias"),
    "Conv1D": ("filters", "kernel_size", "strides", "padding", "activation",
               "use_bias"),
    "Conv2D": ("filters", "kernel_size", "strides", "padding", "activation",
               "use_bias"),
    "MaxPooling1D": ("pool_size", "strides", "padding"),
    "MaxPooling2D": ("pool_size", "strides", "padding"),
    "AveragePooling1D": ("pool_size", "strides", "padding"),
    "AveragePooling2D": ("pool_size", "strides", "padding"),
    "GlobalMaxPooling1D": ("keepdims",),
    "GlobalMaxPooling2D": ("keepdims",),
    "GlobalAveragePooling1D": ("keepdims",),
    "GlobalAveragePooling2D": ("keepdims",),
    "ZeroPadding2D": ("padding",),
    "Flatten": (),
    "Reshape": ("target_shape",),
    "Dropout": ("rate", "seed"),
}
#: Settings that are only bookkeeping in Keras.
_IGNORABLE = {"name", "trainable", "dtype", "kernel_initializer",
              "bias_initializer"}


def _named(layer):
    return f"{layer.name!r} ({type(layer).__name__})"


def _chain_problems(kmodel):
    """What keeps the model from being one chain: more than one input or
    output, a layer applied twice, a layer (or operation, such as
    ``x + y``) that merges several inputs or does not take the one before
    it."""
    import keras
    problems = []
    if len(kmodel.inputs) != 1 or len(kmodel.outputs) != 1:
        problems.append(
            f"the model has {len(kmodel.inputs)} input(s) and "
            f"{len(kmodel.outputs)} output(s): spiDNN converts models with "
            f"one of each, a single chain, for now")
    if isinstance(kmodel, keras.Sequential):
        return problems
    previous = None
    operations = getattr(kmodel, "operations", kmodel.layers)
    for operation in operations:
        if isinstance(operation, keras.layers.InputLayer):
            continue
        nodes = operation._inbound_nodes
        inputs = nodes[0].input_tensors if nodes else []
        sources = [t._keras_history[0] for t in inputs
                   if not isinstance(t._keras_history[0],
                                     keras.layers.InputLayer)]
        if len(nodes) > 1:
            problems.append(f"{_named(operation)} is applied {len(nodes)} "
                            f"times: spiDNN converts models that are a "
                            f"single chain, each layer used once, for now")
        elif len(inputs) > 1:
            problems.append(f"{_named(operation)} merges "
                            f"{len(inputs)} inputs: spiDNN "
                            f"converts models that are a single chain for "
                            f"now")
        elif sources != ([previous] if previous is not None else []):
            problems.append(f"{_named(operation)} does not take the output "
                            f"of the layer before it: spiDNN converts "
                            f"models that are a single chain for now")
        previous = operation
    return problems


def _settings_problems(layer, config, dtype):
    config = dict(config)
    # Keras' None means its default image data format, channels last; a
    # dilation of ones is none.
    if config.get("data_format") is None and "data_format" in config:
        config["data_format"] = "channels_last"
    if "dilation_rate" in config and all(v == 1 for v in numpy.atleast_1d(
            config["dilation_rate"])):
        config["dilation_rate"] = 1
    problems = [
        f"{_named(layer)}: {name}={shown(value)}" + (
            f" (spiDNN supports {shown(_MUST_BE[name])})" if name in _MUST_BE
            else " is not supported")
        for name, value in unsupported(
            config, _MUST_BE,
            _IGNORABLE | set(_CARRIED[type(layer).__name__]))]
    if dtype != "float32":
        problems.append(f"{_named(layer)}: dtype {dtype!r} (spiDNN computes "
                        f"in float32)")
    return problems


def _activation_into_previous(layer, layers):
    """A Keras ``Activation`` layer, folded into the layer before it; what
    stops it, if anything."""
    from spiDNN.layers.layer import activation_name
    previous = layers[-1] if layers else None
    if previous is None or not previous.weight_names or (
            previous.activation != "linear"):
        return [f"{_named(layer)}: an Activation must follow a Dense or "
                f"convolution that has no activation of its own"]
    try:
        previous.activation = activation_name(
            layer.get_config()["activation"], previous.ACTIVATIONS)
    except SpiDNNConfigurationError as error:
        return [f"{_named(layer)}: {error}"]
    return []


def _converted(layer, layers):
    """Appends the spiDNN layer of Keras ``layer`` to ``layers``; what
    spiDNN cannot run exactly of it, if anything."""
    import spiDNN
    kind = type(layer).__name__
    if kind == "Activation":
        return _activation_into_previous(layer, layers)
    if kind not in _CARRIED:
        return [f"{_named(layer)}: spiDNN has no such layer yet"]
    config = layer.get_config()
    problems = _settings_problems(layer, config, layer.dtype_policy.name)
    # Its first application's input (a shared layer is refused above).
    shape = layer._inbound_nodes[0].input_tensors[0].shape
    if kind == "Dense" and len(shape) > 2:
        problems.append(
            f"{_named(layer)}: a Dense on inputs of shape "
            f"{tuple(shape[1:])} acts on their last axis in Keras; add a "
            f"Flatten before it")
    if problems:
        return problems
    try:
        layers.append(getattr(spiDNN.layers, kind)(
            **{name: config[name] for name in _CARRIED[kind]},
            name=layer.name))
    except SpiDNNConfigurationError as error:
        return [f"{_named(layer)}: {error}"]
    return []


def from_keras(kmodel, seed=None):
    """An equivalent :py:class:`spiDNN.Model` of a Keras model, with its
    weights.  A model spiDNN cannot run exactly is refused with one error
    that names every layer and setting in the way, as the user wrote them.

    :param kmodel: a built ``keras.Sequential`` or single-chain functional
        model over spiDNN's layers (Dense, Conv1D/2D, pooling and global
        pooling, ZeroPadding2D, Flatten, Reshape, Dropout, Activation)
    :param seed: the spiDNN model's seed (its dropout masks)
    """
    import keras
    import spiDNN
    from spiDNN.layers import Input
    if not getattr(kmodel, "built", False) or not kmodel.inputs:
        raise SpiDNNConfigurationError(
            "build the Keras model first (give it a keras.Input)")
    problems = _chain_problems(kmodel)
    layers = []
    for layer in kmodel.layers:
        if not isinstance(layer, keras.layers.InputLayer):
            problems += _converted(layer, layers)
    if problems:
        raise SpiDNNConfigurationError(
            f"spiDNN cannot run this Keras model exactly; "
            f"{len(problems)} thing(s) to change:\n"
            + "\n".join(f"  - {problem}" for problem in problems))
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
