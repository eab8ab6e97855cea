"""The energy a Python callable (Keras, say) uses on this machine's CPU.

``measure(fn, *args)`` reads the CPU package energy counters (RAPL, under
/sys/class/powercap) around the call when the kernel exposes them and lets
this user read them.  Where it does not (virtual machines, and non-root
users since Linux 5.10), it estimates: the process's CPU time times a
typical server core's power.  The reading says which it did, and how.

``gpu_power_sampler()`` integrates what ``nvidia-smi`` reports of the GPUs'
power draw over a ``with`` block, where there is an NVIDIA GPU.
"""
import os
import re
import resource
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass

#: Where Linux exposes RAPL; a module attribute so tests can point it at a
#: fake tree.
POWERCAP = "/sys/class/powercap"

#: Package zones only (intel-rapl:0, intel-rapl:1, ...; Linux names AMD's
#: zones the same way): their sub-zones (intel-rapl:0:0, cores or DRAM) and
#: intel-rapl-mmio (the package again) are already counted in them.
_PACKAGE_ZONE = re.compile(r"intel-rapl:\d+")

#: Watts drawn by one busy core, for the estimate: an AMD EPYC 7763 (Zen 3
#: "Milan", 64 cores, a typical cloud EPYC part) at its maximum configurable
#: TDP of 280 W, AMD's figure in its EPYC 7003 launch line-up (as tabulated
#: by TechGage, "AMD EPYC Milan launch", March 2021): 280 / 64 = 4.375 W.
#: TDP covers the whole package (I/O die and caches too) at full load, so
#: this is a loaded-core figure; where a vCPU is one SMT thread of a core
#: (most clouds) a CPU-second costs nearer half of it (280 / 128 = 2.19 W).
WATTS_PER_BUSY_CORE = 280.0 / 64


@dataclass
class EnergyReading:
    """What a call cost: joules over seconds (wall clock), measured by
    ``method`` ("rapl" or "estimate"), explained in ``how``."""
    joules: float
    seconds: float
    method: str
    how: str


def measure(fn, *args, **kwargs):
    """Call ``fn(*args, **kwargs)``; return its result and an EnergyReading."""
    zones = _rapl_zones()
    if zones:
        before = [_read_uj(zone) for zone in zones]
    cpu_before = _cpu_seconds()
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    seconds = time.perf_counter() - start
    cpu = _cpu_seconds() - cpu_before
    if zones:
        joules = sum(_delta_uj(zone, uj) for zone, uj in zip(zones, before))
        joules /= 1e6
        names = ", ".join(os.path.basename(zone) for zone in zones)
        how = (f"measured: RAPL package energy counters ({names}) read "
               f"before and after the call; the whole package's energy, "
               f"other processes included")
        return result, EnergyReading(joules, seconds, "rapl", how)
    joules = cpu * WATTS_PER_BUSY_CORE
    how = (f"estimate (no readable RAPL counters under {POWERCAP}): "
           f"{cpu:.3f} s of process CPU time (user + system, all threads, "
           f"and waited-for child processes) x {WATTS_PER_BUSY_CORE:.3f} W "
           f"a busy core (AMD EPYC 7763: 280 W TDP / 64 cores); idle, memory "
           f"and the rest of the machine not counted")
    return result, EnergyReading(joules, seconds, "estimate", how)


def _rapl_zones():
    """The package zones whose counter this user can read, or []."""
    try:
        names = sorted(os.listdir(POWERCAP))
    except OSError:
        return []
    zones = [os.path.join(POWERCAP, name) for name in names
             if _PACKAGE_ZONE.fullmatch(name)]
    try:
        for zone in zones:
            _read_uj(zone)
            _read_uj(zone, "max_energy_range_uj")
    except (OSError, ValueError):
        return []
    return zones


def _read_uj(zone, counter="energy_uj"):
    with open(os.path.join(zone, counter)) as f:
        return int(f.read())


def _delta_uj(zone, before):
    """Microjoules since ``before``; a counter that went down wrapped once
    at max_energy_range_uj (a call longer than a whole wrap, minutes to
    hours at full load, is undercounted)."""
    delta = _read_uj(zone) - before
    if delta < 0:
        delta += _read_uj(zone, "max_energy_range_uj")
    return delta


def _cpu_seconds():
    # process_time: every thread of this process (TensorFlow's included),
    # nanosecond resolution; RUSAGE_CHILDREN: child processes once reaped.
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


class GPUPowerUnavailable(RuntimeError):
    """nvidia-smi is not installed, or reports no power draw."""


class GPUPowerSampler:
    """``with`` block: samples the summed power draw of all GPUs every
    ``interval`` seconds and integrates it (trapezoids) into ``joules``
    over ``seconds``."""

    def __init__(self, interval=0.1):
        self.interval = interval
        self.joules = 0.0
        self.seconds = 0.0
        self._samples = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._error = None

    def __enter__(self):
        if shutil.which("nvidia-smi") is None:
            raise GPUPowerUnavailable(
                "nvidia-smi is not on PATH: no NVIDIA GPU power to sample")
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        if self._error is not None:
            raise self._error
        self._sample()
        (t0, _), (t1, _) = self._samples[0], self._samples[-1]
        self.seconds = t1 - t0
        self.joules = sum((ta - tb) * (wa + wb) / 2 for (tb, wb), (ta, wa)
                          in zip(self._samples, self._samples[1:]))
        return False

    def _run(self):
        while not self._stop.wait(self.interval):
            try:
                self._sample()
            except GPUPowerUnavailable as error:
                self._error = error
                return

    def _sample(self):
        try:
            out = subprocess.run(
                ["nvidia-smi", "--query-gpu=power.draw",
                 "--format=csv,noheader,nounits"],
                capture_output=True, text=True, check=True).stdout
            watts = [float(line) for line in out.split()]
        except (OSError, subprocess.CalledProcessError, ValueError) as error:
            raise GPUPowerUnavailable(
                f"nvidia-smi reports no power draw: {error}") from error
        if not watts:
            raise GPUPowerUnavailable("nvidia-smi lists no GPU")
        self._samples.append((time.perf_counter(), sum(watts)))


def gpu_power_sampler(interval=0.1):
    """``with gpu_power_sampler() as gpu: ...``, then ``gpu.joules``.
    Raises GPUPowerUnavailable on entry when nvidia-smi is absent."""
    return GPUPowerSampler(interval)
