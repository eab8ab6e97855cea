"""The one definition of every SDRAM region and enum the C apps share.

Python packs region data from these definitions; ``python3 layouts.py``
prints the C header ``spidnn_layouts.h`` that the apps compile against, so
the two sides can never disagree about a field's position.  The module
imports nothing outside the standard library: the C build runs it as a
plain script.
"""
import struct
import sys

#: Bytes of DTCM a SpiNNaker core has for its data and stack.
DTCM_BYTES = 64 * 1024
#: DTCM kept back for the stack and the apps' static data; what is left is
#: the heap that ``spin1_malloc`` hands out (on the chip and in the VM).
DTCM_RESERVED_BYTES = 8 * 1024
DTCM_HEAP_BYTES = DTCM_BYTES - DTCM_RESERVED_BYTES

#: Activation functions, by Keras name, with the id the C apps use.
ACTIVATIONS = {
    "linear": 0,
    "relu": 1,
    "sigmoid": 2,
    "tanh": 3,
    "softmax": 4,
}

#: Losses the loss app computes, by Keras name, with the id the C apps use.
LOSSES = {
    "mean_squared_error": 0,
    "categorical_crossentropy": 1,
    "sparse_categorical_crossentropy": 2,
    "binary_crossentropy": 3,
}

#: Regions of the data specification, shared by every spiDNN app.
REGIONS = {
    "SYSTEM": 0,     # simulation header written by the toolchain
    "PARAMS": 1,     # the app's parameter struct
    "WEIGHTS": 2,    # float32 kernel rows then biases
    "OUTGOING": 3,   # training: float32 rows of the next layer's kernel
}


def float_bits(value):
    """A float32's bits as a 32-bit field (struct fields are all words)."""
    return struct.unpack("<I", struct.pack("<f", value))[0]


class Struct:
    """A C struct of 32-bit fields, packed little-endian as on the ARM."""

    def __init__(self, name, fields):
        self.name = name
        self.fields = [field for field, _ in fields]
        self.comments = dict(fields)
        self._format = "<" + "I" * len(self.fields)

    @property
    def n_bytes(self):
        return 4 * len(self.fields)

    def pack(self, **values):
        missing = set(self.fields) - set(values)
        extra = set(values) - set(self.fields)
        if missing or extra:
            raise ValueError(
                f"{self.name}: missing {sorted(missing)}, "
                f"unknown {sorted(extra)}")
        return struct.pack(
            self._format, *(int(values[f]) for f in self.fields))

    def c_definition(self):
        lines = ["typedef struct {"]
        for field in self.fields:
            lines.append(f"    uint32_t {field};  // {self.comments[field]}")
        lines.append(f"}} {self.name}_t;")
        return "\n".join(lines)


#: How a receiver turns a sender's key into the sender's neuron index:
#: ``index = ((key - base) >> atom_bits) * atoms_per_core
#:           + ((key - base) & ((1 << atom_bits) - 1))``,
#: which is ``key - base`` whenever atoms_per_core is a power of two.
KEY_SPACE_FIELDS = [
    ("base", "first key of the sending layer's partition"),
    ("atom_bits", "key bits that number a neuron within its core"),
    ("atoms_per_core", "neurons per sending core"),
    ("n_atoms", "neurons in the sending layer"),
]


def key_space_fields(prefix):
    return [(f"{prefix}_{name}", text) for name, text in KEY_SPACE_FIELDS]


#: How many samples make a batch and a run: every training core counts
#: samples itself (batch.h), so no packet is spent on batch boundaries.
BATCH_FIELDS = [
    ("batch_size", "samples per batch (the epoch's last may be shorter)"),
    ("n_samples", "samples per epoch"),
    ("n_epochs", "epochs of the run; the weights go out after the last"),
]

DENSE_PARAMS = Struct("dense_params", [
    ("n_neurons", "neurons on this core"),
    ("first_neuron", "index in the layer of this core's first neuron"),
    ("activation", "one of ACTIVATION_*"),
    ("forward_key", "key of this core's first neuron, forward partition"),
    ("softmax_key", "key of this core's first neuron, softmax partition"),
    *key_space_fields("input"),
    *key_space_fields("peer"),
    ("training", "1: run the backward pass and update weights"),
    ("sends_logits", "1: forward z to a loss that takes logits"),
    ("is_output", "1: the deltas come from the loss, one per neuron"),
    ("sends_backward", "1: send deltas to the previous layer"),
    ("backward_key", "key of this core's first neuron, backward partition"),
    ("softmax_backward_key", "first key, softmax_backward partition"),
    ("weights_key", "first key of the weights partition (trained weights)"),
    ("learning_rate", "float32 bits: SGD's learning rate"),
    *BATCH_FIELDS,
    *key_space_fields("next"),
    *key_space_fields("peer_backward"),
])

LOSS_PARAMS = Struct("loss_params", [
    ("loss", "one of LOSS_*"),
    ("from_logits", "1: the outputs are the last layer's z (as Keras)"),
    ("label_width", "values per label: outputs, or 1 for sparse labels"),
    ("backward_key", "key of the output layer's first delta"),
    ("loss_key", "key of the per-sample loss sent to the host"),
    *BATCH_FIELDS,
    *key_space_fields("output"),
    *key_space_fields("label"),
])


def dense_dtcm_bytes(n_neurons, n_inputs, layer_size, softmax,
                     training=False, n_next=0, outgoing=False):
    """DTCM the dense app allocates, array by array as dense.c does.

    :param softmax: the layer exchanges z for a softmax on the machine
    :param n_next: training: the deltas each core receives per sample
        (the next layer's units, or the output layer's own size)
    :param outgoing: training: the core keeps its outgoing weights
    """
    floats = (n_neurons * n_inputs      # kernel rows
              + n_neurons               # bias
              + n_inputs                # the input vector
              + n_neurons               # pre-activations
              + (2 * layer_size if softmax else 0))   # the layer's z and p
    if training:
        floats += (n_neurons * n_inputs     # kernel gradient
                   + n_neurons              # bias gradient
                   + n_inputs               # the next sample's inputs
                   + 2 * n_neurons          # activations, deltas
                   + n_next                 # the deltas received
                   + (2 * n_neurons * n_next if outgoing else 0)
                   + (layer_size if softmax else 0))   # the layer's dL/dp
    return 4 * floats


def c_header():
    """The text of ``spidnn_layouts.h``."""
    out = ["// Generated by spiDNN/vertices/layouts.py: do not edit.",
           "#ifndef SPIDNN_LAYOUTS_H", "#define SPIDNN_LAYOUTS_H",
           "#include <stdint.h>", "",
           f"#define DTCM_HEAP_BYTES {DTCM_HEAP_BYTES}u", ""]
    for name, value in ACTIVATIONS.items():
        out.append(f"#define ACTIVATION_{name.upper()} {value}u")
    out.append("")
    for name, value in LOSSES.items():
        out.append(f"#define LOSS_{name.upper()} {value}u")
    out.append("")
    for name, value in REGIONS.items():
        out.append(f"#define REGION_{name} {value}u")
    out.append("")
    for params in (DENSE_PARAMS, LOSS_PARAMS):
        out += [params.c_definition(), ""]
    out += ["#endif", ""]
    return "\n".join(out)


if __name__ == "__main__":
    sys.stdout.write(c_header())
