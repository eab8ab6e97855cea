"""Checking layer arguments as Keras spells them, and the shape arithmetic
of windowed layers (TensorFlow's "valid" and "same" padding)."""
import numbers

import numpy

from spiDNN.errors import SpiDNNConfigurationError


def positive_int(value, what):
    """``value`` as an int, or a clear error naming ``what``."""
    if isinstance(value, bool) or not hasattr(type(value), "__index__"):
        raise SpiDNNConfigurationError(
            f"{what} must be a positive integer, not {value!r}")
    value = int(value)
    if value <= 0:
        raise SpiDNNConfigurationError(
            f"{what} must be a positive integer, not {value}")
    return value


def boolean(value, what):
    """``value`` as a bool (True, False, or numpy's), or a clear error
    naming ``what``."""
    if not isinstance(value, (bool, numpy.bool_)):
        raise SpiDNNConfigurationError(
            f"{what} must be True or False, not {value!r}")
    return bool(value)


def non_negative_int(value, what):
    """``value`` as an int >= 0, or a clear error naming ``what``."""
    if (isinstance(value, bool) or not hasattr(type(value), "__index__")
            or int(value) < 0):
        raise SpiDNNConfigurationError(
            f"{what} must be a non-negative integer, not {value!r}")
    return int(value)


def int_below(value, limit, what):
    """``value`` as an int in [0, limit), or a clear error naming
    ``what`` (the machine holds it in a field that would wrap)."""
    if (isinstance(value, bool) or not hasattr(type(value), "__index__")
            or not 0 <= int(value) < limit):
        raise SpiDNNConfigurationError(
            f"{what} must be an integer from 0 to {limit - 1}, not "
            f"{value!r}")
    return int(value)


def probability(value, what):
    """``value`` as a float in [0, 1], or a clear error naming ``what``."""
    if (isinstance(value, bool) or not isinstance(value, numbers.Real)
            or not 0 <= value <= 1):
        raise SpiDNNConfigurationError(
            f"{what} must be a probability in [0, 1], not {value!r}")
    return float(value)


def int_tuple(value, n, what):
    """An int or a sequence of ``n`` positive ints, as a tuple of ``n``."""
    if isinstance(value, (tuple, list)):
        if len(value) != n:
            raise SpiDNNConfigurationError(
                f"{what} must be an integer or {n} integers, not {value!r}")
        return tuple(positive_int(v, what) for v in value)
    return (positive_int(value, what),) * n


def padding_mode(value, what):
    """Keras' ``padding``: "valid" or "same"."""
    mode = value.lower() if isinstance(value, str) else value
    if mode not in ("valid", "same"):
        raise SpiDNNConfigurationError(
            f"{what} padding must be 'valid' or 'same', not {value!r}")
    return mode


def window_output(size, kernel, stride, padding):
    """(output length, padding before) of one axis, as TensorFlow: "valid"
    keeps whole windows; "same" gives ceil(size / stride) outputs and puts
    the odd padding element after."""
    if padding == "valid":
        return (size - kernel) // stride + 1 if size >= kernel else 0, 0
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return out, total // 2


def zero_padding_2d(padding):
    """ZeroPadding2D's ``padding`` as ((top, bottom), (left, right))."""
    def amount(v):
        if isinstance(v, bool) or not hasattr(type(v), "__index__") or (
                int(v) < 0):
            raise SpiDNNConfigurationError(
                f"ZeroPadding2D padding must be non-negative integers, "
                f"not {padding!r}")
        return int(v)
    if isinstance(padding, (tuple, list)):
        if len(padding) != 2:
            raise SpiDNNConfigurationError(
                f"ZeroPadding2D padding must be an int, 2 ints or 2 pairs, "
                f"not {padding!r}")
        if all(isinstance(p, (tuple, list)) for p in padding):
            if any(len(p) != 2 for p in padding):
                raise SpiDNNConfigurationError(
                    f"ZeroPadding2D padding pairs must have 2 ints, "
                    f"not {padding!r}")
            return tuple((amount(a), amount(b)) for a, b in padding)
        return tuple((amount(p), amount(p)) for p in padding)
    return ((amount(padding),) * 2,) * 2
