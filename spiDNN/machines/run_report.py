"""What one run on the machine used and did: ``model.last_run``."""
import dataclasses


@dataclasses.dataclass
class RunReport:
    """Figures of the last ``predict`` or ``fit`` on the machine."""
    backend: str                 # "virtual" or "board"
    samples: int                 # passes run (samples x epochs for fit)
    cores: int                   # application cores (layers' slices)
    chips: int                   # chips with at least one used core
    packets_sent: int
    packets_delivered: int
    packets_dropped: int
    max_routing_entries: int     # most entries in one chip's router
    mapping_seconds: float       # the toolchain's mapping and data gen
    machine_seconds: float       # time streaming samples through
    events: int = 0              # callbacks the virtual machine ran
    #: Packets sent per sample, by "vertex label/partition" (the trained
    #: weights' one-off download is in ``weight_packets`` instead).
    packets_per_sample: dict = dataclasses.field(default_factory=dict)
    #: Packets each layer's (or loss') cores received per sample, by
    #: vertex label: multicast's deliveries, each a callback on a core
    #: (virtual machine only).
    deliveries_per_sample: dict = dataclasses.field(default_factory=dict)
    #: One packet per input, label, neuron and direction, one loss value.
    packets_per_sample_lower_bound: int = 0
    #: Packets sent once per batch, by "vertex label/partition": each conv
    #: layer's kernel gradient sums (also spread over packets_per_sample)
    #: and the host's control commands (a commit per batch, one request
    #: for the weights, and any recovery's).
    packets_per_batch: dict = dataclasses.field(default_factory=dict)
    weight_packets: int = 0      # trained weights sent to the host
    peak_dtcm_bytes: int = 0     # most DTCM one core allocated
    #: What injected faults did (drops, reinjections, losses, delays,
    #: stalls) and what recovery did (replays, passes replayed, repeated
    #: control rounds): spiDNN.Faults.
    faults: dict = dataclasses.field(default_factory=dict)
    #: Through live I/O: what crossed the host link, by kind ("input",
    #: "labels", "control" out; "output", "loss", "weight" back): events
    #: the host sent and received, the edge's messages carried and
    #: dropped (virtual machine only), and the host's resends.
    host_link: dict = dataclasses.field(default_factory=dict)
    # The virtual clock's prediction for a SpiNNaker board
    # (spiDNN/vm/timing.py); None without the clock (with faults, or on a
    # board).
    #: Seconds the run would take, samples streamed as a board takes them.
    predicted_seconds: float = None
    predicted_samples_per_second: float = None
    #: One pass through the machine, alone.
    predicted_latency_seconds: float = None
    predicted_joules: float = None
    predicted_joules_per_sample: float = None
    #: Joules by component of the power model.
    predicted_energy: dict = None
    #: What bounds the pace: "compute-bound core: ...", "packet-bound
    #: core: ...", "link: ..." or "source: ...".
    bottleneck: str = None
    bottleneck_seconds_per_sample: float = None
    #: The busiest core and link, and their busy fractions of the run.
    busiest_core: str = None
    busiest_core_fraction: float = None
    busiest_link: str = None
    busiest_link_fraction: float = None
    #: Busy seconds of each layer's cores, summed.
    layer_busy_seconds: dict = None
    #: The passes the clock timed (the first ones, clock.TIMED_PASSES; in
    #: training whole batches), which stand for the rest: the work of a
    #: pass, and of a batch, does not depend on the data.
    timed_passes: int = None

    @property
    def samples_per_second(self):
        return self.samples / self.machine_seconds if (
            self.machine_seconds) else float("inf")

    @property
    def packets_per_sample_total(self):
        return sum(self.packets_per_sample.values())
