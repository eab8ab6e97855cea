"""What one run on the machine used and did: ``model.last_run``."""
import dataclasses


@dataclasses.dataclass
class RunReport:
    """Figures of the last ``predict`` (or ``fit``) on the machine."""
    backend: str                 # "virtual" or "board"
    samples: int
    cores: int                   # application cores (layers' slices)
    chips: int                   # chips with at least one used core
    packets_sent: int
    packets_delivered: int
    packets_dropped: int
    max_routing_entries: int     # most entries in one chip's router
    mapping_seconds: float       # the toolchain's mapping and data gen
    machine_seconds: float       # time streaming samples through
    events: int = 0              # callbacks the virtual machine ran

    @property
    def samples_per_second(self):
        return self.samples / self.machine_seconds if (
            self.machine_seconds) else float("inf")
