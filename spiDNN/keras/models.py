"""Keras models in and out: ``spiDNN.from_keras`` and ``Model.to_keras``.

A Keras ``Sequential`` or functional model (branches, merges and nested
models included) becomes an equivalent spiDNN model holding the same
weights; a spiDNN model becomes a Keras ``Sequential`` or, built with the
functional API, a functional Keras model.  Every argument of a Keras
layer is either carried over or checked to be one spiDNN computes exactly
(its default, mostly): anything else is refused with an error naming the
layer and the setting, never silently ignored.
"""
import numpy

from spiDNN.errors import SpiDNNConfigurationError
from spiDNN.keras.graph import (
    OPERATIONS, Walk, named, not_a_merge, output_structure, problem)
from spiDNN.keras.settings import shown, unsupported
from spiDNN.layers.activation_settings import keras_layer_config

#: Settings every converted layer must leave at these values (when the
#: layer has them): spiDNN has no activity regularisers, constraints,
#: dilation, groups, quantisation or layer-specific dtypes.
_MUST_BE = {
    "activity_regularizer": None, "kernel_constraint": None,
    "bias_constraint": None, "quantization_config": None,
    "lora_rank": None, "groups": 1, "noise_shape": None,
    "data_format": "channels_last", "dilation_rate": 1,
    "alpha_constraint": None,
}
#: Why a setting of _MUST_BE is refused, where more than its value says.
_WHY = {
    "activity_regularizer": (
        "spiDNN computes kernel_regularizer and bias_regularizer, not a "
        "penalty of the layer's outputs: remove it"),
}
#: Weight regularisers: carried as Keras' objects (spiDNN.regularizers
#: takes them), not as their config dicts.
_REGULARIZERS = ("kernel_regularizer", "bias_regularizer")
_CARRIED_AS_OBJECTS = {*_REGULARIZERS, "alpha_regularizer"}
#: Per Keras class: the arguments carried over to the spiDNN layer.
_CARRIED = {
    "Dense": ("units", "activation", "use_bias", *_REGULARIZERS),
    "Conv1D": ("filters", "kernel_size", "strides", "padding", "activation",
               "use_bias", *_REGULARIZERS),
    "Conv2D": ("filters", "kernel_size", "strides", "padding", "activation",
               "use_bias", *_REGULARIZERS),
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
    "Rescaling": ("scale", "offset"),
    "UpSampling1D": ("size",),
    "UpSampling2D": ("size", "interpolation"),
    "RepeatVector": ("n",),
    "Permute": ("dims",),
    "PReLU": ("alpha_regularizer", "shared_axes"),
    # The merging layers.
    "Add": (), "Subtract": (), "Multiply": (), "Average": (), "Maximum": (),
    "Minimum": (), "Concatenate": ("axis",),
}
#: Settings that are only bookkeeping in Keras.
_IGNORABLE = {"name", "trainable", "dtype", "kernel_initializer",
              "bias_initializer", "alpha_initializer"}


_named = named


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
            f" ({_WHY[name]})" if name in _WHY else
            f" (spiDNN supports {shown(_MUST_BE[name])})" if name in _MUST_BE
            else " is not supported")
        for name, value in unsupported(
            config, _MUST_BE,
            _IGNORABLE | set(_CARRIED[type(layer).__name__]))]
    if dtype != "float32":
        problems.append(f"{_named(layer)}: dtype {dtype!r} (spiDNN computes "
                        f"in float32)")
    return problems


#: Keras' layers of an activation: the activation each computes, with
#: the settings spiDNN takes from it (spiDNN.layers.activation_settings)
#: and those it supports only at these values.
_ACTIVATION_LAYERS = {
    "ReLU": ("relu", ("max_value", "negative_slope", "threshold"), {}),
    "LeakyReLU": ("leaky_relu", ("negative_slope",), {}),
    "ELU": ("elu", ("alpha",), {}),
    "Softmax": ("softmax", (), {"axis": -1}),
}


def _activation_of(layer):
    """(the activation a Keras activation layer computes, its settings,
    what spiDNN cannot compute of them)."""
    config = layer.get_config()
    kind = type(layer).__name__
    if kind == "Activation":
        return config["activation"], {}, []
    name, taken, supported = _ACTIVATION_LAYERS[kind]
    # Keras' ELU leaves alpha out of its config: the layer has it.
    settings = {key: getattr(layer, key) for key in taken}
    return name, settings, [
        f"{_named(layer)}: {key}={shown(value)} (spiDNN supports "
        f"{shown(supported[key]) if key in supported else 'none'})"
        for key, value in unsupported(config, supported,
                                      _IGNORABLE | set(taken))]


def _activation(layer, sources, alone, problems):
    """An activation layer: folded into the layer before it where that is
    a Dense or convolution without an activation of its own, feeding it
    alone; else on cores of its own (spiDNN's layer of the same name)."""
    import spiDNN
    name, settings, wrong = _activation_of(layer)
    problems += wrong
    source = sources[0]
    if wrong or source is None:
        return None
    try:
        if alone and getattr(source, "weight_names", ()) and (
                source.activation == "linear") and source.model is None:
            source.set_activation(name, settings)
            return source
        kind = type(layer).__name__
        if kind == "Activation":
            return spiDNN.layers.Activation(name, name=layer.name)(source)
        return getattr(spiDNN.layers, kind)(**settings, name=layer.name)(
            source)
    except SpiDNNConfigurationError as error:
        problems.append(problem(layer, error))
        return None


def _spidnn_layer(layer, kind, config):
    """The spiDNN layer of a Keras layer spiDNN has (frozen where Keras'
    is: trainable=False)."""
    import spiDNN
    converted = getattr(spiDNN.layers, kind)(
        **{name: getattr(layer, name) if name in _CARRIED_AS_OBJECTS
           else config[name] for name in _CARRIED[kind]}, name=layer.name)
    converted.trainable = bool(layer.trainable)
    return converted


def _convert(layer, sources, alone, problems):
    """The spiDNN layer computing Keras ``layer`` (an operation) on the
    spiDNN ``sources``; what stops it goes to ``problems``."""
    import keras
    import spiDNN
    kind = type(layer).__name__
    if not isinstance(layer, keras.layers.Layer):
        if kind not in OPERATIONS or len(sources) != 2:
            problems.append(not_a_merge(layer))
            return None
        return _called(layer, getattr(spiDNN.layers, kind)(
            name=layer.name), sources, problems)
    if kind == "Activation" or kind in _ACTIVATION_LAYERS:
        return _activation(layer, sources, alone, problems)
    if kind not in _CARRIED:
        problems.append(f"{_named(layer)}: spiDNN has no such layer yet")
        return None
    config = layer.get_config()
    found = _settings_problems(layer, config, layer.dtype_policy.name)
    shape = layer._inbound_nodes[0].input_tensors[0].shape
    if kind == "Dense" and len(shape) > 2:
        found.append(
            f"{_named(layer)}: a Dense on inputs of shape "
            f"{tuple(shape[1:])} acts on their last axis in Keras; add a "
            f"Flatten before it")
    problems += found
    if found:
        return None
    try:
        converted = _spidnn_layer(layer, kind, config)
    except SpiDNNConfigurationError as error:
        problems.append(problem(layer, error))
        return None
    return _called(layer, converted, sources, problems)


def _called(layer, converted, sources, problems):
    """``converted`` called on ``sources`` (a list for a merge)."""
    if any(source is None for source in sources):
        return None           # what stops a source is said already
    try:
        return converted(sources if converted.merges else sources[0])
    except SpiDNNConfigurationError as error:
        problems.append(problem(layer, error))
        return None


def from_keras(kmodel, seed=None):
    """An equivalent :py:class:`spiDNN.Model` of a Keras model, with its
    weights.  A model spiDNN cannot run exactly is refused with one error
    that names every layer and setting in the way, as the user wrote them.

    :param kmodel: a built ``keras.Sequential`` or functional model (which
        may branch and merge, and nest other models, which are flattened)
        over spiDNN's layers (Dense, Conv1D/2D, pooling and global
        pooling, ZeroPadding2D, Flatten, Reshape, Dropout, the merging
        layers, Activation, ReLU, LeakyReLU, ELU, Softmax, Rescaling)
    :param seed: the spiDNN model's seed (its dropout masks)
    """
    import keras
    import spiDNN
    from spiDNN.layers import Input
    if not getattr(kmodel, "built", False) or not kmodel.inputs:
        raise SpiDNNConfigurationError(
            "build the Keras model first (give it a keras.Input)")
    model_inputs = [Input(shape=tuple(tensor.shape[1:]),
                          name=_input_name(kmodel, k))
                    for k, tensor in enumerate(kmodel.inputs)]
    walk = Walk(kmodel, model_inputs, _convert)
    problems = walk.problems
    if any(isinstance(output, Input) for output in walk.outputs) and (
            not problems):
        problems.append("the model's output is its input: spiDNN needs a "
                        "layer with neurons")
    if problems:
        raise SpiDNNConfigurationError(
            f"spiDNN cannot run this Keras model exactly; "
            f"{len(problems)} thing(s) to change:\n"
            + "\n".join(f"  - {problem}" for problem in problems))
    # The spiDNN layers in the Keras model's order, so that get_weights
    # lists them as Keras does.
    model = spiDNN.Model(seed=seed)
    model._build_graph(model_inputs, output_structure(kmodel, walk.outputs),
                       walk.order)
    # A Sequential stays one: more layers may be added, and to_keras gives
    # a Sequential back (unless a nested model shares a layer).
    model.functional = not isinstance(kmodel, keras.Sequential) or any(
        layer.shares is not None for layer in model.layers)
    model.set_weights(kmodel.get_weights())
    return model


def _input_name(kmodel, k):
    """The name of the Keras model's Input ``k`` (its InputLayer's)."""
    history = getattr(kmodel.inputs[k], "_keras_history", None)
    return history.operation.name if history is not None else None


def _compile_from_keras(model, kmodel):
    """The Keras model's compile settings and optimizer state, on
    ``model`` (when it was compiled)."""
    from spiDNN import optimizers
    if not getattr(kmodel, "compiled", False) or kmodel.loss is None:
        return
    config = kmodel._compile_config.config
    model.compile(optimizer=kmodel.optimizer, loss=plain(kmodel.loss),
                  metrics=plain(config.get("metrics")),
                  loss_weights=plain(config.get("loss_weights")),
                  weighted_metrics=plain(config.get("weighted_metrics")))
    model.optimizer_state = optimizers.state_from_keras(
        model.optimizer, kmodel.optimizer, model.weight_layout())


def plain(value):
    """A compile setting as Python's lists and dicts (Keras keeps a loaded
    model's in its tracking wrappers)."""
    if isinstance(value, dict):
        return {key: plain(one) for key, one in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(one) for one in value]
    return value


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


def _keras_layers(layer):
    """The Keras layers computing ``layer``, in order: a Dense or
    convolution that took in a parameterised activation (from_keras
    folds Keras' ReLU, LeakyReLU or ELU so) is the layer, linear, then
    Keras' layer of the activation."""
    from spiDNN.layers.activation import Activation
    config = layer.keras_config()
    folded = bool(layer.activation_settings) and not isinstance(
        layer, Activation)
    if folded:
        config["activation"] = "linear"
    layers = [_keras_of(type(layer).__name__, layer.name, config)]
    if folded:
        kind, arguments = keras_layer_config(layer.activation,
                                             layer.activation_settings)
        layers.append(_keras_of(kind, f"{layer.name}_{layer.activation}",
                                arguments))
    return layers


def _keras_of(kind, name, arguments):
    """Keras' layer ``kind``; its refusal of settings spiDNN computes
    (ReLU's negative threshold, which Keras' relu function takes but its
    layer does not) as an error naming the layer."""
    import keras
    try:
        return getattr(keras.layers, kind)(name=name, **arguments)
    except ValueError as error:
        raise SpiDNNConfigurationError(
            f"to_keras: {name}: Keras' {kind} layer refuses {arguments} "
            f"({error})") from None


def _applied(klayers, tensor):
    for klayer in klayers:
        tensor = klayer(tensor)
    return tensor


def _flattens(layer):
    """spiDNN's Dense flattens a multi-dimensional input itself."""
    return type(layer).__name__ == "Dense" and len(layer.input_shape) > 1


def _flattened(layer, tensor):
    import keras
    return keras.layers.Flatten()(tensor) if _flattens(layer) else tensor


def to_keras(model):
    """A Keras model equivalent to ``model``, with its weights: a
    ``keras.Sequential`` for a stack of layers, a functional
    ``keras.Model`` for a graph; compiled as ``model`` is, with its
    optimizer's state."""
    import keras
    model._check_built()
    kinputs = [keras.Input(one.output_shape, name=one.name)
               for one in model.inputs]
    kinput = kinputs[0]
    if model.functional:
        tensors = {id(one): tensor
                   for one, tensor in zip(model.inputs, kinputs)}
        # A shared layer's uses call its one Keras layer again.
        klayers_of = {}
        for layer in model.layers:
            sources = [_flattened(layer, tensors[id(source)])
                       for source in layer.inbound]
            if id(layer.owner) not in klayers_of:
                klayers_of[id(layer.owner)] = _keras_layers(layer.owner)
            tensors[id(layer)] = _applied(
                klayers_of[id(layer.owner)],
                sources if layer.merges else sources[0])
        kmodel = keras.Model(kinputs if len(kinputs) > 1 else kinput,
                             _outputs_of(model, tensors), name=model.name)
    else:
        klayers = [kinput]
        for layer in model.layers:
            if _flattens(layer):
                klayers.append(keras.layers.Flatten())
            klayers += _keras_layers(layer)
        kmodel = keras.Sequential(klayers, name=model.name)
    # Layer by layer: a graph's Keras order may differ from spiDNN's.
    variables = []
    for layer in model.weight_layers():
        if layer.weights:
            klayer = kmodel.get_layer(layer.name)
            klayer.set_weights(layer.get_weights())
            klayer.trainable = layer.trainable
            variables += klayer.trainable_variables
    if model.optimizer is not None and model.loss is not None:
        from spiDNN import optimizers
        koptimizer = optimizers.to_keras(model.optimizer)
        kloss = ([one.to_keras() for one in model.loss]
                 if isinstance(model.loss, list) else model.loss.to_keras())
        kmodel.compile(optimizer=koptimizer, loss=_by_output(model, kloss),
                       loss_weights=_by_output(model, model.loss_weights),
                       metrics=model._compiled_metrics,
                       weighted_metrics=model._compiled_weighted_metrics)
        optimizers.state_into_keras(model.optimizer, model.optimizer_state,
                                    koptimizer, variables,
                                    model.weight_layout())
    return kmodel


def _outputs_of(model, tensors):
    """The Keras model's outputs: one tensor, a list, or a dict in the
    form and order the spiDNN model was given them."""
    outputs = [tensors[id(layer)] for layer in model.outputs]
    form = model._output_form
    if isinstance(form, list):
        by_name = dict(zip(model.output_names, outputs))
        return {name: by_name[name] for name in form}
    return outputs if form == "list" else outputs[0]


def _by_output(model, values):
    """A list of compile's per-output values as a dict by output name for
    a model whose outputs are a dict (Keras reads both; the dict says
    which is whose), one value for a model of one output, else as it
    is."""
    if not isinstance(values, list):
        return values
    if len(model.outputs) == 1:
        return values[0]
    if isinstance(model._output_form, list):
        return dict(zip(model.output_names, values))
    return values
