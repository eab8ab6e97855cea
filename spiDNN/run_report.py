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

    @property
    def samples_per_second(self):
        return self.samples / self.machine_seconds if (
            self.machine_seconds) else float("inf")

    @property
    def packets_per_sample_total(self):
        return sum(self.packets_per_sample.values())
