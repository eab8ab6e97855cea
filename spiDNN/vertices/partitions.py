"""Names of the outgoing partitions, one per kind of traffic.

- ``forward``: activations, from the inputs and each layer to the next
  (and the labels into the loss);
- ``softmax``: a softmax layer's z, sideways to the whole layer;
- ``backward``: deltas, from each layer (and the loss) to the one before;
- ``softmax_backward``: a softmax layer's dL/dp, sideways;
- ``weights``: each core's trained weights to the host after ``fit``;
- ``loss``: each sample's loss to the host.
"""
FORWARD = "forward"
SOFTMAX = "softmax"
BACKWARD = "backward"
SOFTMAX_BACKWARD = "softmax_backward"
WEIGHTS = "weights"
LOSS = "loss"
