"""A virtual SpiNNaker machine: Python's handle on the C event loop."""
import collections
import ctypes
import os
import shutil
import tempfile

import numpy

from spiDNN.errors import SpiDNNInternalError, SpiDNNMachineError
from spiDNN.abi import layouts
from spiDNN.vm import binding
from spiDNN.vm.binding import as_pointer


#: What vm_get_fault_counts reports, in its order (vm_faults.h).
FAULT_COUNTS = ("dropped_random", "dropped_targeted", "dropped_dead_link",
                "emergency_routed", "reinjected", "lost", "delayed",
                "stalls")

#: How a call to run_samples ended.
Passes = collections.namedtuple(
    "Passes", "out_keys out_payloads n_done rc message")

#: A core's status region (control.h), and whether it is stalled now.
CoreStatus = collections.namedtuple(
    "CoreStatus", "passes_done waiting last_control stalled")


class VirtualMachine:
    """Chips, routers and cores built from the toolchain's output.

    Close it (or use it as a context manager) to unload the cores' apps.
    """

    #: Keep each app core's (app name, SDRAM regions) in ``app_regions``
    #: (the calibration replays them on the ARM build).
    keep_regions = False

    def __init__(self, width, height):
        self._vm = None
        self._copies = None
        #: Called with no arguments as the machine closes, while its
        #: state can still be read (the calibration reads its traces).
        self.on_close = []
        self._lib = binding.library()
        self._vm = self._lib.vm_create(width, height,
                                       layouts.DTCM_HEAP_BYTES)
        if not self._vm:
            raise SpiDNNInternalError("cannot allocate the virtual machine")
        self._copies = tempfile.mkdtemp(prefix="spiDNN-cores-")
        self.core_labels = []       # per core index: the vertex label
        self.core_locations = []    # per core index: (x, y, p)
        self.chips = []             # (x, y) of every chip
        self.app_cores = []         # core indices that run an app
        self.app_regions = {}       # core index: (app, regions), if kept
        self.core_apps = {}         # core index: the app it runs
        self.source_cores = []      # core indices of packet sources

    def _check(self, result, what):
        if result < 0:
            raise SpiDNNMachineError(
                f"{what}: {self._lib.vm_error(self._vm).decode()}")
        return result

    def add_chip(self, x, y):
        self._check(self._lib.vm_add_chip(self._vm, x, y), "add chip")
        self.chips.append((x, y))

    def add_link(self, x, y, link, to_x, to_y):
        self._check(self._lib.vm_add_link(self._vm, x, y, link, to_x, to_y),
                    "add link")

    def set_routes(self, x, y, keys, masks, routes):
        arrays = [numpy.ascontiguousarray(a, dtype=numpy.uint32)
                  for a in (keys, masks, routes)]
        self._check(self._lib.vm_set_routes(
            self._vm, x, y, len(arrays[0]),
            *(as_pointer(a, ctypes.c_uint32) for a in arrays)),
            "routing table")

    def remove_routing_entry(self, x, y, index):
        """Deletes one router entry, as a fault would (for tests)."""
        self._check(self._lib.vm_remove_route(self._vm, x, y, index),
                    "remove route")

    def max_routing_entries(self):
        """Most entries in one chip's router."""
        return max((self._lib.vm_n_routes(self._vm, x, y)
                    for x, y in self.chips), default=0)

    def add_app_core(self, x, y, p, app_name, regions, label):
        """A core running ``app_name`` with SDRAM regions [(id, bytes)]."""
        original = binding.app_binary(app_name)
        copy = os.path.join(self._copies, f"{app_name}-{x}-{y}-{p}.so")
        shutil.copyfile(original, copy)
        ids = numpy.array([r for r, _ in regions], dtype=numpy.uint32)
        sizes = numpy.array([len(c) for _, c in regions], dtype=numpy.uint32)
        contents = b"".join(bytes(c) for _, c in regions)
        index = self._check(self._lib.vm_add_app_core(
            self._vm, x, y, p, copy.encode(), len(regions),
            as_pointer(ids, ctypes.c_uint32),
            as_pointer(sizes, ctypes.c_uint32), contents),
            f"load {label} on core ({x}, {y}, {p})")
        # The copy keeps its own globals and runs the original's code.
        self._lib.vm_share_code(self._vm, index, original.encode())
        self.app_cores.append(index)
        self.core_apps[index] = app_name
        if self.keep_regions:
            self.app_regions[index] = (app_name, list(regions))
        return self._record(index, label, (x, y, p))

    def add_edge_core(self, x, y, p, kind, label):
        index = self._check(
            self._lib.vm_add_edge_core(self._vm, x, y, p, kind),
            f"{label} on core ({x}, {y}, {p})")
        if kind == binding.CORE_SOURCE:
            self.source_cores.append(index)
        return self._record(index, label, (x, y, p))

    def _record(self, index, label, location):
        self.core_labels.append(label)
        self.core_locations.append(location)
        assert len(self.core_labels) == index + 1
        return index

    def start(self):
        """Runs every core's c_main; the private app copies can then go."""
        rc = self._lib.vm_start(self._vm)
        shutil.rmtree(self._copies, ignore_errors=True)
        if rc != binding.VM_OK:
            raise SpiDNNMachineError(self._lib.vm_error(self._vm).decode())

    def run_samples(self, src_cores, keys, payloads, n_expected, budget,
                    commit_after=None, control_core=-1, commit_key=0,
                    commit_args=()):
        """Streams samples through, one pass each, until all are done or
        one cannot finish.

        :param payloads: uint32 array (n_samples, len(keys))
        :param commit_after: bool per sample: a commit round after it
        :param commit_args: [(key, float32 per sample)]: packets sent
            before each commit (its scale, its learning rate)
        :return: :py:class:`Passes`: the gathered packets (uint32 arrays
            of shape (n_samples, n_expected), valid for the first
            ``n_done`` samples) and how the run ended
        """
        src = numpy.ascontiguousarray(src_cores, dtype=numpy.int32)
        keys = numpy.ascontiguousarray(keys, dtype=numpy.uint32)
        payloads = numpy.ascontiguousarray(payloads, dtype=numpy.uint32)
        n_samples = payloads.shape[0]
        out_keys = numpy.zeros((n_samples, n_expected), dtype=numpy.uint32)
        out_payloads = numpy.zeros_like(out_keys)
        commits = None
        if commit_after is not None:
            commits = numpy.ascontiguousarray(commit_after, dtype=numpy.uint8)
        arg_keys = numpy.array([k for k, _ in commit_args], dtype=numpy.uint32)
        args = numpy.ascontiguousarray(numpy.stack(
            [numpy.asarray(v, dtype=numpy.float32) for _, v in commit_args],
            axis=1) if commit_args else numpy.zeros((n_samples, 0)),
            dtype=numpy.float32).view(numpy.uint32)
        done = ctypes.c_uint32(0)
        rc = self._lib.vm_run_samples(
            self._vm, n_samples, len(keys), as_pointer(src, ctypes.c_int32),
            as_pointer(keys, ctypes.c_uint32),
            as_pointer(payloads, ctypes.c_uint32), n_expected,
            as_pointer(out_keys, ctypes.c_uint32),
            as_pointer(out_payloads, ctypes.c_uint32), budget,
            None if commits is None else as_pointer(commits, ctypes.c_uint8),
            len(arg_keys), as_pointer(arg_keys, ctypes.c_uint32),
            as_pointer(args, ctypes.c_uint32),
            control_core, commit_key, ctypes.byref(done))
        return Passes(out_keys, out_payloads, done.value, rc,
                      self._lib.vm_error(self._vm).decode() if rc else "")

    def control(self, control_core, key, budget, args=()):
        """One control round, after its ``args`` [(key, float)];
        (result code, message)."""
        keys = numpy.array([k for k, _ in args], dtype=numpy.uint32)
        values = numpy.array([v for _, v in args],
                             dtype=numpy.float32).view(numpy.uint32)
        rc = self._lib.vm_control(
            self._vm, control_core, key, budget, len(keys),
            as_pointer(keys, ctypes.c_uint32),
            as_pointer(values, ctypes.c_uint32))
        return rc, self._lib.vm_error(self._vm).decode() if rc else ""

    def inject(self, src_cores, keys, payloads, budget):
        """Packets from source cores as a board's host sends them, then
        the machine runs until quiet; (result code, message).  What
        reached the gatherers is in :py:meth:`outputs`."""
        src = numpy.ascontiguousarray(src_cores, dtype=numpy.int32)
        keys = numpy.ascontiguousarray(keys, dtype=numpy.uint32)
        payloads = numpy.ascontiguousarray(payloads, dtype=numpy.uint32)
        rc = self._lib.vm_inject(
            self._vm, len(keys), as_pointer(src, ctypes.c_int32),
            as_pointer(keys, ctypes.c_uint32),
            as_pointer(payloads, ctypes.c_uint32), budget)
        return rc, self._lib.vm_error(self._vm).decode() if rc else ""

    def outputs(self):
        """(keys, payloads) gathered since the last pass or round began."""
        n = self._lib.vm_get_outputs(self._vm, 0, None, None)
        keys = numpy.zeros(n, dtype=numpy.uint32)
        payloads = numpy.zeros(n, dtype=numpy.uint32)
        self._lib.vm_get_outputs(self._vm, n, as_pointer(keys, ctypes.c_uint32),
                                 as_pointer(payloads, ctypes.c_uint32))
        return keys, payloads

    def core_status(self, index):
        """A core's status region (control.h) and whether it stalls."""
        out = (ctypes.c_uint32 * 4)()
        self._lib.vm_get_core_status(self._vm, index, out)
        return CoreStatus(*out)

    # ------------------------------------------------------------ faults
    def set_faults(self, seed, drop_rate, delay_rate, max_delay,
                   reinjection):
        self._lib.vm_set_faults(self._vm, seed, drop_rate, delay_rate,
                                max_delay, int(reinjection))

    def add_drop_rule(self, key, mask, group, nth):
        self._check(self._lib.vm_add_drop_rule(
            self._vm, key, mask, group, nth), "drop rule")

    def set_link_down(self, x, y, link):
        if (x, y) not in self.chips:
            raise SpiDNNMachineError(f"no chip ({x}, {y}) to take link "
                                     f"{link} of down")
        self._check(self._lib.vm_set_link_down(
            self._vm, self.chips.index((x, y)), link), "link down")

    def set_stall(self, index, at_packet, duration):
        self._check(self._lib.vm_set_stall(
            self._vm, index, at_packet, duration), "stall")

    def fault_counts(self):
        out = (ctypes.c_uint64 * len(FAULT_COUNTS))()
        self._lib.vm_get_fault_counts(self._vm, out)
        return dict(zip(FAULT_COUNTS, out))

    def count_partitions(self, index, keys_and_masks):
        """Counts what core ``index`` sends on each (key, mask) given."""
        keys = numpy.array([k for k, _ in keys_and_masks], dtype=numpy.uint32)
        masks = numpy.array([m for _, m in keys_and_masks],
                            dtype=numpy.uint32)
        self._check(self._lib.vm_set_core_partitions(
            self._vm, index, len(keys), as_pointer(keys, ctypes.c_uint32),
            as_pointer(masks, ctypes.c_uint32)), "count partitions")

    def partition_counts(self, index, n_partitions):
        """Packets core ``index`` sent on each counted partition."""
        out = (ctypes.c_uint64 * max(1, n_partitions))()
        self._lib.vm_get_partition_counts(self._vm, index, out)
        return list(out)[:n_partitions]

    # ------------------------------------------------------------- clock
    def set_clock(self, hop_ps, link_ps, link_payload_ps, source_ps,
                  dma_byte_ps, dma_setup_ps):
        """Turns the virtual clock on with the fabric's and the DMA's
        timing (ps)."""
        self._lib.vm_set_clock(self._vm, hop_ps, link_ps, link_payload_ps,
                               source_ps, dma_byte_ps, dma_setup_ps)

    def pause_clock(self, paused=True):
        """Runs the next events untimed (the machine must be quiet); the
        clock keeps what it measured."""
        self._lib.vm_pause_clock(self._vm, int(paused))

    def set_core_costs(self, index, base_ps, slope_ps):
        """A core's cost lines (vm_api.h), picoseconds."""
        base = numpy.ascontiguousarray(base_ps, dtype=numpy.uint64)
        slope = numpy.ascontiguousarray(slope_ps, dtype=numpy.uint64)
        self._check(self._lib.vm_set_core_costs(
            self._vm, index, len(base), as_pointer(base, ctypes.c_uint64),
            as_pointer(slope, ctypes.c_uint64)), "cost lines")

    def time_passes(self, n):
        """Has the clock time only the next ``n`` passes (0: all), in
        training to the end of a batch, then stop (vm_api.h)."""
        self._lib.vm_time_passes(self._vm, n)

    def clock(self):
        """The clock's totals: on (set up), last_ps and control_ps
        (picoseconds), router_visits, link_crossings, passes and commits
        (timed), passes_run and commits_run (all)."""
        out = (ctypes.c_uint64 * 9)()
        self._lib.vm_get_clock(self._vm, out)
        return dict(zip(("on", "last_ps", "control_ps", "router_visits",
                         "link_crossings", "passes", "commits", "passes_run",
                         "commits_run"), out))

    def keep_timeline(self, capacity):
        """Keeps the next ``capacity`` callbacks' (core, kind, start, end)."""
        self._lib.vm_clock_log(self._vm, capacity)

    def timeline(self):
        """The callbacks kept: uint64 array (n, 4) of core, kind (as
        vm_event.h's VM_EV_*), start and end in picoseconds."""
        n = self._lib.vm_get_clock_log(self._vm, 0, None)
        out = numpy.zeros((n, 4), dtype=numpy.uint64)
        self._lib.vm_get_clock_log(self._vm, n,
                                   as_pointer(out, ctypes.c_uint64))
        return out

    def core_clock(self, index):
        """(busy, of which in packet callbacks, of which in control
        rounds) picoseconds of a core."""
        out = (ctypes.c_uint64 * 3)()
        self._lib.vm_get_core_clock(self._vm, index, out)
        return tuple(out)

    def link_clock(self, chip):
        """Per link of ``self.chips[chip]``: (busy picoseconds, packets)."""
        out = (ctypes.c_uint64 * 12)()
        self._lib.vm_get_link_clock(self._vm, chip, out)
        return [(out[link], out[6 + link]) for link in range(6)]

    def trace_core(self, index, capacity):
        """Records the next ``capacity`` packets delivered to a core."""
        self._check(self._lib.vm_trace_core(self._vm, index, capacity),
                    "trace")

    def trace(self, index):
        """(keys, payloads, has_payload) delivered to a traced core."""
        n = self._lib.vm_get_trace(self._vm, index, 0, None, None, None)
        out = [numpy.zeros(n, dtype=numpy.uint32) for _ in range(3)]
        self._lib.vm_get_trace(self._vm, index, n,
                               *(as_pointer(a, ctypes.c_uint32) for a in out))
        return tuple(out)

    def core_stats(self, index):
        out = (ctypes.c_uint64 * 5)()
        self._lib.vm_get_core_stats(self._vm, index, out)
        return dict(zip(("sent", "received", "dtcm_used", "errored",
                         "error_code"), out))

    def stats(self):
        values = [ctypes.c_uint64(0) for _ in range(5)]
        self._lib.vm_get_stats(self._vm, *(ctypes.byref(v) for v in values))
        return dict(zip(("sent", "delivered", "dropped", "events",
                         "gathered"), (v.value for v in values)))

    def close(self):
        if self._vm:
            observers, self.on_close = self.on_close, []
            for observer in observers:
                observer()
            self._lib.vm_destroy(self._vm)
            self._vm = None
        if self._copies:
            shutil.rmtree(self._copies, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
        return False

    def __del__(self):
        self.close()
