"""The callbacks of the grid's models, measured on the ARM build: each
case captured on the VM, the first and last core of each of its layers
replayed in the emulator and its sends checked against the host
build's."""
import collections
import re
import time

from spiDNN.abi import layouts
from spiDNN.abi import optimizers as abi_optimizers
from tools.calibration.capture import Capture
from tools.calibration.replay import check_sends, replay

#: One replayed core: the optimizer of its model and its layer's kind
#: (the layer's label without its number), and its callbacks.
CoreResult = collections.namedtuple("CoreResult",
                                    "optimizer layer_kind callbacks")


def chosen_cores(run):
    """The first and last app core of each layer."""
    by_layer = collections.defaultdict(list)
    for index, core in sorted(run.app_cores().items()):
        by_layer[core.layer].append(index)
    return sorted({i for indices in by_layer.values()
                   for i in (indices[0], indices[-1])})


def layer_kind(label):
    """"max_pooling2d_3" -> "max_pooling2d"."""
    return re.sub(r"_\d+$", "", label or "")


#: The optimizers' update points (update_<variant>), by id.
UPDATE_POINTS = {layouts.COST_POINTS[name]: name
                 for name in abi_optimizers.cost_points()}


def _variant_problems(label, variant, callbacks):
    """A core reaching an update point other than its case's variant's:
    the cores and spiDNN/optimizers/ disagree on the variant."""
    reached = {UPDATE_POINTS[point] for callback in callbacks
               for point, _, _, _ in callback.segments()
               if point in UPDATE_POINTS}
    return [f"{label}: reached {sorted(reached)}, its case's optimizer "
            f"is update_{variant}"] if reached - {f"update_{variant}"} else []


class Measurement:
    """Replays and checks captured runs, collecting every core's
    callbacks by app."""

    def __init__(self, images):
        self.images = images
        self.cores = collections.defaultdict(list)    # app: [CoreResult]
        self.stack = collections.Counter()
        self.heap = collections.Counter()
        self.c_main = collections.Counter()
        self.problems = []
        self.logs = []
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
            self.logs += [f"{core.label}: {fmt} {args}"
                          for _, fmt, args in replayed.logs]
            self.compared += compared
            self.counted += counted
            self.problems += _variant_problems(core.label, optimizer,
                                               replayed.callbacks)
            app = core.app
            self.cores[app].append(CoreResult(
                optimizer, layer_kind(core.layer), replayed.callbacks))
            self.stack[app] = max(self.stack[app], replayed.stack_bytes)
            self.heap[app] = max(self.heap[app], replayed.heap_bytes)
            self.c_main[app] = max(self.c_main[app], replayed.main.cycles)

    def add_cases(self, cases, log=print):
        """Runs each grid case (name: grid.Case) under a capture."""
        for name, case in cases.items():
            start = time.perf_counter()
            with Capture() as capture:
                case.run()
            for run in capture.runs:
                self.add_run(run, case.optimizer)
            log(f"{name}: {len(capture.runs)} machines, "
                f"{time.perf_counter() - start:.1f} s")

    def callbacks(self, app, keep=lambda core: True):
        return [callback for core in self.cores[app] if keep(core)
                for callback in core.callbacks]

    def check(self):
        return {"packets_compared": self.compared,
                "packets_counted": self.counted,
                "mismatches": list(self.problems),
                "logged": list(self.logs)}
