"""docs/keras_surface.rst covers Keras' whole training surface: every
argument of keras.Model.compile/fit/evaluate/predict and every class of
the four modules has a row (tools/keras_surface.py regenerates it when
Keras or spiDNN changes), and the tool finds tests by what they name."""
import inspect

import keras

from tools import keras_surface


def _table():
    with open(keras_surface.TABLE) as table:
        return table.read()


def test_every_class_and_argument_has_a_row():
    table = _table()
    sections = table.split("\n``")
    for module in ("optimizers", "losses", "metrics", "callbacks"):
        section = next(part for part in sections
                       if part.startswith(f"keras.{module}``"))
        for name in keras_surface._classes(getattr(keras, module)):
            assert f"* - ``{name}``" in section, (module, name)
    for method in ("compile", "fit", "evaluate", "predict"):
        section = next(part for part in sections
                       if part.startswith(f"keras.Model.{method}``"))
        for name in inspect.signature(getattr(keras.Model, method)).parameters:
            if name not in ("self", "kwargs"):
                assert f"* - ``{name}``" in section, (method, name)


def test_tests_are_found_by_what_their_bodies_name():
    tests = {"test_a.py": (
        "HELPER = keras.losses.Huber()\n\n\n"
        "@pytest.mark.parametrize('x', [Poisson])\n"
        "def test_one(x):\n    fit(sample_weight=w)\n\n\n"
        "def test_two():\n    pass\n")}
    assert keras_surface.tests_naming("keras.losses", "Huber", tests) == [
        "test_a"]
    assert keras_surface.tests_naming("keras.losses", "Poisson", tests) == [
        "test_a::test_one"]
    assert keras_surface.tests_naming("fit", "sample_weight", tests) == [
        "test_a::test_one"]
    assert keras_surface.tests_naming("fit", "steps", tests) == []
