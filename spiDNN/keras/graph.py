"""Walking a Keras model's graph for ``from_keras``: every operation in
the model's order, each tensor mapped to the spiDNN layer computing it.

A ``Sequential`` is a chain; a functional model's operations take the
tensors of their inbound node; a nested model (a ``Sequential`` or
functional model used as a layer) is walked in place, its inputs bound to
the tensors it was called on, so its layers become the outer model's.
The operator forms (``x + y``, ``x - y``, ``x * y``) are Keras operations,
not layers: they become spiDNN's merges.

A layer applied more than once (several inbound nodes, or a nested model
applied more than once) is converted once and called again on each
later application's sources, which makes the spiDNN uses of one layer
(its weights shared).  Applications are taken in the model's order of
operations, each as soon as its inputs are converted, so the spiDNN
layers, and their weights, come in Keras' order.
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
        #: Each Keras layer name's layers (ids): two are a problem.
        self.names = collections.defaultdict(set)
        #: id(Keras layer) -> its applications in the whole model.
        self.applications = applications(kmodel)
        #: id(Keras layer) -> the spiDNN layer converted from it, called
        #: again on its later applications' sources.
        self.converted = {}
        #: id(spiDNN layer) -> how often its Keras layer is applied.
        self.applied = {}
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
        pending = []
        for operation in kmodel.operations:
            if isinstance(operation, keras.layers.InputLayer):
                continue
            pending += [(operation, node)
                        for node in _nodes_in(kmodel, operation)]
            pending = self._apply_ready(pending, uses)
        return [self.tensors.get(id(tensor)) for tensor in kmodel.outputs]

    def _apply_ready(self, pending, uses):
        """Applies the (operation, node)s of ``pending`` whose inputs are
        converted, until none is; those left wait for later ones."""
        progress = True
        while progress:
            progress, waiting = False, []
            for operation, node in pending:
                if not all(id(t) in self.tensors
                           for t in node.input_tensors):
                    waiting.append((operation, node))
                    continue
                inputs = [self.tensors[id(t)] for t in node.input_tensors]
                outputs = self._apply(
                    operation, inputs,
                    len(node.input_tensors) == 1
                    and uses[id(node.input_tensors[0])] == 1)
                for tensor, output in zip(node.output_tensors, outputs):
                    self.tensors[id(tensor)] = output
                progress = True
            pending = waiting
        return pending

    def _chain(self, kmodel, sources):
        current = sources[0]
        for layer in kmodel.layers:
            current = self._apply(layer, [current], True)[0]
        return [current]

    def _apply(self, operation, sources, alone):
        """The spiDNN outputs of ``operation`` on ``sources`` (``alone``:
        its one source's output feeds it alone, and that source's layer
        is applied once)."""
        import keras
        if isinstance(operation, keras.Model):
            if len(operation.inputs) != len(sources):
                self.problems.append(
                    f"{named(operation)} takes {len(operation.inputs)} "
                    f"inputs, called on {len(sources)}")
                return [None]
            return self._walk(operation, sources)
        if id(operation) in self.converted:
            return [self._again(operation, sources)]
        self.names[operation.name].add(id(operation))
        if len(self.names[operation.name]) == 2:
            self.problems.append(
                f"two layers are named {operation.name!r} (one in a nested "
                f"model): spiDNN names each layer once; rename one")
        # An activation folds into its source only if that is applied
        # once: a shared layer's uses all compute its activation.
        alone = alone and all(
            self.applied.get(id(getattr(source, "owner", source)), 1) == 1
            for source in sources)
        converted = self.convert(operation, sources, alone, self.problems)
        if converted is not None and all(converted is not source
                                         for source in sources):
            self.converted[id(operation)] = converted
            self.applied[id(converted)] = self.applications[id(operation)]
        self._ordered(converted)
        return [converted]

    def _again(self, operation, sources):
        """A later application of a converted layer: the spiDNN layer
        called again (a use sharing its weights)."""
        from spiDNN.errors import SpiDNNConfigurationError
        layer = self.converted[id(operation)]
        if any(source is None for source in sources):
            return None           # what stops a source is said already
        try:
            use = layer(sources if layer.merges else sources[0])
        except SpiDNNConfigurationError as error:
            self.problems.append(problem(operation, error))
            return None
        self._ordered(use)
        return use

    def _ordered(self, converted):
        if converted is not None and all(converted is not layer
                                         for layer in self.order):
            self.order.append(converted)


def applications(kmodel, times=1, counts=None):
    """{id(Keras layer): how often the model applies it}, nested models'
    layers counted once per application of their model."""
    import keras
    counts = collections.Counter() if counts is None else counts

    def count(operation, n):
        if isinstance(operation, keras.Model):
            applications(operation, n, counts)
        else:
            counts[id(operation)] += n
    if isinstance(kmodel, keras.Sequential):
        for layer in kmodel.layers:
            count(layer, times)
        return counts
    for operation in kmodel.operations:
        if not isinstance(operation, keras.layers.InputLayer):
            count(operation, times * len(_nodes_in(kmodel, operation)))
    return counts


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
