"""Measures the cost table: ``python -m spiDNN.calibration.measure``.

Builds the apps for the ARM968 with the cost marks on (``make -C c_code
arm-trace``), runs each model of the grid (grid.py) on the virtual
machine while capturing every core's deliveries (capture.py), replays
the first and last core of every layer (the loss core included) on the
ARM build in the emulator, checks that each sent what its host build
sent (replay.py), fits the table (fit.py) and writes it to
spiDNN/vm/arm_costs.json.  Needs unicorn, pyelftools and Debian's
gcc-arm-none-eabi.
"""
import collections
import json
import os
import subprocess
import sys
import time

from spiDNN.calibration import cycle_model, fit, grid
from spiDNN.calibration.arm_core import ArmImage
from spiDNN.calibration.capture import Capture
from spiDNN.calibration.replay import check_sends, replay
from spiDNN.calibration.sources import ROOT, sources_digest

TABLE = os.path.join(ROOT, "spiDNN", "vm", "arm_costs.json")
ARM_TRACE = os.path.join(ROOT, "c_code", "build", "arm-trace")
APPS = ("dense", "conv", "pool", "loss")
#: SpiNNaker's ARM968 clock (the VM's virtual clock runs at this rate).
CLOCK_HZ = 200e6


def build_images():
    """The apps' calibration builds, made if stale: {app: ArmImage}."""
    subprocess.run(["make", "-s", "-C", os.path.join(ROOT, "c_code"),
                    "arm-trace", f"PYTHON={sys.executable}"], check=True)
    return {app: ArmImage(os.path.join(ARM_TRACE, f"{app}.elf"))
            for app in APPS}


def compiler():
    return subprocess.run(["arm-none-eabi-gcc", "--version"],
                          capture_output=True, text=True,
                          check=True).stdout.splitlines()[0]


def chosen_cores(run):
    """The first and last app core of each layer."""
    by_layer = collections.defaultdict(list)
    for index, core in sorted(run.app_cores().items()):
        by_layer[core.layer].append(index)
    return sorted({i for indices in by_layer.values()
                   for i in (indices[0], indices[-1])})


class Measurement:
    """Replays and checks captured runs; collects every callback, with
    the optimizer of the model it came from."""

    def __init__(self, images):
        self.images = images
        self.callbacks = collections.defaultdict(list)   # app: [(opt, cb)]
        self.cores = collections.Counter()
        self.stack = collections.Counter()
        self.heap = collections.Counter()
        self.c_main = collections.Counter()
        self.problems = []
        self.compared = self.counted = 0

    def add_run(self, run, optimizer):
        for index in chosen_cores(run):
            core = run.cores[index]
            if not run.complete(index):
                self.problems.append(f"{core.label}: trace full, not replayed")
                continue
            replayed = replay(self.images[core.app], core)
            problems, compared, counted = check_sends(run, index, replayed)
            self.problems += problems
            self.compared += compared
            self.counted += counted
            app = core.app
            self.callbacks[app] += [(optimizer, c) for c in replayed.callbacks]
            self.cores[app] += 1
            self.stack[app] = max(self.stack[app], replayed.stack_bytes)
            self.heap[app] = max(self.heap[app], replayed.heap_bytes)
            self.c_main[app] = max(self.c_main[app], replayed.main.cycles)

    def add_cases(self, cases, log):
        for name, case in cases.items():
            start = time.perf_counter()
            with Capture() as capture:
                case.run()
            for run in capture.runs:
                self.add_run(run, case.optimizer)
            log(f"{name}: {len(capture.runs)} machines, "
                f"{time.perf_counter() - start:.1f} s")

    def app_table(self, app):
        tagged = self.callbacks[app]
        callbacks = [c for _, c in tagged]
        entry = fit.fit_entries(callbacks)
        points = fit.fit_points(callbacks)
        return {
            "entry": entry, "points": points,
            "update_variants": _update_variants(tagged),
            "validation": {"fitted_models": fit.validate(
                entry, points, callbacks)},
            "cores_replayed": self.cores[app],
            **self.images[app].sizes(),
            "stack_bytes_max": self.stack[app],
            "heap_bytes_max": self.heap[app],
            "c_main_cycles_max": self.c_main[app],
        }

    def check(self):
        return {
            "what": "each replayed core's ARM sends, per outgoing "
                    "partition, equal bit for bit (key, payload, payload "
                    "flag, order) the packets the host build's cores "
                    "received on that partition; on a partition routed "
                    "nowhere, the VM's count of the host build's sends",
            "packets_compared": self.compared,
            "packets_counted": self.counted,
            "mismatches": self.problems,
        }


def _update_variants(tagged):
    """The update points fitted per optimizer of the grid (SGD with and
    without momentum share update_sgd): how far apart they are."""
    variants = collections.defaultdict(dict)
    for optimizer in sorted({o for o, _ in tagged}):
        points = fit.fit_points([c for o, c in tagged if o == optimizer])
        for name, line in points.items():
            if name.startswith("update_"):
                variants[name][optimizer] = {
                    k: line[k] for k in ("base_cycles", "slope_cycles",
                                         "samples", "sizes")}
    return dict(variants)


def measure(log=print):
    """The cost table from the grid's models."""
    digest = sources_digest()
    images = build_images()
    fitted = Measurement(images)
    fitted.add_cases(grid.FIT, log)
    held_out = Measurement(images)
    held_out.add_cases(grid.HELD_OUT, log)
    if sources_digest() != digest:
        raise RuntimeError("the sources changed during the measurement")
    apps = {}
    for app in APPS:
        if not fitted.callbacks[app]:
            continue
        apps[app] = fitted.app_table(app)
        others = [c for _, c in held_out.callbacks[app]]
        if others:
            apps[app]["validation"]["held_out_models"] = fit.validate(
                apps[app]["entry"], apps[app]["points"], others)
    check = fitted.check()
    held_out_check = held_out.check()
    for key in ("packets_compared", "packets_counted", "mismatches"):
        check[key] += held_out_check[key]
    return {
        "clock_hz": CLOCK_HZ,
        "sources_sha256": digest,
        "cycle_model": cycle_model.DESCRIPTION,
        "compiler": compiler(),
        "models": {"fitted": sorted(grid.FIT),
                   "held_out": sorted(grid.HELD_OUT)},
        "check": check,
        "apps": apps,
    }


def summary(table):
    lines = []
    for app, costs in table["apps"].items():
        entry = costs["entry"]
        lines.append(
            f"{app}: entry packet {entry['packet']['base_cycles']:.0f} / "
            f"task {entry['task']['base_cycles']:.0f} cycles; ITCM "
            f"{costs['itcm_bytes']} B, static DTCM "
            f"{costs['dtcm_static_bytes']} B, stack "
            f"{costs['stack_bytes_max']} B")
        for which, v in costs["validation"].items():
            lines.append(
                f"  {which}: {v['callbacks']} callbacks, error max "
                f"{v['max_relative_error']:.1%} mean "
                f"{v['mean_relative_error']:.1%}; of >= 1000 cycles max "
                f"{v['max_relative_error_large']:.1%} mean "
                f"{v['mean_relative_error_large']:.1%}; total "
                f"{v['total_relative_error']:.2%}")
        for name, line in costs["points"].items():
            lines.append(
                f"    {name:28s} {line['base_cycles']:9.1f} + "
                f"{line['slope_cycles']:8.2f} * size cycles  "
                f"({line['base_instructions']:.0f} + "
                f"{line['slope_instructions']:.2f} * size instructions; "
                f"{line['samples']} samples, sizes {line['sizes']})")
    check = table["check"]
    lines.append(f"ARM vs host: {check['packets_compared']} packets "
                 f"compared, {check['packets_counted']} counted, "
                 f"{len(check['mismatches'])} mismatches")
    lines += [f"    {m}" for m in check["mismatches"][:20]]
    return "\n".join(lines)


def main():
    start = time.perf_counter()
    table = measure()
    with open(TABLE, "w") as f:
        json.dump(table, f, indent=1, sort_keys=True)
        f.write("\n")
    print(summary(table))
    print(f"wrote {TABLE} in {time.perf_counter() - start:.0f} s")
    return 1 if table["check"]["mismatches"] else 0


if __name__ == "__main__":
    sys.exit(main())
