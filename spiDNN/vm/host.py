"""The host's side of a run on the virtual machine, as it would be on a
board: stream passes, commit each batch, and when a pass cannot finish,
abort it and replay from the last commit (``c_code/common/control.h``).

Nothing a replay repeats is counted twice: every core takes back the state
of the last commit on the abort (gradients, batch counter, dropout pass
number), its weights only move on a commit, and the outputs of a replayed
pass replace those of the failed attempt.
"""
from spiDNN.errors import SpiDNNMachineError
from spiDNN.faults import NO_FAULTS
from spiDNN.abi import layouts
from spiDNN.vm import binding

#: What a core's status says it waits for, by number (layouts.WAITING).
_WAITING = {number: name.replace("_", " ")
            for name, number in layouts.WAITING.items()}
#: Cores named in an error, at most.
_MAX_NAMED = 20


class Host:
    """Runs passes and control rounds on ``vm``; counts its recoveries.

    :param core_of: {machine vertex: VM core index}
    :param faults: the run's :py:class:`~spiDNN.Faults` (its replay
        switches), or None
    """

    def __init__(self, vm, graph, core_of, faults=None):
        faults = faults or NO_FAULTS
        self.vm = vm
        self.replay = faults.replay
        self.max_replays = faults.max_replays
        self.control_core = core_of[
            next(iter(graph.host_control_vertex.machine_vertices))]
        self.control_keys = {command: graph.control_key(command)
                             for command in layouts.CONTROLS}
        self.core_names = {
            core: _core_name(vertex) for vertex, core in core_of.items()
            if core in vm.app_cores}
        #: The layer (or loss) each app core belongs to.
        self.core_layers = {
            core: vertex.app_vertex.label for vertex, core in core_of.items()
            if core in vm.app_cores}
        #: Batches (or passes, predicting) replayed, passes run again, and
        #: control rounds that had to be repeated.
        self.replays = 0
        self.passes_replayed = 0
        self.control_retries = 0

    def run(self, sources, keys, payloads, n_expected, budget,
            commit_after=None, commit_args=(), first_pass=0):
        """Every pass's gathered (keys, payloads), each (n, n_expected).

        :param commit_after: bool per pass, the last of each batch: a
            commit follows it; None (predicting): each pass stands alone
        :param commit_args: [(command, float32 per pass)]: what each
            commit needs first (``learning_rate``, ``step_value_<k>``:
            the optimizer's step, TrainingRun.step_commands)
        :param first_pass: the number of the first pass, for errors
        """
        n = len(payloads)
        out = None
        start, failed_from, attempts = 0, None, 0
        while start < n:
            passes = self.vm.run_samples(
                sources, keys, payloads[start:], n_expected, budget,
                None if commit_after is None else commit_after[start:],
                self.control_core, self.control_keys["commit"],
                [(self.control_keys[command], values[start:])
                 for command, values in commit_args])
            if out is None:
                out = (passes.out_keys, passes.out_payloads)
            done = start + passes.n_done
            out[0][start:done] = passes.out_keys[:passes.n_done]
            out[1][start:done] = passes.out_payloads[:passes.n_done]
            if passes.rc == binding.VM_OK:
                break
            if passes.rc == binding.VM_CONTROL_FAILED:
                # Every core finished the batch; some missed its commit.
                self.control("commit", budget, first_pass + done,
                             [(command, values[done - 1])
                              for command, values in commit_args])
                start = done
                continue
            restart = _last_commit(commit_after, start, done)
            attempts = attempts + 1 if restart == failed_from else 1
            failed_from = restart
            if (not self.replay or attempts > self.max_replays
                    or passes.rc in (binding.VM_CORE_ERROR,
                                     binding.VM_BAD_CALL)):
                raise self.error(first_pass + done, passes.message,
                                 attempts - 1)
            self.replays += 1
            self.passes_replayed += done - restart + 1
            self.control("abort", budget, first_pass + done)
            self.control("resume", budget, first_pass + done)
            start = restart
        return out

    def control(self, command, budget, at_pass, args=()):
        """A control round every app core must carry out (after its
        ``args``: [(command, value)]), repeated until it is (a control
        packet may be lost too)."""
        args = [(self.control_keys[name], value) for name, value in args]
        for attempt in range(self.max_replays + 1):
            rc, message = self.vm.control(
                self.control_core, self.control_keys[command], budget, args)
            if rc == binding.VM_OK:
                return
            if rc in (binding.VM_CORE_ERROR, binding.VM_BAD_CALL):
                break
            self.control_retries += 1
        raise self.error(at_pass, f"{command}: {message}", attempt)

    def fetch_weights(self, n_weights, budget, at_pass):
        """The ``weights`` packets of every core: (keys, payloads).

        Untimed: the clock predicts the passes, and a model's millions of
        weight packets, all sent at once, would each be an event in its
        heap."""
        return self._fetch("send_weights", "weights", n_weights, budget,
                           at_pass)

    def fetch_penalty(self, n_parts, budget, at_pass):
        """The ``penalty`` packets of the regularised cores: (keys,
        payloads).  Untimed as the weights are: the clock predicts the
        passes, not the penalty's round before each batch."""
        return self._fetch("send_penalty", "penalty parts", n_parts, budget,
                           at_pass)

    def _fetch(self, command, what, n_packets, budget, at_pass):
        """The packets that control ``command`` makes the cores send, all
        ``n_packets`` of them (the round is repeated until they are)."""
        self.vm.pause_clock()
        for attempt in range(self.max_replays + 1):
            self.control(command, budget, at_pass)
            keys, payloads = self.vm.outputs()
            if len(keys) == n_packets:
                self.vm.pause_clock(False)
                return keys, payloads
            self.control_retries += 1
        raise self.error(
            at_pass, f"{len(keys)} of {n_packets} {what} reached the host",
            attempt)

    def error(self, n_done, message, replays):
        """The error of a run that cannot go on, naming the cores that
        had not finished and what each was waiting for."""
        tried = f" (after {replays} replay(s))" if replays else ""
        return SpiDNNMachineError(
            f"{n_done} pass(es) delivered their outputs, then the run could "
            f"not go on{tried}: {message}{self._culprits()}")

    def _culprits(self):
        statuses = {core: self.vm.core_status(core)
                    for core in self.core_names}
        if not statuses:
            return ""
        # Cores stuck part-way through a pass (or stalled) hold the others
        # up; if none is, those that never got their inputs.
        culprits = [
            (core, status) for core, status in statuses.items()
            if status.stalled
            or status.waiting not in (layouts.WAITING["inputs"],
                                      layouts.WAITING["commit"])]
        if not culprits:
            fewest = min(status.passes_done for status in statuses.values())
            culprits = [(core, status) for core, status in statuses.items()
                        if status.passes_done == fewest]
        lines = []
        for core, status in culprits[:_MAX_NAMED]:
            x, y, p = self.vm.core_locations[core]
            state = "stalled, " if status.stalled else ""
            lines.append(
                f"{self.core_names[core]} on core ({x}, {y}, {p}): "
                f"{state}waiting for "
                f"{_WAITING.get(status.waiting, status.waiting)} in its "
                f"pass {status.passes_done + 1}")
        more = len(culprits) - len(lines)
        return (f". {len(culprits)} core(s) could not go on: "
                + "; ".join(lines) + (f"; and {more} more" if more else ""))


def _last_commit(commit_after, start, done):
    """The pass a replay starts from: the one after the last commit before
    pass ``done`` (calls start at a batch's first pass)."""
    if commit_after is None:
        return done
    for index in range(done - 1, start - 1, -1):
        if commit_after[index]:
            return index + 1
    return start


def _core_name(machine_vertex):
    vertex = machine_vertex.app_vertex
    index = getattr(machine_vertex, "core_index", None)
    n_cores = len(vertex.machine_vertices)
    if index is None or n_cores == 1:
        return vertex.label
    return f"{vertex.label} core {index}"
