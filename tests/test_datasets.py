"""The IDX reader on files written here, and the bundled digits."""
import gzip
import struct

import numpy
import pytest

from spiDNN.datasets import load_digits, load_idx, load_mnist
from spiDNN.errors import SpiDNNConfigurationError


def write_idx(path, array, type_code=0x08):
    header = struct.pack(">BBBB", 0, 0, type_code, array.ndim) + struct.pack(
        f">{array.ndim}I", *array.shape)
    data = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wb") as handle:
        handle.write(data)


@pytest.mark.parametrize("name", ["images-idx3-ubyte", "images.gz"])
def test_idx_round_trip(tmp_path, name):
    array = numpy.arange(2 * 3 * 4, dtype=numpy.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / name, array)
    numpy.testing.assert_array_equal(load_idx(tmp_path / name), array)


def test_idx_float_and_bad_magic(tmp_path):
    array = numpy.linspace(-1, 1, 6, dtype=numpy.float32)
    write_idx(tmp_path / "f", array, 0x0D)
    numpy.testing.assert_array_equal(load_idx(tmp_path / "f"), array)
    (tmp_path / "bad").write_bytes(b"\x01\x02\x08\x01\x00\x00\x00\x01\x00")
    with pytest.raises(SpiDNNConfigurationError, match="magic"):
        load_idx(tmp_path / "bad")


def test_mnist_folder(tmp_path):
    rng = numpy.random.default_rng(0)
    for prefix, n in (("train", 5), ("t10k", 3)):
        write_idx(tmp_path / f"{prefix}-images-idx3-ubyte.gz",
                  rng.integers(0, 256, (n, 28, 28), dtype=numpy.uint8))
        write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte.gz",
                  rng.integers(0, 10, n, dtype=numpy.uint8))
    (x, y), (xt, yt) = load_mnist(tmp_path)
    assert x.shape == (5, 784) and xt.shape == (3, 784)
    assert x.dtype == numpy.float32 and 0 <= x.min() and x.max() <= 1
    assert y.shape == (5,) and yt.shape == (3,)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(SpiDNNConfigurationError, match="t10k-labels"):
        load_mnist(tmp_path)


def test_digits_split():
    (x, y), (xt, yt) = load_digits()
    assert x.shape == (1437, 64) and xt.shape == (360, 64)
    assert x.max() == 1.0 and set(numpy.unique(y)) == set(range(10))
