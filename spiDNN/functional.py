"""The functional API's graph: from a model's Input and output layer (each
layer called on its sources, ``Dense(8)(x)``), the layers in an order
where each comes after its sources and the output comes last."""
from spiDNN.errors import SpiDNNConfigurationError
from spiDNN.layers.input import Input
from spiDNN.layers.layer import Layer


def _single(value, what):
    """The one Input or output of ``value`` (a layer or a list of one)."""
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    if len(values) != 1:
        raise SpiDNNConfigurationError(
            f"spiDNN.Model takes one {what} for now, got {len(values)}: "
            f"merge the {what}s into one (Concatenate)")
    if not isinstance(values[0], Layer):
        raise SpiDNNConfigurationError(
            f"spiDNN.Model's {what} must be "
            + ("an Input" if what == "input" else "a layer called on one")
            + f", not {values[0]!r}")
    return values[0]


def graph_layers(inputs, outputs, order=None):
    """(the Input, the layers from it to the output): every layer the
    output depends on, after its sources, the output last; in ``order``
    (a list of layers) where given, which must be such an order."""
    model_input = _single(inputs, "input")
    output = _single(outputs, "output")
    if not isinstance(model_input, Input):
        raise SpiDNNConfigurationError(
            f"spiDNN.Model's input must be an Input, not {model_input.name} "
            f"({type(model_input).__name__})")
    found = []
    seen = set()
    # Depth first from the output, sources in their order, without
    # recursion (a deep network has thousands of layers).
    stack = [(output, False)]
    while stack:
        layer, expanded = stack.pop()
        if id(layer) in seen and not expanded:
            continue
        if isinstance(layer, Input):
            if layer is not model_input:
                raise SpiDNNConfigurationError(
                    f"the output depends on {layer.name}, an Input that is "
                    f"not the model's ({model_input.name})")
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
    found.remove(output)
    return model_input, found + [output]


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
