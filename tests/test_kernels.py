"""The packet-free maths of the C apps, against numpy, in seconds.

``c_code/kernels/dense_kernel.h`` and ``window_kernel.h`` hold the maths of
the Dense, Conv and pooling apps with no packets, SDRAM or SpiNNaker API.
These tests compile them with the host's gcc into a shared object (through
a small shim that gives their static inline functions linkable wrappers),
load it with ctypes and compare every function with a plain numpy oracle:
no SpiNNaker toolchain, no virtual machine, no Keras.

``window_kernel.h`` needs ``window_params_t`` from the generated header
``spidnn_layouts.h``; it is generated into a temporary folder from
``spiDNN/abi/layouts.py``, the same definition the Python side packs
the region with.
"""
import ctypes
import math
import os
import shutil
import subprocess
import sys

import numpy
import pytest

from spiDNN.abi.layouts import POOL_MODES, WINDOW_PARAMS

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KERNELS = os.path.join(REPO, "c_code", "kernels")
COMMON = os.path.join(REPO, "c_code", "common")
LAYOUTS = os.path.join(REPO, "spiDNN", "abi", "layouts.py")

ATOL = 1e-5
RTOL = 1e-5

SHIM = r"""
// Linkable wrappers of the kernels' static inline functions.
#include <stddef.h>
#include "dense_kernel.h"
#include "window_kernel.h"
#include "spidnn_math.h"
#include "exact_sum.h"

uint32_t shim_window_params_size(void) {
    return (uint32_t) sizeof(window_params_t);
}

void shim_dense_forward(uint32_t n, uint32_t n_in, const float *kernel,
                        const float *bias, const float *x, float *z) {
    dense_forward(n, n_in, kernel, bias, NULL, x, z);
}

void shim_dense_accumulate(uint32_t n, uint32_t n_in, const float *x,
                           const float *delta, float *kernel_grad,
                           float *bias_grad) {
    dense_accumulate(n, n_in, x, delta, kernel_grad, bias_grad);
}

void shim_conv_forward(const window_params_t *w, const float *weights,
                       uint32_t use_bias, uint32_t first, uint32_t n,
                       const float *x, float *z) {
    conv_forward(w, weights, use_bias != 0, first, n, x, z);
}

void shim_conv_accumulate(const window_params_t *w, uint32_t use_bias,
                          uint32_t first, uint32_t n, const float *x,
                          const float *delta, float *grads) {
    conv_accumulate(w, use_bias != 0, first, n, x, delta, grads, 0);
}

float shim_conv_input_gradient(const window_params_t *w,
                               const float *weights, uint32_t b,
                               const float *layer_delta) {
    return conv_input_gradient(w, weights, b, layer_delta);
}

void shim_pool_forward(const window_params_t *w, uint32_t first,
                       uint32_t n, const float *x, float *z) {
    pool_forward(w, first, n, x, z);
}

float shim_pool_input_gradient(const window_params_t *w, const float *x,
                               uint32_t b, const float *layer_delta) {
    return pool_input_gradient(w, x, b, layer_delta);
}

int32_t shim_pool_argmax(const window_params_t *w, uint32_t a,
                         const float *x) {
    return pool_argmax(w, a, x);
}

void shim_sqrtf(const float *x, float *out, uint32_t n) {
    for (uint32_t i = 0; i < n; i++) {
        out[i] = spidnn_sqrtf(x[i]);
    }
}

// The exact sum of n non-negative values added in `parts` interleaved
// sums (value i to sum i % parts), the parts then added word by word
// into the first, as clip_norm.h's receivers add the words of each
// owner's sum; rounded once.
float shim_exact_sum(const float *values, uint32_t n, uint32_t parts) {
    exact_sum_t sums[8];
    for (uint32_t p = 0; p < parts; p++) {
        exact_zero(&sums[p]);
    }
    for (uint32_t i = 0; i < n; i++) {
        exact_add(&sums[i % parts], values[i]);
    }
    for (uint32_t p = 1; p < parts; p++) {
        for (uint32_t k = 0; k < EXACT_WORDS; k++) {
            exact_add_word(&sums[0], k, sums[p].word[k]);
        }
    }
    return exact_to_float(&sums[0]);
}
"""

_F = ctypes.POINTER(ctypes.c_float)
_P = ctypes.c_void_p
_U = ctypes.c_uint32

_SIGNATURES = {
    "shim_window_params_size": (_U, []),
    "shim_dense_forward": (None, [_U, _U, _F, _F, _F, _F]),
    "shim_dense_accumulate": (None, [_U, _U, _F, _F, _F, _F]),
    "shim_conv_forward": (None, [_P, _F, _U, _U, _U, _F, _F]),
    "shim_conv_accumulate": (None, [_P, _U, _U, _U, _F, _F, _F]),
    "shim_conv_input_gradient": (ctypes.c_float, [_P, _F, _U, _F]),
    "shim_pool_forward": (None, [_P, _U, _U, _F, _F]),
    "shim_pool_input_gradient": (ctypes.c_float, [_P, _F, _U, _F]),
    "shim_pool_argmax": (ctypes.c_int32, [_P, _U, _F]),
    "shim_sqrtf": (None, [_F, _F, _U]),
    "shim_exact_sum": (ctypes.c_float, [_F, _U, _U]),
}


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    """The kernels, compiled with the host's gcc and loaded with ctypes."""
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("no gcc on the host")
    build = tmp_path_factory.mktemp("kernels")
    with open(build / "spidnn_layouts.h", "w") as header:
        subprocess.run([sys.executable, LAYOUTS], stdout=header, check=True)
    (build / "test_shim.c").write_text(SHIM)
    so = build / "libspidnn_kernels.so"
    result = subprocess.run(
        [gcc, "-std=gnu11", "-O2", "-fPIC", "-shared", "-ffp-contract=off",
         "-Wall", "-Wextra", f"-I{KERNELS}", f"-I{COMMON}", f"-I{build}",
         str(build / "test_shim.c"), "-o", str(so)],
        capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    loaded = ctypes.CDLL(str(so))
    for name, (restype, argtypes) in _SIGNATURES.items():
        function = getattr(loaded, name)
        function.restype = restype
        function.argtypes = argtypes
    return loaded


# ---- Helpers.

def _f32(array):
    return numpy.ascontiguousarray(array, dtype=numpy.float32)


def _ptr(array):
    assert array.dtype == numpy.float32 and array.flags.c_contiguous
    return array.ctypes.data_as(_F)


class Params:
    """A packed window_params_t that stays alive while it is passed."""

    def __init__(self, **fields):
        values = {name: 0 for name in WINDOW_PARAMS.fields}
        unknown = set(fields) - set(values)
        assert not unknown, unknown
        values.update(fields)
        self.fields = values
        self.buffer = ctypes.create_string_buffer(
            WINDOW_PARAMS.pack(**values), WINDOW_PARAMS.n_bytes)

    def __getattr__(self, name):
        try:
            return self.__dict__["fields"][name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def ptr(self):
        return ctypes.cast(self.buffer, ctypes.c_void_p)


def same_padding(n_in, k, stride):
    """TensorFlow's 'same': (n_out, pad_before)."""
    n_out = math.ceil(n_in / stride)
    total = max((n_out - 1) * stride + k - n_in, 0)
    return n_out, total // 2


def geometry(n_in, k, stride, padding):
    if padding == "same":
        return same_padding(n_in, k, stride)
    assert padding == "valid" and k <= n_in
    return (n_in - k) // stride + 1, 0


def window_params(in_shape, kernel, strides, padding, out_channels,
                  pool_mode=0):
    in_height, in_width, in_channels = in_shape
    out_height, pad_top = geometry(in_height, kernel[0], strides[0], padding)
    out_width, pad_left = geometry(in_width, kernel[1], strides[1], padding)
    return Params(
        in_height=in_height, in_width=in_width, in_channels=in_channels,
        out_height=out_height, out_width=out_width,
        out_channels=out_channels, kernel_height=kernel[0],
        kernel_width=kernel[1], stride_height=strides[0],
        stride_width=strides[1], pad_top=pad_top, pad_left=pad_left,
        pool_mode=pool_mode, filter_first=0,
        n_filters=out_channels if pool_mode == 0 else 0)


def padded(x, w):
    """x (h, w, c) with zeros around it: enough for every window."""
    rows = (w.out_height - 1) * w.stride_height + w.kernel_height
    cols = (w.out_width - 1) * w.stride_width + w.kernel_width
    bottom = max(rows - w.pad_top - w.in_height, 0)
    right = max(cols - w.pad_left - w.in_width, 0)
    return numpy.pad(x, ((w.pad_top, bottom), (w.pad_left, right), (0, 0)))


def windows(w):
    """(oh, ow, [(i, j, ih, iw) of the window's real inputs, row-major])."""
    for oh in range(w.out_height):
        for ow in range(w.out_width):
            cells = []
            for i in range(w.kernel_height):
                for j in range(w.kernel_width):
                    ih = oh * w.stride_height + i - w.pad_top
                    iw = ow * w.stride_width + j - w.pad_left
                    if 0 <= ih < w.in_height and 0 <= iw < w.in_width:
                        cells.append((i, j, ih, iw))
            yield oh, ow, cells


# ---- Numpy oracles (float64).

def conv_oracle_forward(w, x, kernel, bias):
    xp = padded(x.astype(numpy.float64), w)
    z = numpy.zeros((w.out_height, w.out_width, w.out_channels))
    for oh in range(w.out_height):
        for ow in range(w.out_width):
            r, c = oh * w.stride_height, ow * w.stride_width
            patch = xp[r:r + w.kernel_height, c:c + w.kernel_width, :]
            z[oh, ow] = numpy.einsum("ijc,ijcf->f", patch, kernel) + bias
    return z


def conv_oracle_kernel_gradient(w, x, delta):
    xp = padded(x.astype(numpy.float64), w)
    grad = numpy.zeros((w.kernel_height, w.kernel_width, w.in_channels,
                        w.out_channels))
    for oh in range(w.out_height):
        for ow in range(w.out_width):
            r, c = oh * w.stride_height, ow * w.stride_width
            patch = xp[r:r + w.kernel_height, c:c + w.kernel_width, :]
            grad += numpy.einsum("ijc,f->ijcf", patch, delta[oh, ow])
    return grad, delta.sum(axis=(0, 1))


def conv_oracle_input_gradient(w, kernel, delta):
    """The transpose of the forward pass: scatter into the padded input."""
    shape = padded(numpy.zeros((w.in_height, w.in_width, w.in_channels)),
                   w).shape
    dxp = numpy.zeros(shape)
    for oh in range(w.out_height):
        for ow in range(w.out_width):
            r, c = oh * w.stride_height, ow * w.stride_width
            dxp[r:r + w.kernel_height, c:c + w.kernel_width, :] += \
                numpy.einsum("ijcf,f->ijc", kernel, delta[oh, ow])
    return dxp[w.pad_top:w.pad_top + w.in_height,
               w.pad_left:w.pad_left + w.in_width]


def pool_oracle(w, x, delta, mode):
    """(output, dL/dx, argmax element or -1) of max or average pooling."""
    channels = w.in_channels
    z = numpy.zeros((w.out_height, w.out_width, channels))
    dx = numpy.zeros(x.shape)
    argmax = numpy.full((w.out_height, w.out_width, channels), -1)
    for oh, ow, cells in windows(w):
        for c in range(channels):
            if mode == "average":
                z[oh, ow, c] = numpy.mean(
                    [float(x[ih, iw, c]) for _, _, ih, iw in cells])
                for _, _, ih, iw in cells:
                    dx[ih, iw, c] += delta[oh, ow, c] / len(cells)
                continue
            best = None
            for _, _, ih, iw in cells:     # row-major: the first max wins
                if best is None or x[ih, iw, c] > x[best[0], best[1], c]:
                    best = (ih, iw)
            z[oh, ow, c] = x[best[0], best[1], c]
            dx[best[0], best[1], c] += delta[oh, ow, c]
            argmax[oh, ow, c] = (best[0] * w.in_width + best[1]) \
                * channels + c
    return z, dx, argmax


# ---- Calling the C.

def c_conv_forward(lib, w, weights, x, first=0, n=None, use_bias=True):
    n = w.out_height * w.out_width * w.out_channels if n is None else n
    z = numpy.zeros(n, dtype=numpy.float32)
    lib.shim_conv_forward(w.ptr, _ptr(weights), use_bias, first, n, _ptr(x),
                          _ptr(z))
    return z


def c_input_gradients(function, w, data, delta):
    n_in = w.in_height * w.in_width * w.in_channels
    return numpy.array(
        [function(w.ptr, _ptr(data), b, _ptr(delta)) for b in range(n_in)],
        dtype=numpy.float64).reshape(w.in_height, w.in_width, w.in_channels)


def c_pool_forward(lib, w, x, first=0, n=None):
    n = w.out_height * w.out_width * w.out_channels if n is None else n
    z = numpy.zeros(n, dtype=numpy.float32)
    lib.shim_pool_forward(w.ptr, first, n, _ptr(x), _ptr(z))
    return z


def close(actual, expected):
    numpy.testing.assert_allclose(
        numpy.asarray(actual, dtype=numpy.float64).ravel(),
        numpy.asarray(expected, dtype=numpy.float64).ravel(),
        rtol=RTOL, atol=ATOL)


def test_window_params_layout(lib):
    assert lib.shim_window_params_size() == WINDOW_PARAMS.n_bytes
    assert WINDOW_PARAMS.fields[:13] == [
        "in_height", "in_width", "in_channels", "out_height", "out_width",
        "out_channels", "kernel_height", "kernel_width", "stride_height",
        "stride_width", "pad_top", "pad_left", "pool_mode"]


# ---- Dense.

@pytest.mark.parametrize("n_in, units, first, n", [
    (1, 1, 0, 1), (7, 5, 0, 5), (13, 9, 3, 4), (64, 10, 9, 1)])
def test_dense(lib, n_in, units, first, n):
    rng = numpy.random.default_rng(n_in * 100 + units)
    kernel = rng.uniform(-1, 1, (n_in, units))        # Keras' layout
    bias = rng.uniform(-1, 1, units)
    x = _f32(rng.uniform(-1, 1, n_in))
    # The slice's rows: kernel[j * n_in + i] = Keras' kernel[i][first + j].
    rows = _f32(kernel[:, first:first + n].T)
    b = _f32(bias[first:first + n])

    z = numpy.zeros(n, dtype=numpy.float32)
    lib.shim_dense_forward(n, n_in, _ptr(rows), _ptr(b), _ptr(x), _ptr(z))
    close(z, x.astype(numpy.float64) @ _f32(kernel)[:, first:first + n]
          + b)

    # Accumulates two samples onto non-zero gradients.
    x2 = _f32(rng.uniform(-1, 1, n_in))
    deltas = [_f32(rng.uniform(-1, 1, n)) for _ in range(2)]
    kernel_grad = _f32(rng.uniform(-1, 1, (n, n_in)))
    bias_grad = _f32(rng.uniform(-1, 1, n))
    expected_k = kernel_grad.astype(numpy.float64).copy()
    expected_b = bias_grad.astype(numpy.float64).copy()
    for sample, delta in zip((x, x2), deltas):
        lib.shim_dense_accumulate(n, n_in, _ptr(sample), _ptr(delta),
                                  _ptr(kernel_grad), _ptr(bias_grad))
        expected_k += numpy.outer(delta, sample)
        expected_b += delta
    close(kernel_grad, expected_k)
    close(bias_grad, expected_b)


# ---- Convolution.

# (in_height, in_width, channels, filters, kernel, strides, padding);
# height 1 with a 1-high kernel is a Conv1D.
CONV_CASES = [
    (5, 5, 1, 1, (1, 1), (1, 1), "valid"),
    (4, 5, 2, 3, (1, 1), (2, 2), "same"),
    (6, 7, 2, 3, (3, 3), (1, 1), "same"),
    (7, 6, 3, 4, (3, 3), (2, 2), "same"),
    (7, 7, 1, 4, (3, 3), (3, 3), "valid"),
    (8, 9, 2, 2, (5, 5), (3, 3), "same"),
    (9, 8, 3, 2, (5, 3), (2, 3), "valid"),
    (6, 6, 3, 1, (5, 5), (2, 2), "same"),
    (3, 4, 2, 2, (5, 5), (1, 1), "same"),     # window wider than input
    (1, 10, 2, 3, (1, 3), (1, 1), "same"),
    (1, 11, 3, 2, (1, 5), (1, 3), "same"),
    (1, 9, 1, 4, (1, 3), (1, 2), "valid"),
    (1, 12, 2, 1, (1, 5), (1, 2), "same"),
]


def _conv_case(case, seed):
    in_h, in_w, channels, filters, kernel_size, strides, padding = case
    w = window_params((in_h, in_w, channels), kernel_size, strides,
                      padding, filters)
    rng = numpy.random.default_rng(seed)
    x = _f32(rng.uniform(-1, 1, (in_h, in_w, channels)))
    kernel = _f32(rng.uniform(-1, 1, kernel_size + (channels, filters)))
    bias = _f32(rng.uniform(-1, 1, filters))
    delta = _f32(rng.uniform(-1, 1, (w.out_height, w.out_width, filters)))
    weights = _f32(numpy.concatenate([kernel.ravel(), bias]))
    return w, x, kernel, bias, delta, weights, rng


def _case_id(case):
    in_h, in_w, c, f, k, s, padding = case[:7]
    return f"{in_h}x{in_w}x{c}-f{f}-k{k[0]}x{k[1]}-s{s[0]}x{s[1]}-{padding}"


@pytest.mark.parametrize("case", CONV_CASES, ids=_case_id)
def test_conv(lib, case):
    w, x, kernel, bias, delta, weights, rng = _conv_case(case, len(
        _case_id(case)) * 7 + sum(case[:4]))
    n_out = w.out_height * w.out_width * w.out_channels

    # Forward, whole layer and in uneven core slices.
    expected = conv_oracle_forward(w, x, kernel, bias)
    close(c_conv_forward(lib, w, weights, x), expected)
    bounds = sorted({0, n_out, *rng.integers(0, n_out, 3).tolist()})
    sliced = numpy.concatenate([
        c_conv_forward(lib, w, weights, x, lo, hi - lo)
        for lo, hi in zip(bounds, bounds[1:])])
    close(sliced, expected)

    # Kernel gradient: slice by slice onto non-zero gradients.
    start = _f32(rng.uniform(-1, 1, weights.size))
    grads = start.copy()
    flat_delta = delta.ravel()
    for lo, hi in zip(bounds, bounds[1:]):
        lib.shim_conv_accumulate(w.ptr, 1, lo, hi - lo, _ptr(x),
                                 _ptr(flat_delta[lo:hi]), _ptr(grads))
    kernel_grad, bias_grad = conv_oracle_kernel_gradient(w, x, delta)
    close(grads, start + numpy.concatenate(
        [kernel_grad.ravel(), bias_grad]))

    # Input gradient: the transpose of the forward pass.
    close(c_input_gradients(lib.shim_conv_input_gradient, w, weights,
                            flat_delta),
          conv_oracle_input_gradient(w, kernel, delta))


def test_conv_input_gradient_is_transpose_of_forward(lib):
    """<dz, conv(x)> - <dz, b> = <conv^T(dz), x> on a random case."""
    w, x, kernel, bias, delta, weights, _ = _conv_case(
        (7, 6, 3, 4, (3, 3), (2, 2), "same"), 5)
    z = c_conv_forward(lib, w, weights, x).astype(numpy.float64)
    dx = c_input_gradients(lib.shim_conv_input_gradient, w, weights,
                           delta.ravel())
    lhs = numpy.dot(delta.ravel(), z) - numpy.dot(
        delta.reshape(-1, w.out_channels).sum(axis=0), bias)
    assert abs(lhs - numpy.dot(dx.ravel(), x.ravel())) < 1e-4


def test_conv_without_bias(lib):
    """use_bias=False: the weights are the kernel alone, z has no bias and
    the gradients stop at the kernel's."""
    w, x, kernel, _, delta, _, _ = _conv_case(
        (6, 5, 2, 3, (3, 2), (1, 2), "same"), 17)
    zero = numpy.zeros(w.out_channels, dtype=numpy.float32)
    weights = _f32(kernel.ravel())
    close(c_conv_forward(lib, w, weights, x, use_bias=False),
          conv_oracle_forward(w, x, kernel, zero))
    # One float past the kernel that a bias gradient would land on.
    grads = numpy.zeros(weights.size + 1, dtype=numpy.float32)
    n_out = w.out_height * w.out_width * w.out_channels
    lib.shim_conv_accumulate(w.ptr, 0, 0, n_out, _ptr(x),
                             _ptr(delta.ravel()), _ptr(grads))
    kernel_grad, _ = conv_oracle_kernel_gradient(w, x, delta)
    close(grads, numpy.append(kernel_grad.ravel(), 0))


@pytest.mark.parametrize("filter_first, n_filters", [(0, 2), (1, 2), (3, 1)])
def test_conv_filter_subset(lib, filter_first, n_filters):
    """A core whose kernel copy holds filters [f0, f0 + nf) only."""
    case = (6, 5, 2, 4, (3, 3), (2, 1), "same")
    w, x, kernel, bias, delta, _, _ = _conv_case(case, 11)
    sub = Params(**dict(w.fields, filter_first=filter_first,
                        n_filters=n_filters))
    part = slice(filter_first, filter_first + n_filters)
    weights = _f32(numpy.concatenate(
        [kernel[..., part].ravel(), bias[part]]))
    expected = conv_oracle_forward(w, x, kernel, bias)
    kernel_grad, bias_grad = conv_oracle_kernel_gradient(w, x, delta)
    grads = numpy.zeros(weights.size, dtype=numpy.float32)
    for p in range(w.out_height * w.out_width):
        # The output elements of position p that this core's filters make.
        first = p * w.out_channels + filter_first
        z = c_conv_forward(lib, sub, weights, x, first, n_filters)
        close(z, expected.reshape(-1, w.out_channels)[p, part])
        lib.shim_conv_accumulate(sub.ptr, 1, first, n_filters, _ptr(x),
                                 _ptr(_f32(delta.reshape(
                                     -1, w.out_channels)[p, part])),
                                 _ptr(grads))
    close(grads, numpy.concatenate(
        [kernel_grad[..., part].ravel(), bias_grad[part]]))


# ---- Pooling.

# (in_height, in_width, channels, pool, strides, padding)
POOL_CASES = [
    (4, 4, 1, (2, 2), (2, 2), "valid"),
    (5, 5, 2, (2, 2), (2, 2), "same"),
    (5, 5, 2, (2, 2), (2, 2), "valid"),
    (7, 6, 3, (3, 3), (2, 2), "same"),
    (6, 7, 2, (3, 3), (1, 1), "same"),
    (9, 9, 1, (5, 5), (3, 3), "valid"),
    (8, 7, 3, (3, 2), (3, 2), "same"),
    (4, 6, 2, (5, 5), (2, 3), "same"),
    (1, 10, 2, (1, 2), (1, 2), "valid"),
    (1, 11, 3, (1, 3), (1, 2), "same"),
    (1, 7, 1, (1, 5), (1, 1), "same"),
]


def _pool_id(case):
    in_h, in_w, c, k, s, padding = case
    return f"{in_h}x{in_w}x{c}-k{k[0]}x{k[1]}-s{s[0]}x{s[1]}-{padding}"


def _check_pool(lib, w, x, delta, mode):
    n_out = w.out_height * w.out_width * w.out_channels
    z, dx, argmax = pool_oracle(w, x, delta, mode)
    close(c_pool_forward(lib, w, x), z)
    # A core's slice sees the same values.
    lo, hi = n_out // 3, n_out - n_out // 4
    close(c_pool_forward(lib, w, x, lo, hi - lo), z.ravel()[lo:hi])
    close(c_input_gradients(lib.shim_pool_input_gradient, w, x,
                            delta.ravel()), dx)
    if mode == "max":
        got = [lib.shim_pool_argmax(w.ptr, a, _ptr(x)) for a in range(n_out)]
        assert got == argmax.ravel().tolist()


@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize("case", POOL_CASES, ids=_pool_id)
def test_pool(lib, case, mode):
    in_h, in_w, channels, pool, strides, padding = case
    w = window_params((in_h, in_w, channels), pool, strides, padding,
                      channels, POOL_MODES[mode])
    rng = numpy.random.default_rng(sum(case[:3]) + len(_pool_id(case)))
    x = _f32(rng.uniform(-1, 1, (in_h, in_w, channels)))
    delta = _f32(rng.uniform(-1, 1, (w.out_height, w.out_width, channels)))
    _check_pool(lib, w, x, delta, mode)


@pytest.mark.parametrize("values", ["small_integers", "constant",
                                    "negative_constant"])
@pytest.mark.parametrize("case", [
    (6, 7, 2, (3, 3), (1, 1), "same"),
    (5, 5, 1, (2, 2), (2, 2), "same"),
    (1, 9, 2, (1, 4), (1, 2), "same")], ids=_pool_id)
def test_max_pool_ties(lib, case, values):
    """Equal values in a window: the gradient goes to the first in
    row-major order, once, as TensorFlow does."""
    in_h, in_w, channels, pool, strides, padding = case
    w = window_params((in_h, in_w, channels), pool, strides, padding,
                      channels, POOL_MODES["max"])
    rng = numpy.random.default_rng(3)
    shape = (in_h, in_w, channels)
    x = _f32({"small_integers": rng.integers(0, 3, shape),
              "constant": numpy.full(shape, 0.5),
              "negative_constant": numpy.full(shape, -2.0)}[values])
    delta = _f32(rng.uniform(-1, 1, (w.out_height, w.out_width, channels)))
    _check_pool(lib, w, x, delta, "max")


# ---- Zero padding: a 1x1 window whose padding reads as zeros.

@pytest.mark.parametrize("in_shape, top, bottom, left, right", [
    ((4, 5, 2), 1, 1, 2, 0),
    ((3, 3, 1), 0, 2, 0, 1),
    ((5, 4, 3), 3, 0, 0, 0),
    ((2, 2, 2), 2, 2, 2, 2),
    ((1, 6, 3), 0, 0, 2, 3),        # ZeroPadding1D
    ((1, 5, 1), 0, 0, 0, 4),
])
def test_zero_padding(lib, in_shape, top, bottom, left, right):
    in_h, in_w, channels = in_shape
    w = Params(in_height=in_h, in_width=in_w, in_channels=channels,
               out_height=in_h + top + bottom, out_width=in_w + left + right,
               out_channels=channels, kernel_height=1, kernel_width=1,
               stride_height=1, stride_width=1, pad_top=top, pad_left=left,
               pool_mode=POOL_MODES["pad"])
    rng = numpy.random.default_rng(in_h * 10 + in_w)
    x = _f32(rng.uniform(-1, 1, in_shape))
    expected = numpy.pad(x, ((top, bottom), (left, right), (0, 0)))
    close(c_pool_forward(lib, w, x), expected)
    delta = _f32(rng.uniform(-1, 1, expected.shape))
    close(c_input_gradients(lib.shim_pool_input_gradient, w, x,
                            delta.ravel()),
          delta[top:top + in_h, left:left + in_w])
    # Padded outputs read no input; the others read their own element.
    index = numpy.arange(x.size).reshape(in_shape)
    expected_source = numpy.pad(index, ((top, bottom), (left, right),
                                        (0, 0)), constant_values=-1)
    got = [lib.shim_pool_argmax(w.ptr, a, _ptr(x))
           for a in range(expected.size)]
    assert got == expected_source.ravel().tolist()


def test_sqrt_is_correctly_rounded(lib):
    """The optimizers' square root (spidnn_math.h) equals IEEE's, as
    TensorFlow's does, on random bit patterns, subnormals, 0 and inf."""
    rng = numpy.random.default_rng(0)
    bits = rng.integers(0, 0x7F800000, 200_000, dtype=numpy.uint32)
    bits[:1000] = numpy.arange(1000)                 # 0 and subnormals
    bits[1000] = 0x7F800000                          # inf
    x = bits.view(numpy.float32)
    out = numpy.empty_like(x)
    lib.shim_sqrtf(x.ctypes.data_as(_F), out.ctypes.data_as(_F), len(x))
    numpy.testing.assert_array_equal(out.view(numpy.uint32),
                                     numpy.sqrt(x).view(numpy.uint32))
    negative = numpy.array([-1.0, -1e-30], dtype=numpy.float32)
    lib.shim_sqrtf(negative.ctypes.data_as(_F), out.ctypes.data_as(_F), 2)
    assert numpy.all(numpy.isnan(out[:2]))


def _rounded_exactly(values):
    """float32 of the exact sum of ``values`` (float32 each), correctly
    rounded: Python's Fraction sum, then numpy's rounding of the nearest
    double (exact here: a double of the sum's 53 leading bits rounds to
    float32 as the sum does unless it is a float32 tie, which the tests
    avoid by their random significands)."""
    from fractions import Fraction
    total = sum((Fraction(float(v)) for v in values), Fraction(0))
    with numpy.errstate(over="ignore"):
        return numpy.float32(float(total))


def _exact_sum(lib, values, parts):
    values = _f32(values)
    return numpy.float32(lib.shim_exact_sum(
        values.ctypes.data_as(_F), len(values), parts))


def test_exact_sums_round_once_in_any_order_and_grouping(lib):
    """clip_norm.h's sums of squares: the exact sum rounded to float32,
    bit for bit, whatever the order of the values and however they are
    split among sums added word by word (the norms' owners), from
    subnormals to float32's largest values."""
    rng = numpy.random.default_rng(3)
    cases = [
        rng.normal(size=300).astype(numpy.float32) ** 2,
        (rng.normal(size=200) * 10.0 ** rng.integers(
            -23, 18, 200)).astype(numpy.float32) ** 2,
        numpy.array([1e-45, 3e-45, 1.1754942e-38, 2e-39], numpy.float32),
        numpy.array([3.0e38, 3.0e38, 1.0], numpy.float32),   # past float32
        numpy.array([1.0, 2.0 ** -24, 2.0 ** -24], numpy.float32),
        numpy.array([0.0, 0.0], numpy.float32),
    ]
    for values in cases:
        expected = _rounded_exactly(values)
        for parts in (1, 3, 8):
            for order in (values, values[::-1], rng.permutation(values)):
                got = _exact_sum(lib, order, parts)
                assert got.view(numpy.uint32) == expected.view(
                    numpy.uint32), (values[:4], parts, got, expected)


def test_exact_sums_of_inf_and_nan(lib):
    """An infinite value makes the sum infinite; a NaN makes it NaN,
    however the sums are grouped (their flags add by OR)."""
    inf, nan = numpy.float32(numpy.inf), numpy.float32(numpy.nan)
    for parts in (1, 2, 3):
        assert _exact_sum(lib, [1.0, inf, inf, 2.0], parts) == inf
        assert numpy.isnan(_exact_sum(lib, [inf, nan, 1.0], parts))
