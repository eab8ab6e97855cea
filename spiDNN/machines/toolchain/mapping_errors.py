"""The toolchain's mapping failures that a model causes, as spiDNN errors
naming what in the model causes them and what to change (the toolchain's
own say only which of its allocators or placers gave up, and point at a
report in a folder spiDNN deletes)."""
from pacman.data import PacmanDataView
from pacman.exceptions import (
    PacmanPlaceException, PacmanRouteInfoAllocationException)

from spiDNN.errors import SpiDNNConfigurationError


def explained(error):
    """A SpiDNNConfigurationError for ``error``, or None to let it be."""
    if isinstance(error, PacmanRouteInfoAllocationException):
        label, partition, keys, cores = _largest_key_space()
        return SpiDNNConfigurationError(
            f"the model's multicast keys do not fit SpiNNaker's 32-bit "
            f"keys: {label}'s {partition} partition alone takes {keys:,} "
            f"keys on each of its {cores} core(s) (a trained weight comes "
            f"back to the host with a key of its own), and the toolchain "
            f"numbers every partition's cores within one range of keys; "
            f"use layers with fewer weights per core ({error})")
    if isinstance(error, PacmanPlaceException):
        return SpiDNNConfigurationError(
            f"the toolchain could not place the model's cores on the "
            f"machine: its chips' cores or SDRAM ran out; give the model "
            f"more boards (spiDNN.Model(..., n_boards=N)) or fewer cores "
            f"(larger neurons_per_core) ({str(error).split('Report')[0]})")
    return None


def _largest_key_space():
    """(vertex label, partition, keys per core, cores) of the outgoing
    partition whose cores each take the most keys."""
    best = ("?", "?", 0, 0)
    for partition in PacmanDataView.iterate_partitions():
        vertex = partition.pre_vertex
        cores = list(vertex.machine_vertices)
        keys = max((core.get_n_keys_for_partition(partition.identifier)
                    for core in cores), default=0)
        if keys > best[2]:
            best = (vertex.label, partition.identifier, keys, len(cores))
    return best
