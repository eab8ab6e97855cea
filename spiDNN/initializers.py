"""Keras' default initialisers, driven by a numpy random generator."""
import numpy


def glorot_uniform(rng, fan_in, fan_out, shape=None):
    """Keras' ``GlorotUniform``: U(-l, l), l = sqrt(6 / (fan_in + fan_out)),
    of shape (fan_in, fan_out) unless ``shape`` is given."""
    limit = numpy.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=shape or (fan_in, fan_out)).astype(
        numpy.float32)


def zeros(size):
    """Keras' ``Zeros``."""
    return numpy.zeros(size, dtype=numpy.float32)
