"""The functional API's graph: from a model's Input and output layer (each
layer called on its sources, ``Dense(8)(x)``), the layers in an order
where each comes after its sources (a model's one output last), and its
outputs: a layer, a list or a dict by name, as Keras takes them."""
from spiDNN.errors import SpiDNNConfigurationError
from spiDNN.layers.input import Input
from spiDNN.layers.layer import Layer


def _listed(value, what):
    """The Inputs or outputs of ``value`` (a layer or a list of them)."""
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    for one in values:
        if not isinstance(one, Layer) or (
                what == "input" and not isinstance(one, Input)):
            raise SpiDNNConfigurationError(
                f"spiDNN.Model's {what}s must be "
                + ("Inputs" if what == "input" else "layers called on them")
                + f", not {one!r}")
    if not values or len({id(one) for one in values}) != len(values):
        raise SpiDNNConfigurationError(
            f"spiDNN.Model needs its {what}s once each, got {value!r}")
    return values


def model_outputs(outputs):
    """(the output layers in Keras' flat order, their names, "dict" or
    "list" or None for one): a layer, a list of them, or a dict by name,
    which Keras flattens in the order of its sorted keys and names by its
    keys."""
    if isinstance(outputs, dict):
        bad = [key for key in outputs if not isinstance(key, str)]
        if bad or not outputs:
            raise SpiDNNConfigurationError(
                f"spiDNN.Model's outputs by name need names (str) as keys "
                f"and at least one output, got {list(outputs)!r}")
        names = sorted(outputs)
        return _listed([outputs[name] for name in names], "output"), (
            names, "dict")
    layers = _listed(outputs, "output")
    form = "list" if isinstance(outputs, (list, tuple)) else None
    return layers, ([layer.name for layer in layers], form)


def graph_layers(inputs, outputs, order=None):
    """(the Inputs, the layers from them to the outputs, the output
    layers): every layer an output depends on, after its sources (one
    output last); in ``order`` (a list of layers) where given, which must
    be such an order.  ``outputs``: a layer, or a list of them."""
    model_inputs = _listed(inputs, "input")
    outputs = _listed(outputs, "output")
    found = []
    seen = set()
    # Depth first from each output, sources in their order, without
    # recursion (a deep network has thousands of layers).
    stack = [(output, False) for output in reversed(outputs)]
    while stack:
        layer, expanded = stack.pop()
        if id(layer) in seen and not expanded:
            continue
        if isinstance(layer, Input):
            if all(layer is not one for one in model_inputs):
                raise SpiDNNConfigurationError(
                    f"the output depends on {layer.name}, an Input that is "
                    f"not one of the model's "
                    f"({', '.join(one.name for one in model_inputs)})")
            if any(layer is one for one in outputs):
                raise SpiDNNConfigurationError(
                    f"the model's output {layer.name} is an Input: an "
                    f"output must be a layer with neurons")
            continue
        if expanded:
            found.append(layer)
            continue
        if layer.inbound is None:
            raise SpiDNNConfigurationError(
                f"{layer.name} ({type(layer).__name__}) was not called on "
                f"an input: the output must be reached from the Input by "
                f"calling each layer on its sources")
        seen.add(id(layer))
        stack.append((layer, True))
        stack += [(source, False) for source in reversed(layer.inbound)
                  if id(source) not in seen]
    if order is not None:
        found = _in_order(found, order)
    if len(outputs) == 1:
        found.remove(outputs[0])
        found.append(outputs[0])
    return model_inputs, found, outputs


def _in_order(found, order):
    """``found`` in ``order``, checked to put each layer after its
    sources."""
    ids = {id(layer) for layer in found}
    ordered = [layer for layer in order if id(layer) in ids]
    placed = set()
    for layer in ordered:
        for source in layer.inbound:
            if not isinstance(source, Input) and id(source) not in placed:
                raise SpiDNNConfigurationError(
                    f"{layer.name} comes before its source {source.name}")
        placed.add(id(layer))
    if len(ordered) != len(found):
        raise SpiDNNConfigurationError(
            "the order does not hold every layer of the model")
    return ordered


def preceding(layer, depth=4):
    """The layers before ``layer`` along its first sources, nearest last
    (at most ``depth``): what ``Layer.check_after`` reads."""
    chain = []
    source = layer.inbound[0] if layer.inbound else None
    while isinstance(source, Layer) and not isinstance(source, Input) and (
            len(chain) < depth):
        chain.insert(0, source)
        source = source.inbound[0] if source.inbound else None
    return chain
