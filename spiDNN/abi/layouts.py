"""The one definition of every SDRAM region and enum the C apps share.

Python packs region data from these definitions; ``python3 layouts.py``
prints the C header ``spidnn_layouts.h`` that the apps compile against, so
the two sides can never disagree about a field's position.  The module
imports nothing outside the standard library: the C build runs it as a
plain script.
"""
import struct
import sys

if __package__:
    from spiDNN.abi import optimizers as _optimizers
else:                       # run as a script by the C build
    import optimizers as _optimizers

#: Bytes of DTCM a SpiNNaker core has for its data and stack.
DTCM_BYTES = 64 * 1024
#: DTCM kept back for the stack and the apps' static data; what is left is
#: the heap that ``spin1_malloc`` hands out (on the chip and in the VM).
DTCM_RESERVED_BYTES = 8 * 1024
DTCM_HEAP_BYTES = DTCM_BYTES - DTCM_RESERVED_BYTES
#: Floats per DMA transfer of a streamed layer (stream.h): 1 KiB blocks.
STREAM_BLOCK = 256
#: A streamed conv's (conv_stream.h): it keeps ten or more blocks beside
#: the deltas its input gradients read, so half a block each.
CONV_STREAM_BLOCK = 128

#: Activation functions, by Keras name, with the id the C apps use.
ACTIVATIONS = {
    "linear": 0,
    "relu": 1,
    "sigmoid": 2,
    "tanh": 3,
    "softmax": 4,
    "elu": 5,
    "selu": 6,
    "gelu": 7,
    # Keras' gelu(approximate=True), which no Keras string names
    "gelu_approximate": 8,
    "silu": 9,
    "leaky_relu": 10,
    "softplus": 11,
    "softsign": 12,
    "hard_sigmoid": 13,
    "relu6": 14,
    "hard_silu": 15,
    "mish": 16,
    "exponential": 17,
    # Keras' ReLU(max_value, negative_slope, threshold) at settings no
    # other id computes, and ELU(alpha) at alpha != 1: the layer's
    # settings (layer_params.activation_*) give their constants.  No
    # Keras string names them.
    "relu_parametric": 18,
    "elu_alpha": 19,
}

#: Which upper bound relu_parametric applies (layer_params.activation_clip):
#: none; Keras' clip to [0, max_value] (TensorFlow's minimum then
#: maximum, whose gradients pass at both ends); or TensorFlow's Relu6,
#: which Keras uses at max_value 6 without a threshold (its gradient
#: stops at 0 and 6).
ACTIVATION_CLIPS = {
    "none": 0,
    "clip": 1,
    "relu6": 2,
}

#: Keras' other names for an activation, with the one they stand for.  A
#: layer keeps the name its user wrote (errors and summaries show it);
#: the cores and the cost table know the activation by the one it stands
#: for (activation_kind).
ACTIVATION_ALIASES = {
    "swish": "silu",
    "hard_swish": "hard_silu",
}


def activation_kind(name):
    """The ACTIVATIONS name of activation ``name``, an alias resolved."""
    return ACTIVATION_ALIASES.get(name, name)

#: Losses the loss app computes, by Keras name, with the id the C apps use.
LOSSES = {
    "mean_squared_error": 0,
    "categorical_crossentropy": 1,
    "sparse_categorical_crossentropy": 2,
    "binary_crossentropy": 3,
    "mean_absolute_error": 4,
    "mean_absolute_percentage_error": 5,
    "mean_squared_logarithmic_error": 6,
    "huber": 7,
    "log_cosh": 8,
    "kl_divergence": 9,
    "poisson": 10,
    "hinge": 11,
    "squared_hinge": 12,
    "categorical_hinge": 13,
    "cosine_similarity": 14,
}

#: How the loss core scales each sample's gradient (Keras 3's reductions,
#: keras/src/losses/loss.py reduce_values, as TensorFlow differentiates
#: them): "batch_size" the loss weight over the batch's samples
#: (sum_over_batch_size, mean; mean_with_sample_weight without weights);
#: "sum" the loss weight times reduction_factor, the losses Keras keeps
#: per sample (sum; none, whose vector TensorFlow's gradient sums);
#: "weight_sum" the loss weight over the batch's sum of sample weights, a
#: label word after the sample's weight (mean_with_sample_weight with
#: weights; 0 where the sum is 0, as divide_no_nan).
REDUCTIONS = {
    "batch_size": 0,
    "sum": 1,
    "weight_sum": 2,
}

#: Pooling modes of the pool app (ZeroPadding is a 1x1 "pad" window whose
#: padded positions count as zeros).
POOL_MODES = {
    "max": 0,
    "average": 1,
    "pad": 2,
    # Keras' global max (TensorFlow's reduce_max): tied maxima share the
    # gradient equally, where max pooling gives it all to the first.
    "max_shared": 3,
    # UpSampling and RepeatVector: each input element repeated over a
    # kernel_height x kernel_width block of the output (the window's size
    # is the repeat factor, not a window read).
    "upsample": 4,
    # Permute: output element a is the input element its position reads
    # along the permuted axes' strides (no window).
    "permute": 5,
}

#: Where a layer's cores get dL/d(output) from in the backward pass.
GRADIENT_SOURCES = {
    # The next layer is Dense: it sends its deltas, and each core keeps a
    # copy of its neurons' outgoing weights (shared parameters).
    "dense_deltas": 0,
    # The loss or a windowed layer sends dL/d(output) of every neuron,
    # keyed by the neuron's index in this layer.
    "direct": 1,
}

#: Regions of the data specification, shared by every spiDNN app.
REGIONS = {
    "SYSTEM": 0,     # simulation header written by the toolchain
    "PARAMS": 1,     # the app's parameter struct
    "WEIGHTS": 2,    # float32 kernel then biases (use_bias), in the app's
                     # layout
    "OUTGOING": 3,   # training: float32 rows of the next Dense kernel,
                     # then their optimizer state (has_state)
    "WINDOW": 4,     # conv and pool: the window geometry and exchanges
    "STATUS": 5,     # the core's progress, which the host reads (CORE_STATUS)
    # training with optimizer state to resume from: each state array in
    # the WEIGHTS region's layout, one after the other
    "OPTIMIZER_STATE": 6,
    # a streamed layer (layer_params.streamed): two input vectors, then,
    # training, the kernel's gradients and each state array, in the
    # WEIGHTS region's kernel layout
    "STREAM": 7,
    # the feeder (training data on the board): the 256 float32 values its
    # uint8 codes stand for; the samples it holds, a row each (uint8 codes
    # padded to whole words, or float32); their labels (payload words); the
    # order of every epoch (global sample indices); per optimizer step the
    # learning rate and scale (float32 bits)
    "TABLE": 8,
    "SAMPLES": 9,
    "SAMPLE_LABELS": 10,
    "ORDER": 11,
    "SCHEDULE": 12,
    # every layer app: where its input vector comes from, a SOURCE record
    # per source layer after their count (a merge has several)
    "SOURCES": 13,
    # every layer app, training: where dL/d(output) comes from, a GRADIENT
    # record per consumer after their count (a layer that fans out to
    # several consumers sums theirs in this order)
    "GRADIENTS": 14,
    # the merge app: MERGE_PARAMS, then a MERGE_INPUT record per source
    "MERGE": 15,
    # the prelu app: PRELU_PARAMS
    "PRELU": 16,
    # the dense app, training a layer applied more than once: its
    # SHARED_PARAMS (the chain of the uses' gradients)
    "SHARED": 17,
    # every layer app training with Keras' clipnorm or global_clipnorm
    # (clip_norm.h): a NORM_SOURCE record per layer whose gradient norms
    # the core gathers, after their count
    "NORM_SOURCES": 18,
}

#: Sources (inputs) and consumers (gradient sources) a layer core takes
#: at most: the C apps' static arrays.
MAX_SOURCES = 8
MAX_GRADIENTS = 8

#: What the merge app computes from its sources, element by element (or,
#: concatenate, by placing them side by side); "scale" is one source times
#: a constant plus an offset (Rescaling; a standalone activation layer is
#: a scale by 1 plus 0 with its activation).
MERGE_OPS = {
    "add": 0,
    "subtract": 1,
    "multiply": 2,
    "average": 3,
    "maximum": 4,
    "minimum": 5,
    "concatenate": 6,
    "scale": 7,
}

#: Optimizers the cores run (optimizer.h), by spiDNN.optimizers name: the
#: ids of spiDNN/abi/optimizers.py's table.
OPTIMIZERS = _optimizers.IDS

#: An optimizer's constants on the cores (float32 bits where a float), as
#: Keras casts them; each step's scale comes with its commit.  The
#: constants are every optimizer's of spiDNN/abi/optimizers.py, each once.
OPTIMIZER_FIELDS = [
    ("optimizer", "one of OPTIMIZER_*"),
    *((field, f"float32: {comment}" if kind == "float" else comment)
      for field, (kind, comment) in _optimizers.constants().items()),
    ("weight_decay", "float32: Keras' weight_decay, 0: none"),
    ("clipvalue", "float32: Keras' clipvalue, 0: none"),
    ("has_state", "1: the optimizer's state starts from OPTIMIZER_STATE "
                  "(and the OUTGOING rows' after them), not zeros"),
]

#: What the host tells every app core on the control partition (key =
#: control base + command; the payload is the host's round number, which
#: the core writes back into its status as the acknowledgement).
CONTROLS = {
    # Drop the pass in flight: forget what it gathered, take the state
    # of the last commit back, and ignore packets until RESUME.
    "abort": 0,
    # Take packets again: the host replays from the last commit.
    "resume": 1,
    # The batch's passes all completed: apply the update it prepared.
    "commit": 2,
    # Send the trained weights to the host.
    "send_weights": 3,
    # Passes from now on evaluate: forward without dropout, the loss and
    # metrics, no gradients, no batches counted (validation, evaluate).
    "evaluate": 4,
    # Passes from now on train again.
    "train": 5,
    # The next commit's learning rate (float32 bits, no round number), for
    # weight decay, which scales by it whatever the optimizer's values are.
    "learning_rate": 6,
    # The next `payload` passes evaluate, then the core trains again by
    # itself (a host across a lossy wire sends it with the commit before
    # the passes, so that neither arrives without the other, and needs
    # no message to train again).  Ignored while such passes are under
    # way: the host asking again.
    "evaluate_passes": 7,
    # Send the host this core's part of its layer's weight penalty
    # (spiDNN.regularizers) of the weights as they are now: a packet per
    # part on the penalty partition (a Dense core's: per neuron).
    "send_penalty": 8,
    # The next commit's step values (STEP_VALUE_COMMANDS: float32 bits,
    # no round number), what the optimizer's update takes besides the
    # gradients: step_value_<k> is its ABI entry's step_values[k] (the
    # learning rate, Adam's step size, ...).  A commit that has an update
    # to apply waits for them all (and is not acknowledged without).
    **{f"step_value_{k}": 9 + k for k in range(_optimizers.MAX_STEP_VALUES)},
    # The size of the batch that ends the pass (float32 bits of a whole
    # number, no round number), for end_pass.
    "last_batch_size": 9 + _optimizers.MAX_STEP_VALUES,
    # The pass ends with the batch about to start, of last_batch_size
    # samples (a source of unknown length whose last batch is short): the
    # cores count it so, and the next pass as configured.  Sent between
    # batches, after the last commit is carried out.
    "end_pass": 10 + _optimizers.MAX_STEP_VALUES,
}

assert sorted(CONTROLS.values()) == list(range(len(CONTROLS)))

#: The commands carrying a commit's step values, in step_values' order.
STEP_VALUE_COMMANDS = tuple(
    f"step_value_{k}" for k in range(_optimizers.MAX_STEP_VALUES))

#: Per-sample quantities the loss core computes (metrics.h) and sends at
#: loss_key + 1 + id: Keras' per-sample metrics by Keras name, and the
#: confusion counts of one sample (its outputs' counts at the loss core's
#: metric_threshold), which the host sums, and the top-k accuracies as the
#: target's rank, which the host compares with each k (spiDNN.metrics);
#: for Keras' AUC, the bucket of the sample's output among the evenly
#: spaced thresholds and whether its label is positive, which the host
#: counts into the confusion matrix of every threshold; for the IoU
#: metrics, the predicted class (argmax, or the one output at the
#: threshold) and the label's class, which the host counts into the
#: confusion matrix of the classes.
METRICS = {
    "sparse_categorical_accuracy": 0,
    "categorical_accuracy": 1,
    "binary_accuracy": 2,
    "mean_squared_error": 3,
    "mean_absolute_error": 4,
    "mean_absolute_percentage_error": 5,
    "top_k_categorical_accuracy": 6,
    "sparse_top_k_categorical_accuracy": 7,
    "true_positives": 8,
    "false_positives": 9,
    "true_negatives": 10,
    "false_negatives": 11,
    "auc_bucket": 12,
    "auc_positive": 13,
    "predicted_class": 14,
    "label_class": 15,
    "label_argmax": 16,
    "predicted_at_threshold": 17,
    "label_value": 18,
    # Keras' losses as metrics (its MeanMetricWrapper of the loss
    # function): the sample's loss, by the loss core's code of that loss.
    "loss_binary_crossentropy": 19,
    "loss_categorical_crossentropy": 20,
    "loss_sparse_categorical_crossentropy": 21,
    "loss_kl_divergence": 22,
    "loss_poisson": 23,
    "loss_categorical_hinge": 24,
    "loss_log_cosh": 25,
    "loss_mean_squared_logarithmic_error": 26,
    "loss_cosine_similarity": 27,       # (its negative: the similarity)
    # Keras' correlations of a sample's outputs with its label's.
    "pearson_correlation": 28,
    "concordance_correlation": 29,
    # Keras' F1Score and FBetaScore: the outputs predicted positive (a bit
    # each: at the threshold, or those equal to the largest), and the
    # labels that are 1 (-1 if a label is neither 0 nor 1), whose
    # per-class counts the host sums.
    "predicted_mask": 30,
    "label_mask": 31,
    # Keras' R2Score of one output: the sample's squared residual (its
    # label's value is label_value).
    "squared_residual": 32,
    # compile's weighted_metrics: the sample's weight (1 without), which
    # the host weighs the mean metrics' values by.
    "sample_weight": 33,
    # Keras' Hinge and SquaredHinge metrics: the sample's loss, its labels
    # turned from 0/1 into -1/1 where they are all 0 or 1 (the host
    # refuses labels for which Keras' per-batch choice would differ).
    "loss_hinge": 34,
    "loss_squared_hinge": 35,
}
#: The metrics are bits of two 32-bit words (loss_params.metrics, then
#: metrics_high).
assert max(METRICS.values()) < 64

#: What a core waits for, written to its status at every change, so that
#: a run that cannot go on names what each core was waiting for.
WAITING = {
    "inputs": 0,              # the next sample's input vector
    "softmax": 1,             # the softmax layer's z, sideways
    "gradients": 2,           # dL/da from the next layer or the loss
    "softmax_backward": 3,    # the softmax layer's dL/dp, sideways
    "exchange": 4,            # a windowed layer's deltas, sideways
    "chain": 5,               # a conv or prelu layer's gradient sums at a
                              # batch end
    "commit": 6,              # the host's commit of the batch
    "resume": 7,              # the host's resume after an abort
    "norm": 8,                # the gradient norms' words at a batch end
                              # (clip_norm.h)
}

#: Keras' gradient clipping by a norm (clip_norm.h): none, each
#: variable's (clipnorm) or all variables' together (global_clipnorm).
NORM_MODES = {
    "none": 0,
    "clip": 1,
    "global": 2,
}
#: Keys of one owner's variable in the norm partition: its words at
#: variable * NORM_WORD_STRIDE + word (clip_norm.h), those of EXACT_WORDS
#: that are not 0, then their count at the stride's last key.
NORM_WORD_STRIDE = 16
EXACT_WORDS = 11


def _cost_points():
    """The virtual clock's cost points (c_code/common/cost.h), by name.

    Each marks where a piece of an app's work begins and names the size
    its cost grows with; the app says COST(COST_<NAME>, size) there.  The
    cost table (spiDNN/costs/arm_costs.json) gives each app's instructions
    and cycles per point as base + slope * size, measured on the ARM
    build.  Points with a variant per activation, loss or optimizer come
    in that dict's order, so the apps add the variant's id to the first.
    """
    names = [
        "receive",            # a packet callback: 1
        "receive_other",      # ... of a packet that is not an input: 1
        "forward_start",      # a forward pass begins: neurons
        "forward",            # the app's forward maths: its multiplies
        "softmax",            # the softmax of the whole layer: its units
        "send",               # a loop sending stored values: packets
        "gradient_dense",     # dL/da through the outgoing rows: n * next
        "gradient_direct",    # dL/da as received: neurons
        "delta",              # dL/dz from dL/da (mask, f'): neurons
        "softmax_backward",   # the softmax's gradient: the layer's units
        "outgoing_accumulate",  # the outgoing rows' gradients: n * next
        "accumulate",         # the app's weight gradients: its multiplies
        "input_gradient",     # a windowed layer's dL/dx: its multiplies
        "chain",              # conv, prelu: a link of the gradient-sum chain
        "control",            # a control command carried out: 1
        "norm_add",           # clip_norm.h: gradients squared into a norm
        "norm_word",          # ... a norm's word received: 1
        "norm_factor",        # ... the slots' clip factors: slots
        "norm_scale",         # the gradients clipped by them: weights
    ]
    for variants in (ACTIVATIONS, LOSSES, POOL_MODES, MERGE_OPS, METRICS,
                     REDUCTIONS):
        assert list(variants.values()) == list(range(len(variants)))
    # f(z) and its packet, inferring, then training (which keeps more)
    names += [f"output_{name}" for name in ACTIVATIONS]
    names += [f"train_output_{name}" for name in ACTIVATIONS]
    # f'(z) times dL/da in the backward pass: neurons
    names += [f"backward_{name}" for name in ACTIVATIONS]
    names += [f"loss_{name}" for name in LOSSES]          # loss, gradient
    # One quantity of a metric of a sample (metrics.h): outputs.  (The
    # loss app's output_<activation> is the metrics' outputs from z.)
    names += [f"metric_{name}" for name in METRICS]
    # The pool app's window maths, per mode: its reads
    names += [f"pool_forward_{name}" for name in POOL_MODES]
    names += [f"pool_gradient_{name}" for name in POOL_MODES]
    # The merge app's maths, per op: the elements it reads (forward), or
    # the dL/dx it computes (backward)
    names += [f"merge_forward_{name}" for name in MERGE_OPS]
    names += [f"merge_backward_{name}" for name in MERGE_OPS]
    # The prelu app's maths: its elements
    names += ["prelu_forward", "prelu_backward"]
    # An optimizer's step, per weight, per variant of each optimizer
    # (spiDNN/abi/optimizers.py; optimizer.h: optimizer_cost_point)
    names += _optimizers.cost_points()
    return {name: i for i, name in enumerate(names)}


COST_POINTS = _cost_points()

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


#: How many samples make a batch: every training core counts samples
#: itself (batch.h), so no packet is spent on batch boundaries.
BATCH_FIELDS = [
    ("batch_size", "samples per batch (the epoch's last may be shorter)"),
    ("n_samples", "samples per epoch"),
]

#: A layer's Keras weight regularisers (spiDNN.regularizers): the penalty
#: l1 sum|w| + l2 sum w^2 of its kernel and of its biases; 0: no term.
REGULARIZER_FIELDS = [
    ("kernel_l1", "float32: the kernel regulariser's l1, 0: none"),
    ("kernel_l2", "float32: the kernel regulariser's l2, 0: none"),
    ("bias_l1", "float32: the bias regulariser's l1, 0: none"),
    ("bias_l2", "float32: the bias regulariser's l2, 0: none"),
]

#: What every layer app (dense, conv, pool) reads: its slice, the forward
#: and backward protocol (layer_core.h) and the training run.
LAYER_PARAMS = Struct("layer_params", [
    ("n_neurons", "neurons (output elements) on this core"),
    ("first_neuron", "index in the layer of this core's first neuron"),
    ("activation", "one of ACTIVATION_*"),
    ("activation_alpha", "float32 bits: leaky_relu's and relu_parametric's "
                         "negative slope, elu_alpha's alpha"),
    ("activation_max_value", "float32 bits: relu_parametric's max_value "
                             "(with activation_clip)"),
    ("activation_threshold", "float32 bits: relu_parametric's threshold"),
    ("activation_clip", "relu_parametric: one of ACTIVATION_CLIP_*"),
    ("forward_key", "key of this core's first neuron, forward partition"),
    ("softmax_key", "key of this core's first neuron, softmax partition"),
    *key_space_fields("peer"),
    ("training", "1: run the backward pass and update weights"),
    ("sends_logits", "1: forward z to a loss that takes logits"),
    ("softmax_group", "softmax: the neurons each softmax spans, which the "
                      "core holds whole (a conv's channels); 0: the whole "
                      "layer, exchanged sideways"),
    ("sends_backward", "1: send gradients to the previous layer"),
    ("backward_key", "key of this core's first backward packet"),
    ("softmax_backward_key", "first key, softmax_backward partition"),
    ("weights_key", "first key of the weights partition (trained weights)"),
    *OPTIMIZER_FIELDS,
    *BATCH_FIELDS,
    *key_space_fields("peer_backward"),
    ("dropout_rate", "float32 bits: the Dropout after the layer, 0: none"),
    ("dropout_seed", "seed of the dropout masks"),
    ("control_key", "first key of the host's control partition"),
    ("streamed", "1: the kernel lives in SDRAM (the WEIGHTS region; "
                 "training, its gradients and state in the STREAM region) "
                 "and streams through DMA; training, the copies of Dense "
                 "consumers' rows stay in the OUTGOING region"),
    ("inputs_in_sdram", "1: the input vectors live in SDRAM too, first in "
                        "the STREAM region (a streamed Dense's or conv's)"),
    ("block_first", "first input element this core takes (a 2-D split: "
                    "its input block; else 0)"),
    ("block_inputs", "input elements this core takes (all, unless 2-D)"),
    ("use_bias", "1: the layer adds a bias to z (Keras' use_bias; "
                 "0 for layers without weights)"),
    ("partial", "1: a 2-D split's core before the last input block: its "
                "sums go on to the next block's core, with no bias"),
    *key_space_fields("carry"),
    *REGULARIZER_FIELDS,
    ("penalty_key", "key of the penalty partition (the core's part of "
                    "its layer's weight penalty, asked by send_penalty)"),
    ("frozen", "training: 1 for Keras' trainable=False: no weight "
               "gradients and no update (dL/dx still goes back)"),
    ("norm_mode", "one of NORM_MODE_*: Keras' clipnorm or "
                  "global_clipnorm (clip_norm.h)"),
    ("norm_clip", "float32 bits: the clipnorm or global_clipnorm"),
    ("norm_inverse_clip", "float32 bits: global_clipnorm: float32(1 / "
                          "global_clipnorm), as Keras divides in Python"),
    ("norm_key", "first key of this core's norm partition"),
    ("norm_sends", "1: the core owns parts of its layer's variables and "
                   "sends their sums of squares"),
    ("norm_variables", "its layer's variables (kernel, bias): the sums "
                       "it sends, and its own slots (clipnorm) 0, 1"),
    ("norm_slots", "the norms the core gathers (NORM_SOURCES' slots)"),
])

#: A layer whose gradient norms a core gathers (the NORM_SOURCES region):
#: its norm partition's key space, how many of its cores send, and the
#: slot each of its variables adds to (NO_NORM_SLOT: one not needed).
NORM_SOURCE = Struct("norm_source", [
    *KEY_SPACE_FIELDS,
    ("n_variables", "the variables each sender sends"),
    ("senders", "the layer's cores that send (owners)"),
    ("slot_0", "the slot its first variable (the kernel) adds to"),
    ("slot_1", "the slot its second variable (the bias) adds to"),
])
NO_NORM_SLOT = 0xFFFFFFFF

#: One source of a layer core's input vector (the SOURCES region): the
#: sender's key space and the slice of its neurons the core takes, which
#: follow the previous sources' in the vector.
SOURCE = Struct("source", [
    *KEY_SPACE_FIELDS,
    ("first", "the first of the sender's neurons the core takes"),
    ("n", "how many it takes"),
])

#: One consumer's dL/d(output) (the GRADIENTS region), training.
GRADIENT = Struct("gradient", [
    ("source", "one of GRADIENT_SOURCE_*"),
    *KEY_SPACE_FIELDS,
    # A Dense consumer's rows here are a copy of its kernel's: they take
    # the same penalty gradient, or the copies would part.
    ("kernel_l1", "float32: dense deltas: the consumer's kernel l1"),
    ("kernel_l2", "float32: dense deltas: the consumer's kernel l2"),
    ("frozen", "dense deltas: 1 if the consumer is frozen (Keras' "
               "trainable=False): its rows here stay as they are"),
    # A shared Dense consumer (applied more than once): its rows here take
    # the totals of every use's gradient from its last use's cores, which
    # send each core's kernel (its neurons' rows of inputs, one after the
    # other) then its biases, not the products of this core's samples.
    *key_space_fields("totals"),
    ("totals_rows", "dense deltas from a shared Dense: its inputs (the "
                    "length of a kernel row in the totals); 0: not shared"),
    ("norm_slot", "dense deltas, clipping by a norm: the slot of the "
                  "consumer's kernel norm, which its rows here are scaled "
                  "by"),
    ("first", "direct: the index, in the key space, of the core's first "
              "neuron (the gradients the core takes are the n from it)"),
])

#: A shared Dense's core (the SHARED region): the chain over its uses that
#: adds up the gradients of its slice at a batch end, use after use.
SHARED_PARAMS = Struct("shared_params", [
    ("chain_key", "first key of this core's sums (shared_chain partition)"),
    *key_space_fields("previous"),
    *key_space_fields("total"),
    ("slice", "this core's slice of neurons, the same in every use: the "
              "core of the previous and the last use it takes sums from"),
    ("reports", "1: the core sends its weights and penalty (a layer used "
                "once, or a shared layer's first use: all hold the same)"),
])

#: The merge app's operation (the MERGE region, then a MERGE_INPUT per
#: source).
MERGE_PARAMS = Struct("merge_params", [
    ("op", "one of MERGE_OP_*"),
    ("n_sources", "its sources (the SOURCES region's)"),
    ("scale", "float32 bits: scale's factor"),
    ("offset", "float32 bits: scale's offset"),
    ("row", "concatenate: output elements per row (the concatenated "
            "axis and those after it); else 1"),
])

MERGE_INPUT = Struct("merge_input", [
    ("sends", "training: 1 to send the source its dL/dx"),
    ("backward_key", "key of this core's first dL/dx to the source"),
    ("row", "concatenate: the source's elements per row; else 1"),
])

#: Axes of a PReLU's input the prelu app numbers (channels last: at most
#: (height, width, channels)).
PRELU_AXES = 3

#: The prelu app (Keras' PReLU): element e of the input, at coordinate
#: (e / stride_i) % size_i along each axis i, takes alpha number
#: sum_i coordinate_i * alpha_stride_i (0 along Keras' shared_axes).
#: Without shared axes each core holds its own elements' alphas; with
#: them every core holds them all and the batch's alpha gradients are
#: summed along a chain in core order, as conv's kernel gradients.
PRELU_PARAMS = Struct("prelu_params", [
    *((f"{what}_{i}", text) for i in range(PRELU_AXES)
      for what, text in (
          ("size", "elements along the axis (1: none)"),
          ("stride", "input elements between neighbours along the axis"),
          ("alpha_stride", "alphas between neighbours along the axis "
                           "(0: a shared axis)"))),
    ("n_alphas", "the alphas this core holds"),
    ("alpha_first", "the first alpha it holds"),
    ("sends", "training: 1 to send the source its dL/dx"),
    ("backward_key", "key of this core's first dL/dx to the source"),
    ("chained", "1: the alphas are shared across cores (shared_axes): "
                "their gradients are summed along the chain"),
    ("chain_key", "first key of this core's gradient-sum partition"),
    *key_space_fields("chain"),
    ("chain_previous", "core adding its sums before this one, or -1"),
    ("chain_last", "the core whose sums are the totals"),
])

#: The geometry of a windowed layer (conv, pooling, zero padding) over a
#: channels_last (height, width, channels) input; 1-D layers have height 1.
WINDOW_PARAMS = Struct("window_params", [
    ("in_height", "input rows"),
    ("in_width", "input columns"),
    ("in_channels", "input channels"),
    ("out_height", "output rows"),
    ("out_width", "output columns"),
    ("out_channels", "output channels (filters)"),
    ("kernel_height", "window rows"),
    ("kernel_width", "window columns"),
    ("stride_height", "rows between windows"),
    ("stride_width", "columns between windows"),
    ("pad_top", "rows of padding above the input"),
    ("pad_left", "columns of padding left of the input"),
    ("pool_mode", "pool app: one of POOL_MODE_*"),
    ("permute_height_stride", "permute: input stride along output rows"),
    ("permute_width_stride", "permute: input stride along output columns"),
    ("permute_channels_stride", "permute: input stride along channels"),
    ("unpermute_height_stride", "permute: output stride along input rows"),
    ("unpermute_width_stride", "permute: output stride along input columns"),
    ("unpermute_channels_stride", "permute: output stride along channels"),
    ("filter_first", "conv: the first filter of this core's kernel copy"),
    ("n_filters", "conv: the filters of this core's kernel copy"),
    ("input_first", "the first input element this core keeps"),
    ("owned_first", "first input element whose gradient this core sends"),
    ("n_owned", "input elements whose gradient this core sends"),
    ("delta_first", "the first of the layer's deltas this core gathers"),
    ("n_deltas", "the layer's deltas this core gathers"),
    ("exchange_key", "key of this core's first delta, exchange partition"),
    *key_space_fields("exchange"),
    ("chain_key", "conv: first key of this core's gradient-sum partition"),
    *key_space_fields("chain"),
    ("chain_previous", "conv: the core adding its sum before this one (in "
                       "the chain key space: its layer's, or a shared "
                       "layer's previous use's), or -1"),
    *key_space_fields("total"),
    ("chain_last", "conv: the core whose sums are the totals (in the total "
                   "key space: its layer's, or a shared layer's last "
                   "use's)"),
])

#: A core's progress in SDRAM, written by the core and read by the host
#: (on a board through the transceiver, in the VM from the core's block).
CORE_STATUS = Struct("core_status", [
    ("passes_done", "passes this core has finished, all of its part"),
    ("waiting", "one of WAITING_*: what the core waits for now"),
    ("last_control", "round number of the last control it carried out"),
])

LOSS_PARAMS = Struct("loss_params", [
    ("loss", "one of LOSS_*"),
    ("from_logits", "1: the loss takes what arrives as logits (Keras' "
                    "from_logits, or a cross-entropy after a softmax or "
                    "sigmoid)"),
    ("sends_logits", "1: what arrives is the output layer's z, and its "
                     "activation (output_activation) gives the outputs "
                     "the metrics see"),
    ("label_width", "words per label: its values (outputs, or 1 for "
                    "sparse labels), then the sample weight (weighted), "
                    "then the batch's sum of them (REDUCTION_WEIGHT_SUM)"),
    ("weighted", "1: the label's word after its values is the sample's "
                 "weight (float32 bits), a factor of its loss and "
                 "gradient"),
    ("label_smoothing", "1: the cross-entropy's labels are smoothed: "
                        "y smoothing_keep + smoothing_shift"),
    ("smoothing_keep", "float32 bits: float32(1 - label_smoothing)"),
    ("smoothing_shift", "float32 bits: label_smoothing / classes "
                        "(categorical) or 0.5 label_smoothing (binary)"),
    ("delta", "float32 bits: Huber's delta"),
    ("loss_weight", "float32 bits: compile's loss weight of the output, "
                    "a factor of the gradient (1.0 without)"),
    ("reduction", "one of REDUCTION_*: what scales the gradient"),
    ("reduction_factor", "float32 bits: REDUCTION_SUM's factor, the "
                         "losses Keras keeps per sample (the output's "
                         "elements over its last axis)"),
    ("backward_key", "key of the output layer's first delta"),
    ("loss_key", "key of the per-sample loss sent to the host"),
    ("metrics", "bit per METRIC_* id below 32: the metrics sent after the "
                "loss"),
    ("metrics_high", "bit per METRIC_* id from 32 (id - 32)"),
    ("output_activation", "one of ACTIVATION_*: what the metrics apply to "
                          "z (sends_logits)"),
    ("metric_threshold", "float32 bits: the confusion counts' threshold "
                         "(an output > it counts as positive)"),
    ("metric_auc_thresholds", "AUC: Keras' num_thresholds (evenly spaced; "
                              "0 without AUC)"),
    ("metric_auc_from_logits", "AUC: 1 to take the sigmoid of the output "
                               "first (Keras' from_logits=True)"),
    ("metric_loss_from_logits", "the cross-entropy metrics take a linear "
                                "output as logits (their from_logits=True)"),
    ("metric_fbeta_threshold", "float32 bits: F1Score's and FBetaScore's "
                               "threshold (an output above it is "
                               "predicted), or -1: those equal to the "
                               "largest (Keras' threshold=None)"),
    *BATCH_FIELDS,
    *key_space_fields("output"),
    *key_space_fields("label"),
    ("control_key", "first key of the host's control partition"),
])


#: The feeder (c_code/feeder): training data held on the board, streamed
#: in each epoch's order by the lead core (the others hold shards of the
#: data on other chips and relay their samples through it).
FEEDER_PARAMS = Struct("feeder_params", [
    ("n_inputs", "values per input sample"),
    ("label_width", "payload words per label"),
    *BATCH_FIELDS,
    ("n_epochs", "epochs to train"),
    ("n_validation", "validation samples, held after the training set's"),
    ("n_step_values", "the optimizer's step values: SCHEDULE has the "
                      "learning rate and these per step"),
    ("codes", "1: SAMPLES rows are uint8 codes into TABLE, padded to "
              "words; 0: float32"),
    ("shard_first", "the first sample this core holds"),
    ("shard_count", "the samples this core holds"),
    ("lead", "1: this core sends the samples, commits and relays the "
             "host's commands"),
    ("input_key", "lead: first key of the inputs (forward partition)"),
    ("labels_key", "lead: first key of the label (labels partition)"),
    ("control_key", "lead: first key of the control partition to the apps"),
    ("relay_key", "first key of this core's relay partition to the lead"),
    ("relay_base", "first key of the relay partition's first core"),
    ("relay_atom_bits", "relay key bits numbering a value within a core"),
    ("relay_n_cores", "cores in the relay partition"),
    ("host_control_key", "first key of the host's control partition"),
    ("loss_key", "key of the loss core's per-sample loss"),
])


def stream_region_words(n_neurons, n_inputs, training, n_states=0):
    """Words of a streamed core's STREAM region: two input vectors, then,
    training, the kernel's gradients and each state array (dense_stream.h
    reads it in this order)."""
    kernel = n_neurons * n_inputs
    return 2 * n_inputs + (kernel * (1 + n_states) if training else 0)


def conv_stream_region_words(n_params, n_positions, n_inputs, training,
                             n_states=0, chained=False):
    """Words of a streamed conv core's STREAM region: its two input
    vectors, then, training, the kernel's gradients, each state array,
    the sums of each of its output positions and, ``chained`` (not the
    chain's first core), the previous core's running sums, n_params words
    each (conv.c's streamed_setup reads it in this order)."""
    words = 2 * n_inputs
    if training:
        words += n_params * (1 + n_states + n_positions + int(chained))
    return words


def layer_dtcm_bytes(n_neurons, n_inputs, training, gradients, dropout,
                     n_states=0, streamed=False, carried=False,
                     rows_in_sdram=False, norm_slots=0):
    """DTCM that layer_core.h allocates for any layer app.

    :param n_inputs: the inputs the core takes (its block, 2-D)
    :param gradients: training: (GRADIENT_SOURCES id, values gathered) of
        each consumer: a next Dense layer's units, else the core's neurons
    :param n_states: the optimizer's state arrays per weight array
    :param streamed: the input vectors live in SDRAM (inputs_in_sdram)
    :param carried: 2-D: the previous input block's sums arrive
    :param rows_in_sdram: the copies of Dense consumers' rows (with their
        gradients and state) live in SDRAM (a streamed core's)
    """
    # inputs twice (unless in SDRAM), z, a, sent (and the carried sums)
    floats = (0 if streamed else 2 * n_inputs) + (
        4 if carried else 3) * n_neurons
    if training:
        floats += n_neurons                      # deltas
        for source, n_next in gradients:
            floats += n_next                     # what arrives
            if source == GRADIENT_SOURCES["dense_deltas"] and not (
                    rows_in_sdram):
                # the rows, their gradients and optimizer state
                floats += (2 + n_states) * n_neurons * n_next
        if len(gradients) > 1:
            floats += n_neurons                  # the consumers' sum
        if dropout:
            floats += n_neurons                  # the mask
        floats += norm_slots * EXACT_WORDS       # clip_norm.h's sums
    return 4 * floats


def c_header():
    """The text of ``spidnn_layouts.h``."""
    out = ["// Generated by spiDNN/abi/layouts.py: do not edit.",
           "#ifndef SPIDNN_LAYOUTS_H", "#define SPIDNN_LAYOUTS_H",
           "#include <stdint.h>", "",
           f"#define DTCM_HEAP_BYTES {DTCM_HEAP_BYTES}u",
           f"#define STREAM_BLOCK {STREAM_BLOCK}u",
           f"#define CONV_STREAM_BLOCK {CONV_STREAM_BLOCK}u",
           f"#define MAX_SOURCES {MAX_SOURCES}u",
           f"#define MAX_GRADIENTS {MAX_GRADIENTS}u",
           f"#define PRELU_AXES {PRELU_AXES}u",
           f"#define NO_NORM_SLOT {NO_NORM_SLOT}u", ""]
    for prefix, values in (("ACTIVATION", ACTIVATIONS),
                           ("ACTIVATION_CLIP", ACTIVATION_CLIPS),
                           ("LOSS", LOSSES), ("REDUCTION", REDUCTIONS),
                           ("REGION", REGIONS), ("POOL_MODE", POOL_MODES),
                           ("GRADIENT_SOURCE", GRADIENT_SOURCES),
                           ("MERGE_OP", MERGE_OPS),
                           ("CONTROL", CONTROLS), ("WAITING", WAITING),
                           ("NORM_MODE", NORM_MODES),
                           ("OPTIMIZER", OPTIMIZERS), ("METRIC", METRICS),
                           ("COST", COST_POINTS)):
        out += [f"#define {prefix}_{name.upper()} {value}u"
                for name, value in values.items()] + [""]
    # Every optimizer (optimizer.h dispatches over the list: X(name, NAME)
    # calls optimizers/<name>.h's name_*), their most state arrays, and
    # their constants (optimizer.h's optimizer_t: X(f or u, field), a
    # float32 or a word).
    out += ["#define OPTIMIZER_LIST(X) " + " ".join(
                f"X({e.name}, {e.name.upper()})" for e in _optimizers.TABLE),
            f"#define N_OPTIMIZERS {len(_optimizers.TABLE)}u",
            f"#define OPTIMIZER_MAX_STATES {_optimizers.MAX_STATES}u",
            f"#define OPTIMIZER_MAX_STEP_VALUES "
            f"{_optimizers.MAX_STEP_VALUES}u",
            # Each optimizer's step values (a commit waits for them).
            *(f"#define OPTIMIZER_{e.name.upper()}_N_STEP_VALUES "
              f"{len(e.step_values)}u" for e in _optimizers.TABLE),
            "#define OPTIMIZER_CONSTANTS(X) " + " ".join(
                f"X({kind[0]}, {field})" for field, (kind, _)
                in _optimizers.constants().items()), ""]
    # The control partition's keys: one per command.
    out += [f"#define N_CONTROLS {len(CONTROLS)}u",
            f"#define N_METRICS {len(METRICS)}u",
            f"#define N_COST_POINTS {len(COST_POINTS)}u", ""]
    for params in (LAYER_PARAMS, SOURCE, GRADIENT, NORM_SOURCE, SHARED_PARAMS,
                   MERGE_PARAMS, MERGE_INPUT, PRELU_PARAMS, WINDOW_PARAMS,
                   LOSS_PARAMS, FEEDER_PARAMS,
                   CORE_STATUS):
        out += [params.c_definition(), ""]
    out += ["#endif", ""]
    return "\n".join(out)


if __name__ == "__main__":
    sys.stdout.write(c_header())
