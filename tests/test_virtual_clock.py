"""The virtual clock keeps time as its model says, exactly and repeatably,
and changes no number the machine computes."""
import numpy
import pytest

import spiDNN
from spiDNN.layers import Conv2D, Dense, Flatten, Input, MaxPooling2D
from spiDNN.abi import layouts
from spiDNN.vm import binding, clock
from spiDNN.vm.binding import CORE_GATHERER, CORE_SOURCE
from spiDNN.vm.machine import VirtualMachine

from conftest import spidnn_model

EV_PACKET_PAYLOAD, EV_SCHEDULED, EV_TIMER = 1, 3, 4   # vm_event.h

# The fabric's and the relay's costs, picoseconds: odd numbers, so a
# term counted twice or missed shows.
HOP, LINK, LINK_PAYLOAD, SOURCE = 200_000, 160_000, 288_000, 5_003
ENTRY_PACKET, RECEIVE, ENTRY_TASK, FORWARD, TICK = 151, 1_009, 211, 30_011, 7


def _relay_costs():
    base = numpy.zeros(len(layouts.COST_POINTS) + 2, dtype=numpy.uint64)
    base[layouts.COST_POINTS["receive"]] = RECEIVE
    base[layouts.COST_POINTS["forward"]] = FORWARD
    base[layouts.COST_POINTS["control"]] = TICK
    base[-2:] = ENTRY_PACKET, ENTRY_TASK
    return base, numpy.zeros_like(base)


@pytest.fixture
def relay_chain(relay_app, monkeypatch):
    """A chip whose cores 1..k relay key i - 1 to key i; the source on
    core 16 sends key 0, the gatherer on core 17 takes key k."""
    monkeypatch.setattr(binding, "app_binary", lambda name: relay_app)

    def build(k):
        vm = VirtualMachine(1, 1)
        vm.add_chip(0, 0)
        keys = numpy.arange(k + 1, dtype=numpy.uint32)
        routes = [1 << (6 + p) for p in range(1, k + 1)] + [1 << (6 + 17)]
        vm.set_routes(0, 0, keys, numpy.full(k + 1, 0xFFFFFFFF), routes)
        cores = [vm.add_app_core(0, 0, p, "relay", [], f"relay {p}")
                 for p in range(1, k + 1)]
        source = vm.add_edge_core(0, 0, 16, CORE_SOURCE, "source")
        vm.add_edge_core(0, 0, 17, CORE_GATHERER, "gatherer")
        vm.start()
        vm.set_clock(HOP, LINK, LINK_PAYLOAD, SOURCE, 0, 0)
        for core in cores:
            vm.set_core_costs(core, *_relay_costs())
        return vm, cores, source
    return build


@pytest.mark.unit
def test_a_chain_of_k_cores_takes_k_hops_and_callbacks(relay_chain):
    for k in (1, 5, 15):
        vm, _, source = relay_chain(k)
        with vm:
            passes = vm.run_samples([source], [0], [[42]], 1, 10_000)
            assert passes.rc == 0, passes.message
            assert passes.out_keys[0, 0] == k
            per_core = HOP + ENTRY_PACKET + RECEIVE + ENTRY_TASK + FORWARD
            # ... and the last hop into the gatherer's router.
            assert vm.clock()["last_ps"] == k * per_core + HOP


def _reference(n):
    """The model's times for n packets reaching one busy core: (packet
    callbacks' starts, queued callbacks' (start, end))."""
    fiq_free, fiq, pending = 0, [], []
    for i in range(n):
        start = max(i * SOURCE + HOP, fiq_free)
        fiq_free = start + ENTRY_PACKET + RECEIVE
        fiq.append(start)
        pending.append(fiq_free)       # its queued callback is posted then
    tasks, task_end = [], 0
    for posted in pending:
        start = max(posted, task_end)
        end = start + ENTRY_TASK + FORWARD
        # Every packet callback starting while it runs pre-empts it.
        for f in fiq:
            if start <= f < end:
                end += ENTRY_PACKET + RECEIVE
        tasks.append((start, end))
        task_end = end
    return fiq, tasks


@pytest.mark.unit
def test_packets_reaching_a_busy_core_wait_and_pre_empt(relay_chain):
    n = 12
    vm, (core,), source = relay_chain(1)
    with vm:
        vm.keep_timeline(1000)
        passes = vm.run_samples([source] * n, [0] * n,
                                [numpy.arange(n)], n, 10_000)
        assert passes.rc == 0, passes.message
        # Sent in order, relayed in order.
        assert list(passes.out_payloads[0]) == list(range(n))
        timeline = vm.timeline()
        mine = timeline[timeline[:, 0] == core]
        fiq = mine[mine[:, 1] == EV_PACKET_PAYLOAD]
        tasks = mine[mine[:, 1] == EV_SCHEDULED]
        want_fiq, want_tasks = _reference(n)
        assert list(fiq[:, 2]) == want_fiq
        # Each queued callback starts when the one before, pre-empted,
        # ends; the timeline gives each callback's own cost.
        assert list(tasks[:, 2]) == [start for start, _ in want_tasks]
        assert set(tasks[:, 3] - tasks[:, 2]) == {ENTRY_TASK + FORWARD}
        assert vm.clock()["last_ps"] == want_tasks[-1][1] + HOP
        # The callbacks ran in virtual-time order.
        assert list(timeline[:, 2]) == sorted(timeline[:, 2])


@pytest.mark.unit
def test_timer_ticks_fire_at_their_period(relay_chain):
    vm, (core,), _ = relay_chain(1)
    with vm:
        vm.keep_timeline(100)
        assert vm._lib.vm_run_ticks(vm._vm, 3, 100) == 0
        timeline = vm.timeline()
        ticks = timeline[timeline[:, 1] == EV_TIMER]
        period = 1000 * 10 ** 6    # 1000 us in picoseconds
        assert list(ticks[:, 2]) == [period, 2 * period, 3 * period]
        assert list(ticks[:, 3] - ticks[:, 2]) == [ENTRY_TASK + TICK] * 3


@pytest.mark.unit
def test_a_busy_link_queues_packets(relay_app, monkeypatch):
    """Two chips: n packets with payloads cross one link, each holding it
    for its serialisation time."""
    monkeypatch.setattr(binding, "app_binary", lambda name: relay_app)
    n = 6
    with VirtualMachine(2, 1) as vm:
        vm.add_chip(0, 0)
        vm.add_chip(1, 0)
        vm.add_link(0, 0, 0, 1, 0)      # link 0: east
        vm.add_link(1, 0, 3, 0, 0)
        vm.set_routes(0, 0, [0], [0xFFFFFFFF], [1 << 0])
        vm.set_routes(1, 0, [0], [0xFFFFFFFF], [1 << (6 + 17)])
        source = vm.add_edge_core(0, 0, 16, CORE_SOURCE, "source")
        vm.add_edge_core(1, 0, 17, CORE_GATHERER, "gatherer")
        vm.start()
        vm.set_clock(HOP, LINK, LINK_PAYLOAD, SOURCE, 0, 0)
        passes = vm.run_samples([source] * n, [0] * n, [numpy.arange(n)],
                                n, 10_000)
        assert passes.rc == 0, passes.message
        # The source outpaces the link: the last packet leaves after n
        # serialisations, then one more router.
        assert vm.clock()["last_ps"] == HOP + n * LINK_PAYLOAD + HOP
        busy, packets = vm.link_clock(0)[0]
        assert (busy, packets) == (n * LINK_PAYLOAD, n)


# ---- The clock on real models, with the measured cost table.

def _fit_and_predict(model, x, y):
    model.compile(loss="sparse_categorical_crossentropy",
                  optimizer=spiDNN.optimizers.Adam(0.01))
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    fit_report = model.last_run
    return model.get_weights(), model.predict(x), fit_report, model.last_run


def _small_data(n=24, n_in=12):
    rng = numpy.random.default_rng(3)
    return (rng.normal(size=(n, n_in)).astype(numpy.float32),
            rng.integers(0, 5, n))


def test_the_clock_changes_no_number(monkeypatch):
    x, y = _small_data()
    runs = []
    for enabled in (True, False):
        monkeypatch.setattr(clock, "ENABLED", enabled)
        model = spidnn_model(12, [(8, "tanh"), (5, "softmax")],
                             neurons_per_core=3)
        runs.append(_fit_and_predict(model, x, y))
    (w_on, p_on, fit_on, predict_on), (w_off, p_off, fit_off, _) = runs
    assert all(a.tobytes() == b.tobytes() for a, b in zip(w_on, w_off))
    assert p_on.tobytes() == p_off.tobytes()
    assert fit_on.predicted_seconds > 0 and predict_on.predicted_seconds > 0
    assert fit_off.predicted_seconds is None


def test_two_runs_give_identical_virtual_times():
    x, y = _small_data()
    reports = []
    for _ in range(2):
        model = spidnn_model(12, [(8, "relu"), (5, "softmax")],
                             neurons_per_core=2)
        reports.append(_fit_and_predict(model, x, y)[2:])
    for first, second in zip(*reports):
        assert first.predicted_seconds == second.predicted_seconds
        assert first.predicted_joules == second.predicted_joules
        # (The layers' names differ: each model names its own, and
        # "dense_10" sorts before "dense_9".)
        assert sorted(first.layer_busy_seconds.values()) == sorted(
            second.layer_busy_seconds.values())


def _predicted(n_inputs, units, per_core, x):
    model = spiDNN.Model(seed=0)
    model.add(Input(n_inputs))
    model.add(Dense(units, "relu", neurons_per_core=per_core))
    model.predict(x)
    return model.last_run


def test_a_compute_bound_core_halves_with_its_neurons():
    x = numpy.random.default_rng(0).normal(size=(16, 64)).astype("float32")
    whole, half = (_predicted(64, 32, per_core, x) for per_core in (32, 16))
    assert whole.bottleneck.startswith("compute-bound core: dense")
    ratio = half.bottleneck_seconds_per_sample / (
        whole.bottleneck_seconds_per_sample)
    assert 0.45 <= ratio <= 0.55
    seconds = half.predicted_seconds / whole.predicted_seconds
    assert 0.45 <= seconds <= 0.55


def test_a_packet_bound_core_says_so():
    # A pooling core takes every input of the layer but reads only its
    # window: taking the packets is its work.
    model = spiDNN.Model(seed=0)
    model.add(Input((12, 12, 1)))
    model.add(MaxPooling2D(2, neurons_per_core=1))
    x = numpy.random.default_rng(0).normal(size=(4, 144)).astype("float32")
    model.predict(x)
    assert model.last_run.bottleneck.startswith(
        "packet-bound core: max_pooling2d")


def _where(bottleneck):
    """A bottleneck's kind and core or link, without the layer's name
    (each model names its own)."""
    kind, _, what = bottleneck.partition(": ")
    return kind, what[what.find("("):]


def _small_cnn():
    model = spiDNN.Model(seed=0)
    model.add(Input((6, 6, 1)))
    model.add(Conv2D(2, 3, activation="relu"))
    model.add(MaxPooling2D(2))
    model.add(Flatten())
    model.add(Dense(5, activation="softmax"))
    return model


@pytest.mark.parametrize("kind", ["dense", "conv"])
def test_the_first_passes_timed_predict_the_whole_run(monkeypatch, kind):
    """The clock times a run's first passes and stops (the rest run core
    by core, untimed): a pass's work does not depend on its data (nor a
    batch's), so the prediction is the fully timed run's, and no number
    changes."""
    n_in = 12 if kind == "dense" else 36
    x, y = _small_data(n=40, n_in=n_in)
    runs = []
    for limit in (0, 6):
        monkeypatch.setattr(clock, "TIMED_PASSES", limit)
        model = (spidnn_model(12, [(8, "relu"), (5, "softmax")],
                              neurons_per_core=3)
                 if kind == "dense" else _small_cnn())
        runs.append(_fit_and_predict(model, x, y))
    (w_all, p_all, *whole), (w_some, p_some, *part) = runs
    assert all(a.tobytes() == b.tobytes() for a, b in zip(w_all, w_some))
    assert p_all.tobytes() == p_some.tobytes()
    # Training times whole batches (of 4): to the second's end.
    assert [report.timed_passes for report in whole + part] == [40, 40, 8, 6]
    for all_timed, some_timed in zip(whole, part):
        for figure in ("predicted_seconds", "predicted_joules",
                       "predicted_latency_seconds",
                       "bottleneck_seconds_per_sample",
                       "busiest_core_fraction", "busiest_link_fraction"):
            assert getattr(some_timed, figure) == pytest.approx(
                getattr(all_timed, figure), rel=1e-12), figure
        assert _where(some_timed.bottleneck) == _where(all_timed.bottleneck)
