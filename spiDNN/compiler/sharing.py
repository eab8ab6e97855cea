"""Shared layers on the machine: one layer (one set of weights) applied
more than once, each use a node with cores of its own.

Every use's cores hold the same weights and add the gradients of their
own samples.  At a batch end the uses' gradients are added up along a
chain in use order (use 0's, then use 1's, ...; within a use in its own
fixed order), and the last use's sums are the totals that every copy
applies, so the copies stay identical bit for bit whatever the slicing
and the packet timing:

- a convolution's cores already add their kernel gradients along a
  chain in core order: the uses' cores make one chain, use after use
  (``vertices/conv.py``);
- a Dense use's core j holds the same slice of neurons as core j of every
  other use (the uses are sliced alike), so the chain runs over the uses
  per slice (``vertices/dense.py``, ``shared_chain``); a layer before a
  use keeps a copy of the shared kernel's rows for its dL/da, whose
  update must be the shared one too: it takes the totals of its rows
  from the last use's cores instead of adding its own products
  (``layer_core.h``).

Layers without weights called again are simply fresh copies: their uses
need no chain.
"""
from spiDNN.errors import SpiDNNConfigurationError


def link_uses(nodes):
    """Gives each node of a layer with weights applied more than once its
    group (``shared_uses``: the uses in use order) and refuses what the
    machine cannot share yet."""
    groups = {}
    for node in nodes:
        if node.layer.weights and node.layer.is_shared:
            groups.setdefault(id(node.layer.owner), []).append(node)
    for group in groups.values():
        if len(group) < 2:
            continue       # the model takes one use of the layer only
        group.sort(key=lambda node: node.layer.use_index)
        for node in group:
            node.shared_uses = group
        _check(group)


def _check(group):
    layer = group[0].layer.owner
    kind = type(layer).__name__
    if not group[0].vertex_class.SENDS_DELTAS:
        return            # a convolution's chain takes any slicing
    requested = layer.requested_inputs_per_core
    if requested is not None and requested < layer.n_inputs:
        raise SpiDNNConfigurationError(
            f"{layer.name} ({kind}) is shared by {len(group)} uses: spiDNN "
            f"runs a shared {kind} with every input on each core, not split "
            f"by inputs_per_core={requested}; give it inputs_per_core=None")
    if layer.weights_in == "sdram":
        raise SpiDNNConfigurationError(
            f"{layer.name} ({kind}) is shared by {len(group)} uses: spiDNN "
            f"keeps a shared {kind}'s kernel in DTCM, not streamed from "
            f"SDRAM; give it weights_in='auto' or 'dtcm'")
