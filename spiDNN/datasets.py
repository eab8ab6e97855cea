"""Data sets for spiDNN's examples and benchmarks.

Readers for the IDX files MNIST ships as (:func:`load_idx`,
:func:`load_mnist`), where a local copy of MNIST is expected
(:func:`default_mnist_path`), and scikit-learn's small bundled digits
(:func:`load_digits`), which need no download.  Nothing here is needed to
build or run a model.
"""
import gzip
import os
import struct

import numpy

from spiDNN.errors import SpiDNNConfigurationError

#: IDX data type codes and the (big-endian) numpy types they stand for.
_IDX_TYPES = {
    0x08: numpy.dtype(numpy.uint8),
    0x09: numpy.dtype(numpy.int8),
    0x0B: numpy.dtype(">i2"),
    0x0C: numpy.dtype(">i4"),
    0x0D: numpy.dtype(">f4"),
    0x0E: numpy.dtype(">f8"),
}

#: The four MNIST files: (images, labels) of the training and test sets.
_MNIST_FILES = (("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
                ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"))

#: Pixels of one MNIST image (28 x 28).
MNIST_PIXELS = 784


def load_idx(path):
    """Reads one IDX file (gzip-compressed if its name ends in ``.gz``).

    :return: a numpy array of the shape and data type its header gives
        (multi-byte types converted to native byte order)
    :raises SpiDNNConfigurationError: on a missing, truncated or
        malformed file
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise SpiDNNConfigurationError(f"IDX file {path!r} does not exist")
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as stream:
            data = stream.read()
    except (OSError, EOFError) as error:
        raise SpiDNNConfigurationError(
            f"cannot read IDX file {path!r}: {error}") from error
    if len(data) < 4:
        raise SpiDNNConfigurationError(
            f"{path!r} is not an IDX file: only {len(data)} bytes")
    zero, type_code, n_dims = struct.unpack(">HBB", data[:4])
    if zero != 0 or type_code not in _IDX_TYPES or n_dims == 0:
        raise SpiDNNConfigurationError(
            f"{path!r} is not an IDX file: bad magic number "
            f"0x{data[:4].hex()} (expected 0x0000, a type code among "
            f"{', '.join(f'0x{c:02X}' for c in _IDX_TYPES)} and a number "
            f"of dimensions)")
    header = 4 + 4 * n_dims
    if len(data) < header:
        raise SpiDNNConfigurationError(
            f"IDX file {path!r} is truncated in its header")
    shape = struct.unpack(f">{n_dims}I", data[4:header])
    dtype = _IDX_TYPES[type_code]
    expected = int(numpy.prod(shape, dtype=numpy.int64)) * dtype.itemsize
    if len(data) - header != expected:
        raise SpiDNNConfigurationError(
            f"IDX file {path!r} holds {len(data) - header} bytes of data, "
            f"its header {shape} of {dtype} says {expected}")
    array = numpy.frombuffer(data, dtype=dtype, offset=header)
    return array.reshape(shape).astype(dtype.newbyteorder("="))


def _find(folder, name):
    """The path of ``name`` (or ``name.gz``) in ``folder``."""
    for candidate in (name + ".gz", name):
        path = os.path.join(folder, candidate)
        if os.path.isfile(path):
            return path
    raise SpiDNNConfigurationError(
        f"MNIST file {name}.gz (or {name}) is missing from {folder!r}")


def load_mnist(path):
    """MNIST from a folder holding its four standard IDX files.

    :return: ``(x_train, y_train), (x_test, y_test)``: images flattened to
        (n, 784) float32 in [0, 1], labels int64
    """
    folder = os.fspath(path)
    if not os.path.isdir(folder):
        raise SpiDNNConfigurationError(
            f"MNIST folder {folder!r} does not exist")
    sets = []
    for images_name, labels_name in _MNIST_FILES:
        images_path = _find(folder, images_name)
        labels_path = _find(folder, labels_name)
        images, labels = load_idx(images_path), load_idx(labels_path)
        if images.ndim != 3 or images.shape[1:] != (28, 28):
            raise SpiDNNConfigurationError(
                f"{images_path!r} holds shape {images.shape}, "
                f"not (n, 28, 28) images")
        if labels.ndim != 1 or len(labels) != len(images):
            raise SpiDNNConfigurationError(
                f"{labels_path!r} holds {labels.shape} labels for "
                f"{len(images)} images")
        x = images.reshape(len(images), MNIST_PIXELS).astype(numpy.float32)
        sets.append((x / numpy.float32(255.0), labels.astype(numpy.int64)))
    return sets[0], sets[1]


def default_mnist_path():
    """``../shared/datasets/mnist`` beside the repository, or None."""
    package = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(package)
    path = os.path.normpath(
        os.path.join(root, os.pardir, "shared", "datasets", "mnist"))
    return path if os.path.isdir(path) else None


#: Samples of scikit-learn's digits in the training split (the rest test).
DIGITS_TRAIN = 1437


def load_digits():
    """scikit-learn's bundled 8x8 handwritten digits (1797 samples).

    :return: ``(x_train, y_train), (x_test, y_test)``: x (n, 64) float32
        in [0, 1], labels int64; the first 1437 samples train, the
        remaining 360 test
    """
    from sklearn.datasets import load_digits as sklearn_digits
    digits = sklearn_digits()
    x = digits.data.astype(numpy.float32) / numpy.float32(16.0)
    y = digits.target.astype(numpy.int64)
    return ((x[:DIGITS_TRAIN], y[:DIGITS_TRAIN]),
            (x[DIGITS_TRAIN:], y[DIGITS_TRAIN:]))
