"""Faults on demand and recovery (spiDNN.Faults): a run with faults either
gives exactly the fault-free result or ends within seconds with an error
naming the cores that could not go on.  Each campaign maps its model once
and runs it on a fresh virtual machine per fault (tools/mapped.py)."""
import time

import numpy
import pytest
from spinn_front_end_common.data import FecDataView

import spiDNN
from spiDNN import DeadLink, Drop, Faults, Stall
from spiDNN.errors import SpiDNNConfigurationError, SpiDNNMachineError
from spiDNN.layers import Conv2D, Dense, Dropout, Input, MaxPooling2D

from tools.mapped import MappedModel, identical

from conftest import spidnn_model

RNG = numpy.random.default_rng(7)
X = RNG.normal(size=(12, 6)).astype(numpy.float32)
Y = numpy.arange(12) % 3
IMAGES = RNG.normal(size=(7, 6, 6, 1)).astype(numpy.float32)
#: Seconds within which a run that cannot recover must have ended.
GIVE_UP_SECONDS = 10


def mlp():
    """Dense layers with a Dropout and a softmax: every partition a dense
    model has, and dropout masks that a replay must draw again; one
    neuron per core, so the faults can pick any core."""
    return spiDNN.Model(seed=0, layers=[
        Input(6), Dense(5, activation="relu", neurons_per_core=1),
        Dropout(0.3, seed=1),
        Dense(3, activation="softmax", neurons_per_core=1)])


def cnn():
    """A conv layer over two cores (its gradient chain) and a pooling
    layer (its delta exchange)."""
    return spiDNN.Model(seed=0, layers=[
        Input(6, 6, 1),
        Conv2D(2, 3, activation="relu", neurons_per_core=16),
        MaxPooling2D(2), Dense(3, activation="softmax")])


def training_rig(model, x=X, y=Y, loss="sparse_categorical_crossentropy"):
    return MappedModel(model, x, y, loss=loss, epochs=2, batch_size=5)


def assert_recovers_or_names(rig, expected, faults):
    """The run equals the fault-free one, or fails quickly by name."""
    try:
        result = rig.run(faults)
    except SpiDNNMachineError as error:
        assert rig.seconds < GIVE_UP_SECONDS
        assert "could not go on" in str(error)
        return False
    assert identical(result, expected), (faults, rig.report.faults)
    return True


def partitions_sent(rig):
    """(vertex label, partition) of everything the graph's cores send."""
    routing_infos = FecDataView.get_routing_infos()
    found = set()
    for vertex in rig.graph.app_vertices():
        for machine_vertex in vertex.machine_vertices:
            for partition in routing_infos.get_partitions_from(
                    machine_vertex):
                found.add((vertex.label, partition))
    return sorted(found)


# ------------------------------------------------------- random drops
@pytest.mark.parametrize("training", [False, True], ids=["predict", "fit"])
def test_random_drops_with_recovery_give_the_fault_free_result(training):
    """20 seeds at each rate: at 1e-3 and below every run completes; at
    1e-2 too, thanks to reinjection and replay."""
    with (training_rig(mlp()) if training
          else MappedModel(mlp(), X)) as rig:
        expected = rig.run()
        injected = 0
        for rate in (1e-4, 1e-3, 1e-2):
            for seed in range(20):
                result = rig.run(Faults(drop_rate=rate, seed=seed))
                assert identical(result, expected), (rate, seed)
                injected += rig.report.faults["dropped_random"]
        assert injected > 20


@pytest.mark.parametrize("training, rate", [(False, 0.03), (True, 0.01)],
                         ids=["predict", "fit"])
def test_heavy_losses_recover_or_end_by_name(training, rate):
    """Without reinjection every drop needs a replay (of a whole batch,
    training): at these rates some runs never get through in eight tries,
    and say so quickly; the others give the fault-free result."""
    with (training_rig(mlp()) if training
          else MappedModel(mlp(), X)) as rig:
        expected = rig.run()
        outcomes = [assert_recovers_or_names(rig, expected, Faults(
            drop_rate=rate, seed=seed, reinjection=False))
            for seed in range(15)]
        assert any(outcomes)


# ---------------------------------------------------- targeted drops
@pytest.mark.parametrize("model", [mlp, cnn])
def test_a_drop_on_any_partition_is_recovered(model):
    """The 1st, 8th and 41st packet of every partition (forward, softmax,
    backward, loss, labels, exchange, gradient chain, weights, the host's
    control): recovered by reinjection alone, and by replay alone."""
    x = X if model is mlp else IMAGES
    y = Y if model is mlp else Y[:len(IMAGES)]
    # Mean squared error does not take logits: the softmax exchanges run.
    with training_rig(model(), x, numpy.eye(3)[y], loss="mse") as rig:
        expected = rig.run()
        partitions = partitions_sent(rig)
        names = {partition for _, partition in partitions}
        assert {"forward", "backward", "weights", "control",
                "loss"} <= names
        assert ({"softmax", "softmax_backward"} if model is mlp
                else {"exchange", "gradient_chain"}) <= names
        for label, partition in partitions:
            for nth in (0, 7, 40):
                drop = Drop(label, partition, nth)
                for switches in ({"replay": False},
                                 {"reinjection": False}):
                    result = rig.run(Faults(drops=[drop], **switches))
                    assert identical(result, expected), (drop, switches)
                    if nth == 0:
                        assert rig.report.faults["dropped_targeted"] == 1
                    if switches == {"reinjection": False} and (
                            rig.report.faults["dropped_targeted"]):
                        assert rig.report.faults["lost"] == 1


def test_without_recovery_a_lost_packet_ends_by_name():
    """No reinjection, no replay: the lost delta leaves the first layer
    waiting, and the error says so."""
    model = mlp()
    with training_rig(model) as rig:
        drop = Drop(model.layers[-1].name, "backward", 3)
        with pytest.raises(SpiDNNMachineError) as error:
            rig.run(Faults(drops=[drop], reinjection=False, replay=False))
        assert rig.seconds < GIVE_UP_SECONDS
    message = str(error.value)
    assert f"{model.layers[0].name} core" in message
    assert "waiting for gradients" in message


# --------------------------------------------------- delays, reorders
@pytest.mark.parametrize("training", [False, True], ids=["predict", "fit"])
def test_delayed_and_reordered_packets_change_nothing(training):
    with (training_rig(cnn(), IMAGES, Y[:len(IMAGES)]) if training
          else MappedModel(cnn(), IMAGES)) as rig:
        expected = rig.run()
        for seed, rate in enumerate((0.01, 0.1, 0.5)):
            result = rig.run(Faults(delay_rate=rate, max_delay=40,
                                    seed=seed))
            assert identical(result, expected)
            assert rig.report.faults["delayed"] > 0
            assert rig.report.faults["replays"] == 0


# ------------------------------------------------------------ stalls
def test_stalls_shorter_and_longer_than_the_timeout():
    model = mlp()
    name = model.layers[0].name
    with training_rig(model) as rig:
        expected = rig.run()
        # Shorter than the host's timeout: the pass just finishes late.
        assert identical(rig.run(Faults(stalls=[
            Stall(name, core=2, at_packet=30, duration=50)])), expected)
        assert rig.report.faults["stalls"] == 1
        assert rig.report.faults["replays"] == 0
        # Longer: the host aborts and replays once the core is back.
        assert identical(rig.run(Faults(stalls=[
            Stall(name, core=2, at_packet=30, duration=3000)])), expected)
        assert rig.report.faults["replays"] >= 1
        # For good: a clear error, quickly, naming the core.
        with pytest.raises(SpiDNNMachineError) as error:
            rig.run(Faults(stalls=[Stall(name, core=2, at_packet=30)]))
        assert rig.seconds < GIVE_UP_SECONDS
    message = str(error.value)
    assert f"{name} core 2 on core" in message
    assert "stalled" in message
    assert "abort" in message


def test_a_core_that_stops_in_fit_is_named_with_the_epoch():
    """Through the public API: the error names the epoch, the pass count,
    the core, its layer and what it waited for."""
    model = mlp()
    name = model.layers[-1].name
    # Each of the 3 softmax cores receives 5 inputs, 3 z and 3 dL/dp per
    # sample: its 12 samples of epoch 1 are 132 packets.
    model.faults = Faults(stalls=[Stall(name, core=1, at_packet=140)])
    start = time.perf_counter()
    with pytest.raises(SpiDNNMachineError) as error:
        model.fit(X, Y, loss="sparse_categorical_crossentropy", epochs=2,
                  batch_size=5, verbose=0)
    assert time.perf_counter() - start < GIVE_UP_SECONDS + 5
    message = str(error.value)
    assert message.startswith("training, epoch 2 of 2: ")
    assert f"{name} core 1 on core" in message
    assert "stalled" in message


# ---------------------------------------------------------- dead links
def links_in_use(rig):
    """(x, y, link) of every link a routing entry sends packets out of."""
    used = set()
    tables = rig.session.simulator.loaded_routing_tables
    for table in tables.routing_tables:
        for entry in table.multicast_routing_entries:
            for link in entry.link_ids:
                used.add((table.x, table.y, link))
    return sorted(used)


def way_around(x, y, link):
    """Whether the machine has the two other sides of the triangle that
    emergency routing takes around a link: out by the next link
    anticlockwise, back in by the one before the dead link."""
    machine = FecDataView.get_machine()
    first = machine.get_chip_at(x, y).router.get_link(
        (link + 1) % 6)
    if first is None:
        return False
    corner = machine.get_chip_at(first.destination_x, first.destination_y)
    return corner.router.get_link((link + 5) % 6) is not None


def test_dead_links_are_routed_around():
    """A model on several chips: each link its packets use, taken down in
    turn, is routed around by emergency routing where the machine has a
    way around, and ends the run by name where it has not (the board's
    edge)."""
    model = spidnn_model(6, [(20, "relu"), (3, "softmax")])
    with training_rig(model) as rig:
        expected = rig.run()
        links = links_in_use(rig)
        around = [link for link in links if way_around(*link)]
        assert around, "the model should use a link inside the board"
        for x, y, link in links:
            faults = Faults(dead_links=[DeadLink(x, y, link)])
            if way_around(x, y, link):
                assert identical(rig.run(faults), expected), (x, y, link)
                assert rig.report.faults["emergency_routed"] > 0
            else:
                assert not assert_recovers_or_names(rig, expected, faults)
        # Both ways out taken down: no way through.
        x, y, link = around[0]
        cut = [DeadLink(x, y, link), DeadLink(x, y, (link + 1) % 6)]
        assert not assert_recovers_or_names(
            rig, expected, Faults(dead_links=cut))


# --------------------------------------------------- after a failure
def test_a_run_after_a_failure_gives_the_fault_free_result():
    model = mlp()
    reference = mlp()
    expected = reference.predict(X)
    model.faults = Faults(stalls=[Stall(model.layers[0].name)])
    with pytest.raises(SpiDNNMachineError):
        model.predict(X)
    model.faults = None
    numpy.testing.assert_array_equal(model.predict(X), expected)
    model.faults = Faults(drop_rate=1e-2, seed=3)
    numpy.testing.assert_array_equal(model.predict(X), expected)
    assert model.last_run.faults["dropped_random"] > 0


def test_a_removed_routing_entry_ends_by_name(monkeypatch):
    """A fault no replay can mend: a router lost the entry of the inputs."""
    from spiDNN.vm.machine import VirtualMachine
    model = spidnn_model(6, [(8, "relu"), (3, "softmax")])
    with MappedModel(model, X) as rig:
        source = next(iter(rig.graph.input_vertex.machine_vertices))
        chip = FecDataView.get_placement_of_vertex(source)
        first_key = rig.graph.input_keys()[0]
        set_routes = VirtualMachine.set_routes

        def lose_entry(vm, x, y, keys, masks, routes):
            if (x, y) == (chip.x, chip.y):
                kept = [i for i, (key, mask) in enumerate(zip(keys, masks))
                        if first_key & mask != key]
                keys, masks, routes = ([values[i] for i in kept]
                                       for values in (keys, masks, routes))
            set_routes(vm, x, y, keys, masks, routes)

        monkeypatch.setattr(VirtualMachine, "set_routes", lose_entry)
        with pytest.raises(SpiDNNMachineError) as error:
            rig.run()
        assert rig.seconds < GIVE_UP_SECONDS
    message = str(error.value)
    assert "0 of 3 expected packets" in message
    assert "(after 8 replay(s))" in message
    assert f"{model.layers[0].name} core 0 on core" in message


# --------------------------------------------------------- arguments
@pytest.mark.unit
@pytest.mark.parametrize("make, match", [
    (lambda: Faults(drop_rate=2), "drop_rate must be a probability"),
    (lambda: Faults(delay_rate=-0.1), "delay_rate must be a probability"),
    (lambda: Faults(seed=-1), "seed must be an integer from 0 to"),
    (lambda: Faults(drops=["dense"]), "drops takes spiDNN.Drop"),
    (lambda: Stall("dense", at_packet=0), "at_packet counts from 1"),
    (lambda: DeadLink(0, 0, 6), "link must be 0 to 5"),
    # Nothing the machine holds in a fixed-width field wraps, and no
    # string is taken as a bool.
    (lambda: Faults(reinjection="False"), "reinjection must be True or"),
    (lambda: Faults(replay=1), "replay must be True or False"),
    (lambda: Faults(max_delay=2 ** 32 + 40),
     r"max_delay must be an integer from 0 to 4294967295"),
    (lambda: Faults(seed=2 ** 64 + 1), "seed must be an integer from 0"),
    (lambda: Drop("dense", "forward", nth=2 ** 64), "nth must be an"),
    (lambda: Stall("dense", duration=2 ** 64), "duration must be an"),
    (lambda: Stall("dense", duration=0), "duration must be at least 1"),
    (lambda: spiDNN.LiveIO(drop={"output": [-1]}), "message must be a non"),
    (lambda: spiDNN.LiveIO(drop={"output": [0.7]}), "message must be a non"),
    (lambda: spiDNN.LiveIO(drop="input"), "drop is a dict"),
    (lambda: spiDNN.LiveIO(drop={"output": "abc"}), "is a list of message"),
    (lambda: spiDNN.Model(faults=0.1), "faults must be a spiDNN.Faults"),
])
def test_bad_fault_arguments(make, match):
    with pytest.raises(SpiDNNConfigurationError, match=match):
        make()


@pytest.mark.parametrize("faults, match", [
    (Faults(drops=[Drop("nothing", "forward")]), "no layer or vertex named"),
    (Faults(drops=[Drop("loss", "softmax")]), "loss sends on"),
    (Faults(stalls=[Stall("loss", core=1)]), "loss has 1 core"),
    (Faults(stalls=[Stall("input")]), "input is the host's source"),
])
def test_faults_naming_what_the_run_lacks(faults, match):
    model = mlp()
    model.faults = faults
    with pytest.raises(SpiDNNConfigurationError, match=match):
        model.fit(X, Y, loss="sparse_categorical_crossentropy", verbose=0)


def test_a_faults_seed_repeats_the_run():
    with MappedModel(mlp(), X) as rig:
        rig.run(Faults(drop_rate=0.02, seed=11, reinjection=False))
        first = dict(rig.report.faults)
        rig.run(Faults(drop_rate=0.02, seed=11, reinjection=False))
        assert rig.report.faults == first
        assert first["lost"] > 0


def test_validation_and_evaluate_recover_too():
    """Replays in training, validation and evaluate passes (the evaluate
    mode's aborts take nothing back that training needs): the History,
    the weights and evaluate equal the fault-free run's."""
    def run(faults):
        model = mlp()
        model.faults = faults
        model.compile(optimizer="adam",
                      loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        history = model.fit(X, Y, epochs=3, batch_size=4,
                            validation_split=0.25, verbose=0)
        return (history.history, model.get_weights(),
                model.evaluate(X, Y), model.last_run.faults)

    clean = run(None)
    faulty = run(Faults(drop_rate=3e-3, reinjection=False, seed=5))
    assert faulty[3]["replays"] > 0
    assert faulty[0] == clean[0]
    for ours, theirs in zip(faulty[1], clean[1]):
        numpy.testing.assert_array_equal(ours, theirs)
    assert faulty[2] == clean[2]
