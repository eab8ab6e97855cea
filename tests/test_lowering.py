"""Lowering is a pure step and the plan is frozen: planning and building
a machine graph change none of the user's layers, the plan cannot be
changed, and a node knows its inputs and its consumers."""
import dataclasses

import pytest

import spiDNN
from spiDNN.compiler import planner
from spiDNN.compiler.lowering import ModelInput, core_layers
from spiDNN.layers import Conv2D, Dense, Dropout, Flatten, Input


def model():
    return spiDNN.Model([Input(8, 8, 1), Conv2D(3, 3), Flatten(),
                         Dense(20, neurons_per_core=7), Dropout(0.5),
                         Dense(4, "softmax")], seed=1)


def test_planning_changes_no_layer():
    built = model()
    before = [dict(vars(layer)) for layer in built.layers]
    for training in (None, _training(built)):
        planner.plan(built.layers, training)
        built.check_fits(training)
    after = [dict(vars(layer)) for layer in built.layers]
    assert [sorted(d) for d in before] == [sorted(d) for d in after]
    for old, new in zip(before, after):
        for key in old:
            if key != "weights":
                assert old[key] is new[key] or old[key] == new[key], key


def test_the_plan_is_frozen():
    plan = model().plan
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.layers[0].neurons_per_core = 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.bottleneck = "x"
    assert isinstance(plan.layers, tuple)


def test_nodes_know_inputs_consumers_and_the_plans_slicing():
    built = model()
    nodes = core_layers(built.layers, built.plan)
    conv, hidden, output = nodes
    assert conv.inputs == [ModelInput(0)] and conv.consumers == [hidden]
    assert hidden.inputs == [conv] and hidden.consumers == [output]
    assert output.consumers == [] and output.is_output
    assert hidden.uses == [(output, 0)] and not hidden.is_output
    assert hidden.dropout is built.layers[3]
    assert hidden.neurons_per_core == 7 and hidden.n_cores == 3
    assert [node.n_cores for node in nodes] == [
        layer.n_cores for layer in built.plan.layers]
    # Without a plan, the slicing the user asked for.
    assert [node.neurons_per_core for node in core_layers(built.layers)] == [
        built.layers[0].units, 7, 4]


def _training(built):
    from spiDNN.training.outputs import OutputLoss
    from spiDNN.training.training_run import TrainingRun
    return TrainingRun(outputs=(OutputLoss(None, "categorical_crossentropy",
                                           4, "softmax"),),
                       optimizer=spiDNN.optimizers.Adam(), batch_size=4,
                       n_samples=8, n_epochs=1)


def test_reshape_takes_no_core_as_flatten():
    """A Reshape is skipped, as Flatten: its neighbours are one edge."""
    from spiDNN.layers import Conv1D, GlobalMaxPooling1D, Reshape
    built = spiDNN.Model([Input(8, 8, 1), Conv2D(3, 3), Reshape((6, -1)),
                          Conv1D(2, 2), GlobalMaxPooling1D(), Dense(4)])
    nodes = core_layers(built.layers)
    assert [type(node.layer).__name__ for node in nodes] == [
        "Conv2D", "Conv1D", "GlobalMaxPooling1D", "Dense"]
    assert [node.previous for node in nodes[1:]] == nodes[:-1]
    assert nodes[1].layer.input_shape == (6, 18)
