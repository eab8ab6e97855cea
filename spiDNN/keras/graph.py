"""Walking a Keras model's graph for ``from_keras``: every operation in
the model's order, each tensor mapped to the spiDNN layer computing it.

A ``Sequential`` is a chain; a functional model's operations take the
tensors of their inbound node; a nested model (a ``Sequential`` or
functional model used as a layer) is walked in place, its inputs bound to
the tensors it was called on, so its layers become the outer model's.
The operator forms (``x + y``, ``x - y``, ``x * y``) are Keras operations,
not layers: they become spiDNN's merges.
"""
import collections


#: Keras' operations on two tensors that spiDNN computes, as its merge
#: layers of the same names.
OPERATIONS = ("Add", "Subtract", "Multiply")


def named(operation):
    return f"{operation.name!r} ({type(operation).__name__})"


class Walk:
    """The spiDNN layers of a Keras model, through ``convert(operation,
    sources, alone)``, which returns the spiDNN layer computing the
    operation's output (or None if it cannot, having noted why), ``alone``
    saying whether its source's output feeds it alone."""

    def __init__(self, kmodel, model_inputs, convert):
        self.convert = convert
        self.problems = []
        #: id(Keras tensor) -> the spiDNN layer (or Input) computing it.
        self.tensors = {}
        self.names = collections.Counter()
        #: The spiDNN layers, in the order their Keras layers come.
        self.order = []
        #: The layer computing each of the model's outputs, in Keras' flat
        #: order (a dict of outputs: by its sorted keys).
        self.outputs = self._walk(kmodel, list(model_inputs))

    def _walk(self, kmodel, sources):
        import keras
        if isinstance(kmodel, keras.Sequential):
            return self._chain(kmodel, sources)
        for tensor, source in zip(kmodel.inputs, sources):
            self.tensors[id(tensor)] = source
        uses = collections.Counter(
            id(tensor) for operation in kmodel.operations
            for node in _nodes_in(kmodel, operation)
            for tensor in node.input_tensors)
        uses.update(id(tensor) for tensor in kmodel.outputs)
        for operation in kmodel.operations:
            if isinstance(operation, keras.layers.InputLayer):
                continue
            mine = _nodes_in(kmodel, operation)
            if len(mine) > 1:
                self.problems.append(
                    f"{named(operation)} is applied {len(mine)} times: "
                    f"spiDNN does not share a layer's weights between two "
                    f"uses yet; use a layer per application")
            node = mine[0]
            inputs = [self.tensors.get(id(t)) for t in node.input_tensors]
            outputs = self._apply(
                operation, inputs,
                len(node.input_tensors) == 1
                and uses[id(node.input_tensors[0])] == 1)
            for tensor, output in zip(node.output_tensors, outputs):
                self.tensors[id(tensor)] = output
        return [self.tensors.get(id(tensor)) for tensor in kmodel.outputs]

    def _chain(self, kmodel, sources):
        current = sources[0]
        for layer in kmodel.layers:
            current = self._apply(layer, [current], True)[0]
        return [current]

    def _apply(self, operation, sources, alone):
        """The spiDNN outputs of ``operation`` on ``sources``."""
        import keras
        if isinstance(operation, keras.Model):
            if len(operation.inputs) != len(sources):
                self.problems.append(
                    f"{named(operation)} takes {len(operation.inputs)} "
                    f"inputs, called on {len(sources)}")
                return [None]
            return self._walk(operation, sources)
        self.names[operation.name] += 1
        if self.names[operation.name] == 2:
            self.problems.append(
                f"two layers are named {operation.name!r} (one in a nested "
                f"model): spiDNN names each layer once; rename one")
        converted = self.convert(operation, sources, alone, self.problems)
        if converted is not None and all(converted is not layer
                                         for layer in self.order):
            self.order.append(converted)
        return [converted]


def _nodes_in(kmodel, operation):
    """The operation's applications (nodes) in the model's graph: a layer
    may have others in other models.  Keras keys a model's nodes as
    ``<id(operation)>_ib-<index of the node>``."""
    keys = kmodel._nodes
    return [node for i, node in enumerate(operation._inbound_nodes)
            if f"{id(operation)}_ib-{i}" in keys]


def output_structure(kmodel, outputs):
    """The spiDNN model's ``outputs`` argument from the layer computing
    each Keras output (``Walk.outputs``): one layer, a list, or a dict by
    the Keras model's keys, in their order."""
    import keras
    struct = (None if isinstance(kmodel, keras.Sequential)
              else getattr(kmodel, "_outputs_struct", None))
    if isinstance(struct, dict):
        by_key = dict(zip(sorted(struct), outputs))
        return {key: by_key[key] for key in struct}
    return list(outputs) if len(outputs) > 1 else outputs[0]


def not_a_merge(operation):
    """Why spiDNN cannot run a Keras operation that is not a layer."""
    return (f"{named(operation)}: spiDNN runs the operations "
            f"{', '.join(f'ops.{k.lower()}' for k in OPERATIONS)} on two "
            f"tensors of one shape (x + y, x - y, x * y), not this one")


def problem(operation, error):
    """A refusal of spiDNN's (a SpiDNNConfigurationError) as one line of
    from_keras' error, naming the Keras operation."""
    return f"{named(operation)}: {error}"
