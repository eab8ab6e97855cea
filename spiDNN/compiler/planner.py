"""The planner: how many of each layer's neurons share a core.

For every layer the user left to it (``neurons_per_core="auto"``, the
default), the planner prices each slice size with the cost table that
the virtual clock uses (each vertex's ``work``: what one core runs per
sample, in the ARM cycles measured on the app's ARM build) and chooses:

1. the least predicted time per sample on the board: a pipelined model
   runs at the pace of its slowest core (or of the source streaming the
   inputs, or of the loss core), so the target is the smallest that any
   layer's slowest core can reach, with the layers the user sliced
   themselves as they are;
2. at that pace, the fewest cores: a layer that is not the bottleneck
   takes as many neurons per core as keep its cores within the target,
   which leaves chips free and the virtual machine less to do;
3. within every limit of a core and the machine: DTCM (with the
   optimizer's state when training) and the application cores of the
   boards: those the model was given (``n_boards``), else as many boards
   as its plan of fewest cores needs (the planner does not take more
   boards for speed); the target is relaxed until the cores fit.

A Dense layer may also split its inputs (a 2-D split,
``inputs_per_core``): a core per input block and slice of neurons, the
blocks' sums carried from core to core in input order.  A core then
receives and multiplies only its block, which is what a wide layer's
pace needs (receiving each input costs a core about as much as
multiplying it); the input source takes a core per block of the first
layer, so its pace splits too.

A user's explicit ``neurons_per_core`` always wins; one that breaks a
limit is refused with the limit it breaks.  The plan is returned frozen
(the layers are not changed): the model keeps its last (``model.plan``),
``summary()`` prints it with the reason for each choice, and lowering
hands its slicing to the machine graph.
"""
import dataclasses

from spiDNN.compiler.lowering import Slicing, blocks_of, core_layers
from spiDNN.errors import SpiDNNConfigurationError
from spiDNN.abi import layouts
from spiDNN.costs import fabric, table

#: Key bits a layer's cores may take to send their trained weights home
#: (a key per weight and state value): PACMAN's zoned key allocator
#: numbers each partition's cores and their keys within the bits its
#: zones leave (32 less 7 for a model's hundred-odd partitions), so a
#: Dense with millions of weights takes more, smaller slices, or input
#: blocks (each block's cores a partition of their own).
WEIGHT_KEY_BITS = 25

#: Application cores per chip (18 cores, one the monitor).
APP_CORES_PER_CHIP = 17
#: Chips on a SpiNN-5 board.
CHIPS_PER_BOARD = 48
#: SDRAM a chip offers the apps (spinn_machine's version_spin1:
#: max_sdram_per_chip); a streamed core's data must fit one chip's.
CHIP_SDRAM_BYTES = 123469792
#: Cores of a chip that may stream at once, sharing its SDRAM.
STREAMING_CORES_PER_CHIP = 16
#: The most input blocks the planner considers for a layer, and the
#: fewest inputs a block may have (each block adds a core per slice and
#: the carried sums' packets: below this it buys little pace for them).
MAX_INPUT_BLOCKS = 16
MIN_INPUTS_PER_CORE = 32
#: The share of a board's application cores a plan may fill: PACMAN's
#: placer keeps each vertex's cores on neighbouring chips and leaves
#: some cores of partly filled chips unused (a plan of 811 of a board's
#: 816 failed to place).
PLACEABLE_FRACTION = 0.9


def placeable_cores(n_boards):
    """Application cores a plan may take on ``n_boards`` boards."""
    return int(PLACEABLE_FRACTION * n_boards * CHIPS_PER_BOARD
               * APP_CORES_PER_CHIP)


def boards_for(n_cores):
    """Boards to run ``n_cores`` application cores (at least one)."""
    boards = 1
    while placeable_cores(boards) < n_cores:
        boards += 1
    return boards


@dataclasses.dataclass
class Option:
    """One slice size of a layer (and input block, 2-D), and where its
    kernel lives."""
    neurons_per_core: int
    n_cores: int
    cycles: float          # of its fullest core, per sample
    dtcm_bytes: int
    streamed: bool = False
    inputs_per_core: int = None    # None: every input (1-D)
    #: The first layer's: the pace of the input source's fullest core,
    #: and the source's cores beyond one (a core per input block).
    source_cycles: float = 0.0
    extra_source_cores: int = 0

    @property
    def pace(self):
        """Cycles per sample of the layer, or of its source if slower."""
        return max(self.cycles, self.source_cycles)


@dataclasses.dataclass(frozen=True)
class LayerPlan:
    name: str
    neurons_per_core: int
    n_cores: int
    cycles: float
    dtcm_bytes: int
    reason: str
    streamed: bool = False
    inputs_per_core: int = None    # None: every input on each core
    n_blocks: int = 1              # input blocks (a core per slice each)

    @property
    def slicing(self):
        return Slicing(self.neurons_per_core, self.streamed,
                       self.inputs_per_core)


@dataclasses.dataclass(frozen=True)
class Plan:
    """A model's plan for one kind of run (training or not)."""
    training: bool
    layers: tuple
    #: The predicted pace of the pipeline: cycles per sample of its
    #: slowest part, and what that part is.
    bottleneck_cycles: float
    bottleneck: str

    @property
    def n_cores(self):
        return sum(layer.n_cores for layer in self.layers)

    def layer(self, name):
        """The plan of the layer named ``name``."""
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(name)

    def slicing_of(self, name):
        return self.layer(name).slicing

    def cores_needed(self):
        """Application cores: each layer's, the input source's (a core
        per input block of a first layer split 2-D) and the output's."""
        sources = self.layers[0].n_blocks if self.layers else 1
        return 1 + sources + self.n_cores

    def lines(self):
        """The plan as summary() prints it."""
        hz = table.clock_hz()
        run = "training" if self.training else "inference"
        lines = [f"Plan for {run}: {self.bottleneck} sets the pace, "
                 f"{_us(self.bottleneck_cycles, hz)} per sample (predicted "
                 f"on a board)"]
        for layer in self.layers:
            where = ("kernel streamed from SDRAM" if layer.streamed
                     else "in DTCM")
            split = ("" if layer.inputs_per_core is None else
                     f" x {layer.inputs_per_core} inputs")
            lines.append(
                f"  {layer.name}: {layer.neurons_per_core}{split} per core "
                f"on {layer.n_cores} core(s), {where}, "
                f"{_us(layer.cycles, hz)} per sample, {layer.dtcm_bytes} B "
                f"DTCM: {layer.reason}")
        return lines


def _us(cycles, hz):
    return f"{cycles / hz * 1e6:.1f} us"


def plan(layers, training=None, n_boards=None, inputs=None, outputs=None):
    """The :py:class:`Plan` of a model's ``layers`` for a run (training or
    not): the slices of the layers left to the planner, the users' as
    they gave them; refuses a model that breaks a limit.  ``n_boards``:
    the model's boards (None: as many as its plan of fewest cores
    needs); ``inputs`` and ``outputs``: its Inputs and output layers
    (lowering's)."""
    cores = core_layers(layers, inputs=inputs, outputs=outputs)
    options = {core: _options(core, training) for core in cores}
    # A shared layer's uses are sliced alike: planned as one.
    units = _units(cores, options)
    floor, floor_name = _floor(training)
    # The fastest each layer can go, the explicit ones as they are.
    target, slowest = floor, floor_name
    for unit, unit_options in units.items():
        fastest = min(unit_options, key=lambda o: o.pace)
        if fastest.pace > target:
            target, slowest = fastest.pace, _pacer(unit, fastest)
    chosen = {unit: _fewest_within(unit_options, target)
              for unit, unit_options in units.items()}
    n_boards = n_boards or _boards_of_fewest(units, training)
    budget = _core_budget(n_boards, training)
    if _cores(chosen) > budget:
        target, slowest, chosen = _relax(list(units), units, target, budget,
                                         n_boards)
    planned = tuple(
        LayerPlan(core.layer.name, option.neurons_per_core, option.n_cores,
                  option.cycles, option.dtcm_bytes,
                  _reason(core, options[core], option, target, slowest),
                  option.streamed, option.inputs_per_core,
                  blocks_of(core.layer, option.inputs_per_core))
        for core in cores for unit in [_unit_of(core)]
        for option in [_member_option(options[core], chosen[unit])])
    if training:
        _check_loss_core(training)
    return Plan(bool(training), planned, target, slowest)


def _unit_of(core):
    """What the planner plans ``core`` with: itself, or its shared
    layer's first use."""
    return core if core.shared_uses is None else core.shared_uses[0]


def _units(cores, options):
    """{unit: its options}: each layer used once with its own, and each
    shared layer's uses together (_together)."""
    return {core: (options[core] if core.shared_uses is None
                   else _together(core.shared_uses, options))
            for core in cores if _unit_of(core) is core}


def _together(uses, options):
    """The options of a shared layer's uses, sliced alike: each slice
    size that fits every use, as one option of all their cores, priced
    at the slowest's and the fullest's."""
    together = []
    for first in options[uses[0]]:
        members = [_member_option(options[use], first) for use in uses]
        if any(member is None for member in members):
            continue
        together.append(dataclasses.replace(
            first, n_cores=sum(m.n_cores for m in members),
            cycles=max(m.cycles for m in members),
            dtcm_bytes=max(m.dtcm_bytes for m in members),
            source_cycles=max(m.source_cycles for m in members),
            extra_source_cores=sum(m.extra_source_cores for m in members)))
    if not together:
        layer = uses[0].layer
        raise SpiDNNConfigurationError(
            f"{layer.name} ({type(layer).__name__}) is shared by "
            f"{len(uses)} uses, sliced alike, and no slice size fits every "
            f"use's cores; give it neurons_per_core")
    return together


def _member_option(options, chosen):
    """Of a use's ``options``, the one sliced as ``chosen`` (None if it
    has none)."""
    return next((o for o in options
                 if o.neurons_per_core == chosen.neurons_per_core
                 and o.inputs_per_core == chosen.inputs_per_core
                 and o.streamed == chosen.streamed), None)


def _check_loss_core(training):
    """Each output's loss core must fit its DTCM."""
    from spiDNN.compiler.vertices.loss import loss_dtcm_bytes
    for output in training.outputs:
        needed = loss_dtcm_bytes(output)
        if not dtcm_fits(needed):
            raise SpiDNNConfigurationError(
                f"the loss core{_of_output(output)} needs {needed} bytes "
                f"of DTCM for {output.n_outputs} outputs; a core has "
                f"{layouts.DTCM_HEAP_BYTES}")


def _of_output(output):
    return "" if output.name is None else f" of output {output.name!r}"


def _pacer(core, option):
    """What sets a layer's option's pace: the layer, or its source."""
    if option.source_cycles > option.cycles:
        return "the input source"
    return core.layer.name


def _block_sizes(layer):
    """The input blocks to consider: None (every input on each core),
    then sizes of 2 .. MAX_INPUT_BLOCKS blocks of at least
    MIN_INPUTS_PER_CORE inputs (only the user's, when
    they gave one, or gave neurons_per_core: their slice is theirs)."""
    if not (layer.plans_own_blocks and layer.plans_own_slice):
        requested = layer.requested_inputs_per_core
        return [requested if requested is not None
                and requested < layer.n_inputs else None]
    n = layer.n_inputs
    sizes = sorted({-(-n // k) for k in range(2, MAX_INPUT_BLOCKS + 1)
                    if MIN_INPUTS_PER_CORE <= -(-n // k) < n}, reverse=True)
    return [None] + sizes


def _options(core, training):
    """The layer's slice sizes (and input blocks, 2-D) that fit a core,
    fewest cores first (only the user's, when they gave one): each with
    its kernel in DTCM where it fits, else, where the app can, streamed
    from SDRAM."""
    layer = core.layer
    granularity = layer.slice_granularity
    positions = layer.units // granularity
    if layer.plans_own_slice:
        sizes = sorted({-(-positions // c) for c in range(1, positions + 1)},
                       reverse=True)
    else:
        sizes = [layer.requested_neurons_per_core // granularity]
    storages = {"auto": (False, True), "dtcm": (False,),
                "sdram": (True,)}[layer.weights_in]
    # A shared Dense chains its uses' gradients from DTCM, every input on
    # each core (spiDNN.compiler.sharing).
    shared_dense = core.shared_uses is not None and (
        core.vertex_class.SENDS_DELTAS)
    # Streamed, a core keeps its kernel (if the app can stream it) and,
    # training, its copies of Dense consumers' rows in SDRAM.
    can_stream = core.vertex_class.CAN_STREAM or bool(
        training and core.needs_backward and core.has_dense_consumers)
    if not can_stream or shared_dense:
        storages = (False,)
    options, refused = [], None
    for per_core in sizes:
        n = min(per_core * granularity, layer.units)
        for inputs in [None] if shared_dense else _block_sizes(layer):
            n_blocks = blocks_of(layer, inputs)
            kinds = _block_cores(n_blocks)
            if _weight_key_bits(core, n, training, inputs,
                                -(-positions // per_core)) > (
                    WEIGHT_KEY_BITS):
                continue
            for streamed in storages:
                dtcm = _dtcm_bytes(core, n, training, streamed, inputs, kinds)
                sdram = _sdram_bytes(core, n, training, streamed, inputs)
                if not dtcm_fits(dtcm) or sdram > CHIP_SDRAM_BYTES:
                    refused = (n, dtcm, sdram, streamed, inputs, kinds)
                    continue
                options.append(Option(
                    n, -(-positions // per_core) * n_blocks,
                    _cycles(core, n, training, streamed, inputs, kinds), dtcm,
                    streamed, inputs, _source_cycles(core, inputs),
                    n_blocks - 1 if core.is_first else 0))
                break
    if not options and refused is None:
        raise SpiDNNConfigurationError(
            f"layer {layer.name} has too many weights to send home after "
            f"training: each trained weight and state value comes back "
            f"with a key of its own, and no slicing keeps its cores' keys "
            f"within the {WEIGHT_KEY_BITS} bits PACMAN's key allocator "
            f"leaves; "
            + ("give it inputs_per_core='auto' (each input block's cores "
               "take keys of their own) or use a smaller layer"
               if core.vertex_class.SENDS_DELTAS else "use a smaller layer"))
    if not options:
        raise _refusal(core, training, *refused)
    return options


def _weight_key_bits(core, n, training, inputs, n_cores):
    """Key bits the ``n_cores`` cores of ``n`` of one of the layer's
    vertices (its input block's, 2-D) take to send their trained weights
    and state to the host (a key each), training: a core's keys' and its
    cores' numbers' (0 predicting).  VGG16's fc2 at 2 cores of 8,390,656
    keys (24 + 1 bits) maps and trains."""
    if not (training and core.needs_backward):
        return 0
    keys = core.vertex_class.weights_floats(
        core, n, inputs or core.layer.n_inputs) * (
        1 + training.optimizer.n_states)
    return (keys - 1).bit_length() + (n_cores - 1).bit_length()


def _source_cycles(core, inputs):
    """The first layer's: the input source's fullest core's cycles per
    sample (a core per input block, 2-D)."""
    if not core.is_first:
        return 0.0
    return (inputs or core.layer.n_inputs) * fabric.SOURCE_CYCLES_PER_PACKET


def _block_cores(n_blocks):
    """The kinds of core of a split into ``n_blocks`` input blocks:
    (carried, partial) of the last block's and, before it, the first's
    and a middle one's."""
    kinds = [(n_blocks > 1, False)]
    if n_blocks > 1:
        kinds.append((False, True))
    if n_blocks > 2:
        kinds.append((True, True))
    return kinds


def _dtcm_bytes(core, n, training, streamed, inputs, kinds):
    """DTCM of the layer's fullest core, of its ``kinds``
    (_block_cores)."""
    return max(core.dtcm_bytes(training, n, streamed, inputs, carried,
                               partial)
               for carried, partial in kinds)


def _cycles(core, n, training, streamed, inputs, kinds):
    """Predicted cycles per sample of the layer's fullest core, of its
    ``kinds`` (_block_cores): its work, and, streamed, no less than its
    share of the chip's SDRAM takes to move its kernel (and, training,
    its gradients) and inputs."""
    layer = core.layer
    app = core.vertex_class.MACHINE_VERTEX.APP_NAME
    cycles = max(table.work_cycles(app, core.vertex_class.work(
        core, n, training, inputs, carried, partial))
        for carried, partial in kinds)
    if not streamed:
        return cycles
    training = training if core.needs_backward else None
    words = core.vertex_class.streamed_words(
        core, n, training, inputs or layer.n_inputs) if (
        core.vertex_class.CAN_STREAM) else 0
    if training:
        # The rows of Dense consumers, read in place for dL/da, their
        # gradients read and written; the update each batch.
        rows = _consumer_rows(core, n)
        words += rows * (3 + 2 * (2 + training.optimizer.n_states)
                         / training.batch_size)
    sharing = min(STREAMING_CORES_PER_CHIP, layer.units // n or 1)
    seconds = 4 * words * sharing / fabric.SDRAM_BYTES_PER_SECOND
    return max(cycles, seconds * table.clock_hz())


def _consumer_rows(core, n):
    """Words of a core of ``n``'s copies of its Dense consumers' rows."""
    return n * sum(next_units for kind, next_units
                   in core.gradients_received(n)
                   if kind == layouts.GRADIENT_SOURCES["dense_deltas"])


def _sdram_bytes(core, n, training, streamed, inputs=None):
    """A bound on a core's SDRAM: its weights (and state to resume from)
    and, streamed, its STREAM region; what a chip must hold for it."""
    inputs = inputs or core.layer.n_inputs
    training = training if core.needs_backward else None
    n_states = training.optimizer.n_states if training else 0
    words = core.vertex_class.weights_floats(core, n, inputs) * (
        1 + n_states)
    if streamed:
        words += core.vertex_class.stream_region_floats(
            core, n, training, inputs) if core.vertex_class.CAN_STREAM else 0
    if training:
        # The copies of Dense consumers' rows (streamed, with their
        # gradients and state: vertices' _rows_copies).
        rows = _consumer_rows(core, n)
        words += rows * ((2 + n_states) if streamed else 1 + n_states)
    return 4 * words


def _refusal(core, training, n, dtcm, sdram, streamed, inputs, kinds):
    """The error for a layer none of whose slicings fits: at its
    smallest (``n`` per core), what takes the space, and what would fit."""
    layer = core.layer
    refused = (streamed, inputs, kinds)
    what = "neurons" if layer.slice_granularity == 1 else "output elements"
    taken = core.core_inputs(n, training)
    fed = (f"{layer.n_inputs} inputs" if taken == layer.n_inputs else
           f"{taken} of its {layer.n_inputs} inputs")
    doing = " to train" if training and core.needs_backward else ""
    if sdram > CHIP_SDRAM_BYTES:
        limit = (f"needs {sdram} bytes of SDRAM per core; a SpiNNaker chip "
                 f"has {CHIP_SDRAM_BYTES}")
    else:
        limit = (f"needs {dtcm} bytes of DTCM per core{doing} ("
                 f"{_dtcm_parts(core, n, training, *refused)})"
                 f"; a SpiNNaker core has {layouts.DTCM_HEAP_BYTES} for data")
        doing = ""
    if not layer.plans_own_slice:
        advice = "Use fewer neurons_per_core or a smaller layer."
    else:
        advice = (f"Even {n} {what} per core (the least it can take) do not "
                  f"fit{_what_would_fit(core, n, training, *refused)}.")
    return SpiDNNConfigurationError(
        f"layer {layer.name} ({n} {what} per core, {fed}) "
        f"{limit}{doing}. {advice}")


def _without_state(training):
    """The same run with plain SGD: no optimizer state."""
    from spiDNN.optimizers import SGD
    return dataclasses.replace(training, optimizer=SGD())


def _dtcm_parts(core, n, training, streamed, inputs, kinds):
    """What takes a core's DTCM, in words: its kernel, its inputs,
    training's gradients and sums, the optimizer's state."""
    training = training if core.needs_backward else None
    predicting = _dtcm_bytes(core, n, None, streamed, inputs, kinds)
    kernel = 4 * core.vertex_class.kernel_floats(core, n, inputs, streamed)
    kept = 0 if streamed else 8 * (inputs or core.core_inputs(n, training))
    parts = [(kernel, "its kernel"), (kept, "its inputs, twice"),
             (predicting - kernel - kept, "its outputs")]
    if training:
        plain = _dtcm_bytes(core, n, _without_state(training), streamed,
                            inputs, kinds)
        everything = _dtcm_bytes(core, n, training, streamed, inputs, kinds)
        parts += [(plain - predicting, "training's gradients and sums"),
                  (everything - plain,
                   f"the {_optimizer_name(training)} optimizer's state")]
    return ", ".join(f"{size} {part}" for size, part in parts if size > 0)


def _what_would_fit(core, n, training, streamed, inputs, kinds):
    """The changes that would make the layer's smallest slice fit, as a
    clause of the refusal ("" if none is simple)."""
    kernel = 4 * core.vertex_class.kernel_floats(core, n, inputs, streamed)
    if not dtcm_fits(kernel):
        if core.vertex_class.CAN_STREAM:   # weights_in="dtcm" kept it
            return (f": its kernel alone is more than a core holds; give "
                    f"it weights_in='sdram' (or 'auto') to stream it from "
                    f"SDRAM")
        return (f": its kernel alone is more than a core holds; use fewer "
                f"filters or a smaller kernel")
    if not (training and core.needs_backward):
        return ""
    stream = (", or with weights_in='sdram' (its kernel, gradients and "
              "state streamed from SDRAM)" if core.vertex_class.CAN_STREAM
              and not streamed else "")
    if training.optimizer.n_states and dtcm_fits(_dtcm_bytes(
            core, n, _without_state(training), streamed, inputs, kinds)):
        return (f": it would fit with SGD instead of "
                f"{_optimizer_name(training)} (no optimizer state){stream}")
    return f": it would fit{stream[4:]}" if stream else ""


def _optimizer_name(training):
    return type(training.optimizer).__name__


def dtcm_fits(n_bytes):
    """Whether a core's data fits its DTCM (the stack kept back)."""
    return n_bytes <= layouts.DTCM_HEAP_BYTES


def _fewest_within(options, target):
    """The option with the fewest cores whose pace is within target (the
    fastest if none is)."""
    within = [o for o in options if o.pace <= target]
    if within:
        return min(within, key=lambda o: (o.n_cores, o.pace))
    return min(options, key=lambda o: (o.pace, o.n_cores))


def _floor(training):
    """The pace no layer's choice changes: training, each output's labels
    source and loss core (the input source's pace goes with the first
    layer's input blocks)."""
    parts = [(0.0, "nothing")]
    if training:
        from spiDNN.compiler.vertices.loss import LossVertex
        for output in training.outputs:
            parts.append((
                output.label_width * fabric.SOURCE_CYCLES_PER_PACKET,
                f"the labels source{_of_output(output)}"))
            parts.append((table.work_cycles("loss", LossVertex.work(output)),
                          f"the loss core{_of_output(output)}"))
    return max(parts)


def _cores(chosen):
    """The cores of the layers' chosen options, with any input source
    cores beyond the one the budget counts."""
    return sum(o.n_cores + o.extra_source_cores for o in chosen.values())


def _other_cores(training):
    """The input and control sources and the gatherer; training, each
    output's labels source and loss core too."""
    return 3 + (2 * len(training.outputs) if training else 0)


def _boards_of_fewest(options, training):
    """Boards the plan of fewest cores needs (at least one)."""
    return boards_for(sum(min(o.n_cores + o.extra_source_cores for o in layer)
                          for layer in options.values())
                      + _other_cores(training))


def _core_budget(n_boards, training):
    """Application cores the layers may take on ``n_boards``."""
    return placeable_cores(n_boards) - _other_cores(training)


def _relax(cores, options, target, budget, n_boards):
    """The smallest target above ``target`` whose fewest cores fit the
    budget (the cores fall as the target rises: a bisection); refuses a
    model that does not fit at any."""
    candidates = sorted({o.pace for core in cores for o in options[core]
                         if o.pace > target})

    def at(candidate):
        return {core: _fewest_within(options[core], candidate)
                for core in cores}
    lo, hi = 0, len(candidates)
    while lo < hi:
        mid = (lo + hi) // 2
        if _cores(at(candidates[mid])) <= budget:
            hi = mid
        else:
            lo = mid + 1
    if lo < len(candidates):
        chosen = at(candidates[lo])
        slowest = max(cores, key=lambda core: chosen[core].pace)
        return candidates[lo], _pacer(slowest, chosen[slowest]), chosen
    fewest = sum(min(o.n_cores for o in options[core]) for core in cores)
    raise SpiDNNConfigurationError(
        f"the layers need at least {fewest} cores (each slice within a "
        f"core's DTCM); the model's {n_boards} board(s) have {budget} "
        f"application cores for them. Give more n_boards.")


def _reason(core, options, option, target, slowest):
    layer = core.layer
    if core.shared_uses is not None and core is not core.shared_uses[0]:
        return f"sliced as {core.shared_uses[0].layer.name}, its first use"
    if not layer.plans_own_slice:
        return "neurons_per_core given"
    if layer.name == slowest:
        return "the bottleneck: its fastest slice within the limits"
    reason = "the fewest cores that keep up with the pace"
    # Options run from one core up: if the fewest that fit are more than
    # one, DTCM ruled out fewer.
    if option.n_cores == min(o.n_cores for o in options) > 1:
        reason += "; more per core would not fit DTCM"
    return reason
