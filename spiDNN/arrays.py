"""Checking what users pass as data, with errors that name it."""
import numpy

from spiDNN.errors import SpiDNNConfigurationError


def numeric_array(values, what):
    """``values`` as a numpy array of numbers (or booleans), or a clear
    error naming ``what`` ("inputs", "labels")."""
    try:
        array = numpy.asarray(values)
    except Exception as error:   # ragged nested lists and the like
        raise SpiDNNConfigurationError(
            f"{what} are not an array of numbers: {error}") from error
    if array.dtype == object or not (
            numpy.issubdtype(array.dtype, numpy.number)
            or array.dtype == bool):
        raise SpiDNNConfigurationError(
            f"{what} must be numeric, got dtype {array.dtype}")
    return array


def check_finite(array, what):
    """Refuses values that are NaN or infinite in float32, the machine's
    precision (1e39 is a finite float64 but not a float32)."""
    with numpy.errstate(over="ignore", invalid="ignore"):
        finite = numpy.isfinite(array) & (
            numpy.abs(array) <= numpy.finfo(numpy.float32).max)
    if not numpy.all(finite):
        raise SpiDNNConfigurationError(
            f"{what} contain NaN or infinite values (in float32, the "
            f"machine's precision)")
