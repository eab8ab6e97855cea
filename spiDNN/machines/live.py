"""Running passes through live I/O: on a SpiNNaker board, or on the
virtual machine's live edge (``spiDNN.Model(live_io=True)``).

The same graph runs until the host stops it.  Each sample's inputs (and,
training, its label) go in as payload events to the sources through a
``LiveEventConnection``; outputs, losses and the trained weights come back
from the live packet gatherer, keyed as on the virtual machine, so they
are decoded by the same code.  The host commits each batch and asks for
the weights at the end on the control source (control.h).

UDP loses messages, so the host counts what it expects back and waits at
most ``LiveIO.timeout`` for each:

- a prediction whose outputs do not all come back is aborted (abort and
  resume in one message) and sent again;
- a commit is one message with its scale and learning rate, so it arrives
  whole or not at all; when the next pass's loss does not come, the host
  sends it again with the same round number, which the cores carry out
  once;
- a weight download that comes back short is asked for again;
- a training pass whose loss still does not come ends the run with an
  error naming what may have been lost (replaying it from the last commit
  needs to know that commit arrived, which nothing on the wire says).

Training runs on a machine with the in-process one's interface (train a
chunk of an epoch, fetch the weights and the optimizer's state, report),
which Keras' loop (spiDNN.training.loop) drives, callbacks and metrics
included: :py:class:`LiveMachine` when the host streams the samples,
:py:class:`FeederMachine` when the feeder streams them from the board's
SDRAM.  The toolchain's live run goes on in a thread of its own while the
loop runs in the caller's (wire.SteppedRun).
"""
import time
import warnings

import numpy

from spiDNN.abi import layouts
from spiDNN.compiler.machine_graph import (
    CONTROL_LABEL, INPUT_LABEL, LABELS_LABEL)
from spiDNN.errors import (
    SpiDNNConfigurationError, SpiDNNInternalError, SpiDNNMachineError)
from spiDNN.machines.run_report import RunReport
from spiDNN.machines.wire import HostLink, Lost, SteppedRun


def _check_no_faults(faults):
    if faults is not None:
        raise SpiDNNConfigurationError(
            "faults are injected in the in-process virtual machine only; "
            "through live I/O, spiDNN.LiveIO(drop=...) loses messages on "
            "the wire")


def _check_one_source_core(graph):
    """A LiveEventConnection sends all of a label's events to its first
    core."""
    if len(graph.input_vertex.machine_vertices) > 1:
        raise SpiDNNConfigurationError(
            "live I/O sends a source's events to its first core; a first "
            "layer split by inputs_per_core needs the input on several")


def predict(graph, session, inputs, faults=None):
    _check_no_faults(faults)
    n_out = graph.output_vertex.n_atoms
    outputs = numpy.zeros((len(inputs), n_out), dtype=numpy.float32)
    rounds = iter(range(1, 2 ** 32))

    def stream(live):
        _check_one_source_core(graph)
        for s, row in enumerate(inputs.view(numpy.uint32)):
            keys, payloads = live.take_asking(
                lambda: live.send(INPUT_LABEL, row), n_out, "output",
                "input", lambda lost, times, s=s: (
                    f"sample {s}: {lost} outputs came back, {times} "
                    f"time(s); its input or output messages were lost on "
                    f"the wire"),
                # Cores may hold part of its inputs: forget them.
                lambda: live.command(("abort", next(rounds)),
                                     ("resume", next(rounds))))
            outputs[s] = graph.decode_outputs(
                keys[None], payloads[None])[0][0]

    live = HostLink(session, [INPUT_LABEL, CONTROL_LABEL],
                    [graph.output_vertex.label], stream)
    seconds = live.run()
    return [outputs], _report(graph, session, len(inputs), seconds, live)


def _pass_results(keys, payloads, loss_key, metric_keys):
    """(loss, metrics) of one pass from its loss packets."""
    values = payloads.view(numpy.float32)
    found = {int(key): value for key, value in zip(keys, values)}
    if set(found) != {loss_key, *metric_keys}:
        raise SpiDNNMachineError(
            "a training pass sent something other than its loss and "
            "metrics")
    return found[loss_key], [found[key] for key in metric_keys]


class _LiveTraining:
    """What both live machines share: the run, the training's keys and
    the count of samples and optimizer steps."""

    SEND_LABELS = ()

    def __init__(self, graph, session, faults):
        _check_no_faults(faults)
        self.graph = graph
        self.session = session
        self.training = graph.training
        self.batch_size = self.training.batch_size
        #: The optimizer's steps so far (Keras' ``iterations``).
        self.steps = self.training.initial_step
        self.samples = 0
        self._report = None
        receive = [graph.loss_vertex.label] + [
            vertex.label for vertex in graph.vertices_with_weights()]
        self.run = SteppedRun(session, list(self.SEND_LABELS), receive)
        self.loss_key = graph.loss_key()
        self.metric_keys = graph.metric_keys()

    @property
    def n_results(self):
        """Packets a pass sends the host: its loss and its metrics."""
        return 1 + len(self.metric_keys)

    def _call(self, work, what=None):
        """``work(link)`` on the run; a failure ends the run and names
        what the edge dropped, if it knows."""
        try:
            return self.run.call(work)
        except SpiDNNMachineError as error:
            try:
                self.run.stop()
            except Exception:   # pylint: disable=broad-except
                pass            # the failure is the news
            message = f"{error}{self.run.link.edge_drops()}"
            raise SpiDNNMachineError(
                f"{what}: {message}" if what else message) from None

    def evaluate(self, inputs, labels, what="evaluating"):
        raise SpiDNNConfigurationError(
            "evaluate through live I/O needs the data on the board "
            "(spiDNN.LiveIO(data_on_board=True), the default) for now; "
            "with the host streaming the samples, only fit's validation "
            "runs through it")

    def report(self):
        """The run's report; the run ends first (its link's counts are
        complete only then)."""
        if self._report is None:
            self.run.stop()
            self._report = _report(self.graph, self.session,
                                   max(self.samples, 1),
                                   self.run.seconds or 0.0, self.run.link)
        return self._report

    def close(self, failing=False):
        try:
            self.run.stop()
        except Exception:       # pylint: disable=broad-except
            if not failing:
                raise

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *exc_info):
        self.close(failing=exc_type is not None)
        return False


class LiveMachine(_LiveTraining):
    """The machine of one fit through live I/O, the host streaming the
    samples: one sample at a time, each sent once the previous one's loss
    is back (the cores buffer the next inputs while their backward pass
    finishes), a commit after each batch.

    The commit that ends a chunk of the loop's is sent with whatever the
    host asks next: the next chunk's first sample, the weights' request,
    or the validation passes' ``evaluate_passes``, so that a validation
    that does not arrive cannot let its passes train: without the commit
    the cores wait, and the host asks again.  The cores train again by
    themselves after the validation passes.
    """

    SEND_LABELS = (INPUT_LABEL, LABELS_LABEL, CONTROL_LABEL)

    def __init__(self, graph, session, faults=None):
        super().__init__(graph, session, faults)
        self.chunk = self.training.chunk
        self.rounds = iter(range(1, 2 ** 32))
        #: The last batch's commit: sent again if the next loss does not
        #: come, and with the weights' request.
        self.commit = None
        #: The commit that ended the last chunk, not sent yet.
        self.pending = None

    def _commit(self, link, now):
        values = self.training.step_commands([self.steps])
        self.steps += 1
        commit = tuple(
            (command, layouts.float_bits(value[0]))
            for command, value in values) + (("commit", next(self.rounds)),)
        if now:
            self.commit = commit
            link.command(*commit)
        else:
            self.pending = commit

    def _take_pending(self):
        """The pending commit's commands (now the last commit sent)."""
        if self.pending is None:
            return ()
        self.commit, self.pending = self.pending, None
        return self.commit

    def train(self, inputs, labels, rows, first, epoch, n_epochs):
        """Trains on samples ``rows`` (of the epoch, from its sample
        ``first``); their (losses, metrics)."""
        ends = self.training.ends_batch(numpy.arange(first, first + len(rows)))

        def work(link):
            _check_one_source_core(self.graph)
            pending = self._take_pending()
            if pending:
                link.command(*pending)
            return self._passes(
                link, inputs, labels, rows, lambda k: (
                    f"training stopped at sample {first + k} of epoch "
                    f"{epoch + 1}"), ends)

        result = self._call(work)
        self.samples += len(rows)
        return result

    def evaluate(self, inputs, labels, what="evaluating"):
        """The (losses, metrics) of ``inputs`` evaluated after a chunk of
        training (validation): sent with its commit, which the cores wait
        for."""
        if self.pending is None:
            return super().evaluate(inputs, labels, what)
        bundle = self._take_pending() + (("evaluate_passes", len(inputs)),)

        def work(link):
            link.command(*bundle)
            self.commit = bundle
            return self._passes(link, inputs, labels,
                                numpy.arange(len(inputs)),
                                lambda k: f"{what} stopped at sample {k}")

        return self._call(work)

    def _passes(self, link, inputs, labels, rows, stopped, ends=None):
        """The (losses, metrics) of passes of samples ``rows``, a commit
        after each that ``ends``, the chunk's last one pending."""
        bits = inputs.view(numpy.uint32)
        losses = numpy.empty(len(rows), dtype=numpy.float32)
        metrics = numpy.empty((len(rows), len(self.metric_keys)),
                              dtype=numpy.float32)
        for k, s in enumerate(rows):
            link.send(INPUT_LABEL, bits[s])
            link.send(LABELS_LABEL, labels[s])
            keys, payloads = self._results(link, stopped(k))
            self.commit = None
            losses[k], metrics[k] = _pass_results(
                keys, payloads, self.loss_key, self.metric_keys)
            if ends is not None and ends[k]:
                self._commit(link, now=k + 1 < len(rows))
        # The total loss as the in-process machine's (a loss weight).
        return self.training.combine(numpy.column_stack([losses, metrics]))

    def _results(self, link, stopped):
        """The loss and metrics of the pass just sent.  The commit before
        it (with what came with it) may have been lost (the cores then
        wait for it): it is sent again, as often as the settings'
        ``retries``."""
        retries = link.settings.retries
        commit = self.commit
        for attempt in range(retries + 1 if commit else 1):
            try:
                return link.take(self.n_results, "loss")
            except Lost:
                if commit and attempt < retries:
                    link.resends["commit"] += 1
                    link.command(*commit)
        after = " or the commit before it" if commit else ""
        raise SpiDNNMachineError(
            f"{stopped}: its loss did not come back within "
            f"{link.settings.timeout} s; its input, label or loss "
            f"message{after} was lost on the wire")

    def weights(self):
        """The weights on the cores now, in Keras' order, and the
        optimizer's state, asked for until they all come back.  The
        request goes with the last batch's commit again (carried out
        once), in case that was lost."""
        graph = self.graph

        self._take_pending()

        def work(link):
            return graph.decode_weights(*link.take_asking(
                lambda: link.command(*(self.commit or ()),
                                     ("send_weights", next(self.rounds))),
                graph.n_weights(), "weight", "weights",
                lambda lost, times: (
                    f"{lost} weights came back, {times} time(s): weight "
                    f"messages were lost on the wire")))

        return self._call(work, "training, fetching the weights")


class FeederMachine(_LiveTraining):
    """The machine of one fit through live I/O with the training (and
    validation) set on the board
    (:py:class:`~spiDNN.compiler.board_data.BoardData`): the feeder
    streams the samples, paced by the losses it hears, and commits each
    batch itself; the host asks it for passes up to a number (the end of
    the chunk Keras' loop trains, an epoch by default), for the
    validation passes, and hears the losses and metrics.  After the run's
    last pass the feeder has the cores send their weights.

    A lost "train" or "evaluate" is sent again while nothing has come
    back (the feeder carries a repeated one out once); lost weights are
    asked for again once nothing has come for the timeout; a lost loss
    message leaves the weights exact but that chunk's losses unknown
    (NaN, with a warning); a run that goes quiet ends with an error
    naming how far it came.
    """

    SEND_LABELS = (CONTROL_LABEL,)

    def __init__(self, graph, session, data, faults=None, run_ahead=False):
        super().__init__(graph, session, faults)
        self.data = data
        #: Nothing of the host's runs between the loop's chunks (no
        #: validation, no callbacks): the feeder runs the whole run on
        #: one "train", and the host takes every loss as it comes.
        self.run_ahead = run_ahead
        self._ahead = None
        self.chunk = data.n_samples
        self.total = data.n_epochs * data.n_samples
        #: Training passes asked of the feeder so far.
        self.passes = 0
        # The feeder's rounds: its commits 1, 2, ..., then its weight
        # request; the host's own after them.
        self.rounds = iter(range(data.n_batches + 2, 2 ** 32))
        self.lost_losses = 0
        #: Weights that came back unasked, at the end of the run.
        self._weights = {}

    def train(self, inputs, labels, rows, first, epoch, n_epochs):
        """The (losses, metrics) of samples ``rows`` (of the epoch, from
        its sample ``first``), which the feeder streams in the order it
        holds."""
        if not numpy.array_equal(rows, self.data.epoch_order(epoch)[
                first:first + len(rows)]):
            raise SpiDNNInternalError(
                "the loop's order is not the one on the board")
        until = self.passes + len(rows)
        what = f"training, epoch {epoch + 1} of {n_epochs}"
        if self.run_ahead:
            if self._ahead is None:
                self._ahead = self._call(lambda link: self._passes(
                    link, ("train", self.total), self.total,
                    f"0 of {self.total} passes"), what)
            losses, metrics = self._ahead
            result = (losses[self.passes:until], metrics[self.passes:until])
        else:
            result = self._call(lambda link: self._passes(
                link, ("train", until), len(rows),
                f"{self.passes} of {self.total} passes"), what)
        self.passes = until
        self.samples += len(rows)
        self.steps += int(numpy.count_nonzero(self.training.ends_batch(
            numpy.arange(first, first + len(rows)))))
        return result

    def evaluate(self, inputs, labels, what="evaluating"):
        """The (losses, metrics) of the validation samples on the board."""
        if self.data.validation is None or (
                inputs is not self.data.validation[0]):
            return super().evaluate(inputs, labels, what)
        command = ("evaluate", next(self.rounds))

        def work(link):
            return self._passes(link, command, len(inputs),
                                "0 validation passes")

        return self._call(work, what)

    def _passes(self, link, command, n, where):
        """Sends ``command`` and takes the loss and metrics of its ``n``
        passes; the weights the feeder asks for after the run's last are
        kept."""
        results = {key: [] for key in [self.loss_key] + self.metric_keys}
        got = starts = heard = 0
        link.command(command)
        # A pass's metrics may come after its loss.
        while min(map(len, results.values())) < n:
            try:
                key, payload = link.next_packet()
            except Lost:
                if heard == 0 and starts < link.settings.retries:
                    # The command may have been lost: it is carried out
                    # once.
                    starts += 1
                    link.resends[command[0]] += 1
                    link.command(command)
                    continue
                if heard == 0:
                    raise SpiDNNMachineError(
                        f"the board went quiet after {where}: nothing came "
                        f"back for {link.settings.timeout} s (a message was "
                        f"lost on the wire, or the machine stalled)"
                    ) from None
                break           # loss messages lost on the wire
            heard += 1
            if key in results:
                results[key].append(payload)
                if key == self.loss_key:
                    got += 1
                    link.training_seconds = (time.perf_counter()
                                             - link.started)
            else:
                self._weights[key] = payload
        link.got["loss"] += got
        if any(len(values) != n for values in results.values()):
            self.lost_losses += n - min(map(len, results.values()))
            return self.training.combine(
                numpy.full((n, self.n_results), numpy.nan, numpy.float32))
        columns = numpy.array(list(results.values()),
                              dtype=numpy.uint32).view(numpy.float32)
        return self.training.combine(columns.T)

    def weights(self):
        """The weights on the cores now and the optimizer's state: those
        the feeder had the cores send after the run's last pass, or asked
        for, again until they all come back."""
        graph = self.graph
        n_weights = graph.n_weights()
        packets = self._weights

        def work(link):
            requests = 0
            if self.passes < self.total:
                packets.clear()
                link.command(("send_weights", next(self.rounds)))
            while len(packets) < n_weights:
                try:
                    key, payload = link.next_packet()
                except Lost:
                    if requests == link.settings.retries:
                        raise SpiDNNMachineError(
                            f"{len(packets)} of {n_weights} weights came "
                            f"back, {requests + 1} time(s): weight "
                            f"messages were lost on the wire") from None
                    requests += 1
                    link.resends["weights"] += 1
                    link.command(("send_weights", next(self.rounds)))
                    continue
                if key != self.loss_key and key not in self.metric_keys:
                    packets[key] = payload
            link.got["weight"] += len(packets)
            keys = numpy.fromiter(packets, dtype=numpy.uint32)
            payloads = numpy.fromiter(packets.values(), dtype=numpy.uint32)
            # Only the weights sent after the run's last pass come unasked.
            packets.clear()
            return graph.decode_weights(keys, payloads)

        return self._call(work, "training, fetching the weights")

    def report(self):
        report = super().report()
        if self.lost_losses:
            warnings.warn(
                f"{self.lost_losses} of {self.total} sample losses were lost "
                f"on the wire: the weights are exact, the losses unknown "
                f"(NaN)", RuntimeWarning, stacklevel=2)
            self.lost_losses = 0
        return report


def _report(graph, session, n_samples, seconds, live):
    """What the host can tell without reading the board's counters."""
    cores = sum(len(v.machine_vertices) for v in graph.layer_vertices)
    return RunReport(
        backend="board" if not session.is_virtual else "virtual live I/O",
        samples=n_samples, cores=cores, chips=0,
        packets_sent=0, packets_delivered=0, packets_dropped=0,
        max_routing_entries=0,
        # The toolchain's run step is the whole live run.
        mapping_seconds=max(session.mapping_seconds - seconds, 0.0),
        machine_seconds=seconds,
        packets_per_sample_lower_bound=graph.packets_lower_bound(),
        host_link=live.host_link())
