"""Names of the outgoing partitions, one per kind of traffic.

- ``forward``: activations, from the inputs and each layer to the next
  (and the labels into the loss);
- ``softmax``: a softmax layer's z, sideways to the whole layer;
- ``backward``: deltas, from each layer (and the loss) to the one before
  (``backward_<k>``: a merge's to its source k);
- ``backward#<j>``: a windowed layer's dL/dx by holder: a core's j-th
  holder's on ``backward#<j>`` (j = 0: ``backward``), routed to it alone;
- ``softmax_backward``: a softmax layer's dL/dp, sideways;
- ``exchange``: a windowed layer's deltas, sideways to the whole layer;
- ``gradient_chain``: a conv layer's kernel gradients summed along its
  cores at each batch end (a shared conv's along every use's cores);
- ``shared_chain``: a shared Dense's gradients summed along its uses at
  each batch end, core by core of a slice, and the totals to the layers
  before its uses (which keep copies of its rows);
- ``norm``: clipping by a norm (Keras' clipnorm, global_clipnorm), the
  exact sums of squares of the gradients each core owns, at each batch
  end, to every core that steps those weights (clip_norm.h);
- ``weights``: each core's trained weights to the host after ``fit``;
- ``loss``: each sample's loss to the host;
- ``penalty``: a regularised layer's cores' parts of its weight penalty
  to the host when asked (``send_penalty``): a Dense's one per neuron,
  keyed by it, a convolution's one from its first core;
- ``control``: the host's commands to every app core (abort, resume,
  commit, send weights: ``layouts.CONTROLS``);
- ``labels``: with the training data on the board, each sample's label
  from the feeder to the loss;
- ``relay``: a feeder shard's samples to the lead feeder core.
"""
FORWARD = "forward"
SOFTMAX = "softmax"
BACKWARD = "backward"
SOFTMAX_BACKWARD = "softmax_backward"
EXCHANGE = "exchange"
GRADIENT_CHAIN = "gradient_chain"
SHARED_CHAIN = "shared_chain"
NORM = "norm"
WEIGHTS = "weights"
LOSS = "loss"
PENALTY = "penalty"
CONTROL = "control"
LABELS = "labels"
RELAY = "relay"


def backward_to(k):
    """The partition on which a layer sends its source ``k`` (its k-th
    input, 0 first) gradients: ``backward``, or ``backward_<k>`` for a
    merge's later sources."""
    return BACKWARD if k == 0 else f"{BACKWARD}_{k}"


def holder_partition(j):
    """The partition on which a windowed layer's cores send dL/dx of the
    elements their ``j``-th holder holds (window.py)."""
    return BACKWARD if j == 0 else f"{BACKWARD}#{j}"


def holder_index(partition_id):
    """The j of a holder's partition (``backward``: 0), else None."""
    if partition_id == BACKWARD:
        return 0
    if partition_id.startswith(BACKWARD + "#"):
        return int(partition_id[len(BACKWARD) + 1:])
    return None


def traffic_of(partition_id):
    """The kind of traffic of a partition: its name, a holder's partition
    counted as ``backward``."""
    return partition_id.split("#")[0]
