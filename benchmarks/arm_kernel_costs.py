"""Instructions the ARM build of the layer maths executes, measured in an
ARM instruction-set emulator: the first step towards issue 10's virtual
clock.

The kernels (``c_code/kernels/``), the optimizer steps
(``c_code/common/optimizer.h``) and the square root are compiled for the
ARM968 with the ARM check's flags (``arm-none-eabi-gcc -mcpu=arm968e-s
-mthumb -mfloat-abi=soft -Os``, linked with libgcc's soft float).  Each is
then run in unicorn (PyPI) over a grid of sizes, counting the instructions
executed.  A straight line ``a + b * size`` is fitted per function.

    PYTHONPATH=. python benchmarks/arm_kernel_costs.py

Prints the table and writes benchmarks/results/arm_kernel_costs.json,
with the SHA-256 of the sources it was measured from.  It needs unicorn
and pyelftools (``pip install unicorn pyelftools``) and Debian's
gcc-arm-none-eabi.  The published figures are in
benchmarks/published/arm_kernel_costs.json.
"""
import hashlib
import os
import subprocess
import sys
import tempfile

import numpy

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _ROOT)
from spiDNN.abi import layouts  # noqa: E402
from results_file import write_json  # noqa: E402

DEFAULT_OUTPUT = os.path.join("benchmarks", "results",
                              "arm_kernel_costs.json")
FLAGS = ["-mcpu=arm968e-s", "-mthumb", "-mfloat-abi=soft", "-Os",
         "-ffreestanding", "-std=gnu11", "-DAPPLICATION_NAME_HASH=0"]
SOURCES = ["c_code/kernels/dense_kernel.h", "c_code/common/optimizer.h",
           "c_code/common/spidnn_math.h"]

# Entry points with plain signatures around the static inline maths.
SHIM = r"""
#include <stdint.h>
#include "dense_kernel.h"
#include "optimizer.h"

void spin1_memcpy(void *dst, void const *src, uint len) {
    char *d = dst;
    const char *s = src;
    while (len--) {
        *d++ = *s++;
    }
}
void *spin1_malloc(uint bytes) { (void) bytes; return 0; }
void rt_error(uint code, ...) { (void) code; for (;;) {} }
void spin1_log(uint32_t level, const char *format, ...) {
    (void) level; (void) format;
}

void cost_dense_forward(uint32_t n_in, const float *kernel,
                        const float *x, float *z) {
    static const float bias[1] = {0.0f};
    dense_forward(1, n_in, kernel, bias, NULL, x, z);
}

void cost_dense_accumulate(uint32_t n_in, const float *x,
                           const float *delta, float *grad) {
    static float bias_grad[1];
    dense_accumulate(1, n_in, x, delta, grad, bias_grad);
}

float cost_sqrt(float x) {
    return spidnn_sqrtf(x);
}

void cost_optimizer_step(const optimizer_t *o, float *w, float *g,
                         float *s0, float *s1, uint32_t n) {
    trained_t t = {w, g, {s0, s1}, n};
    trained_step(o, &t, 0.01f, 0.01f);
}
"""

CODE, DATA, STACK, RETURN = 0x10000, 0x2000000, 0x3000000, 0x4000000


def build(folder):
    """The shim's ELF, compiled and linked for the ARM968."""
    with open(os.path.join(folder, "spidnn_layouts.h"), "w") as header:
        header.write(layouts.c_header())
    shim = os.path.join(folder, "shim.c")
    with open(shim, "w") as out:
        out.write(SHIM)
    elf = os.path.join(folder, "shim.elf")
    subprocess.run(
        ["arm-none-eabi-gcc", *FLAGS, "-I", os.path.join(_ROOT, "c_code",
                                                        "kernels"),
         "-I", os.path.join(_ROOT, "c_code", "common"),
         "-I", os.path.join(_ROOT, "c_code", "include"), "-I", folder,
         "-nostdlib", "-nostartfiles", f"-Wl,-Ttext=0x{CODE:x}",
         "-Wl,--entry=0", shim, "-lgcc", "-o", elf],
        check=True, capture_output=True, text=True)
    return elf


class Emulator:
    """The ELF loaded in unicorn; ``call`` counts instructions."""

    def __init__(self, elf):
        from elftools.elf.elffile import ELFFile
        from elftools.elf.sections import SymbolTableSection
        from unicorn import UC_ARCH_ARM, UC_HOOK_CODE, UC_MODE_ARM, Uc
        self.uc = Uc(UC_ARCH_ARM, UC_MODE_ARM)
        self.symbols = {}
        with open(elf, "rb") as stream:
            elffile = ELFFile(stream)
            for segment in elffile.iter_segments():
                if segment["p_type"] != "PT_LOAD":
                    continue
                start = segment["p_vaddr"] & ~0xFFF
                end = segment["p_vaddr"] + segment["p_memsz"]
                self.uc.mem_map(start, (end - start + 0xFFF) & ~0xFFF)
                self.uc.mem_write(segment["p_vaddr"], segment.data())
            for section in elffile.iter_sections():
                if isinstance(section, SymbolTableSection):
                    for symbol in section.iter_symbols():
                        self.symbols[symbol.name] = symbol["st_value"]
        self.uc.mem_map(DATA, 0x100000)
        self.uc.mem_map(STACK - 0x10000, 0x10000)
        self.uc.mem_map(RETURN, 0x1000)
        self.count = 0

        def counted(uc, address, size, user):
            self.count += 1
        self.uc.hook_add(UC_HOOK_CODE, counted)

    def write(self, offset, array):
        data = numpy.ascontiguousarray(array).tobytes()
        self.uc.mem_write(DATA + offset, data)
        return DATA + offset

    def call(self, name, *args):
        """Instructions executed by ``name(*args)``: words, the first four
        in r0-r3 and the rest on the stack, as the ARM procedure call
        standard passes them."""
        from unicorn.arm_const import (
            UC_ARM_REG_LR, UC_ARM_REG_R0, UC_ARM_REG_SP)
        words = [int(value) & 0xFFFFFFFF for value in args]
        for i, value in enumerate(words[:4]):
            self.uc.reg_write(UC_ARM_REG_R0 + i, value)
        stack = STACK - 64
        self.uc.mem_write(stack, numpy.uint32(words[4:]).tobytes())
        self.uc.reg_write(UC_ARM_REG_SP, stack)
        self.uc.reg_write(UC_ARM_REG_LR, RETURN)
        self.count = 0
        self.uc.emu_start(self.symbols[name], RETURN)
        return self.count


def _fit(sizes, counts):
    slope, intercept = numpy.polyfit(sizes, counts, 1)
    return {"per_element": float(slope), "fixed": float(intercept),
            "sizes": list(sizes), "instructions": list(counts)}


def measure(emulator):
    rng = numpy.random.default_rng(0)
    table = {}
    sizes = [8, 32, 128, 512]
    counts = []
    for n in sizes:
        w = rng.normal(size=n).astype(numpy.float32)
        v = rng.normal(size=n).astype(numpy.float32)
        kernel, x = emulator.write(0, w), emulator.write(0x10000, v)
        counts.append(emulator.call("cost_dense_forward", n, kernel, x,
                                    DATA + 0x20000))
        # The emulated ARM code computed the sum: the harness is sound.
        z = numpy.frombuffer(emulator.uc.mem_read(DATA + 0x20000, 4),
                             dtype=numpy.float32)[0]
        expected = numpy.float32(0)
        for a, b in zip(w, v):
            expected = numpy.float32(expected + a * b)
        assert z == expected, (z, expected)
    table["dense_forward (one neuron, per input)"] = _fit(sizes, counts)
    counts = []
    for n in sizes:
        x = emulator.write(0, rng.normal(size=n).astype(numpy.float32))
        delta = emulator.write(0x10000, numpy.float32([0.3]))
        grad = emulator.write(0x20000, numpy.zeros(n, numpy.float32))
        counts.append(emulator.call("cost_dense_accumulate", n, x, delta,
                                    grad))
    table["dense_accumulate (one neuron, per input)"] = _fit(sizes, counts)
    values = rng.uniform(1e-6, 1e3, 200).astype(numpy.float32)
    sqrt_counts = [emulator.call("cost_sqrt", v.view(numpy.uint32))
                   for v in values]
    table["spidnn_sqrtf (per call)"] = {
        "mean": float(numpy.mean(sqrt_counts)),
        "min": int(min(sqrt_counts)), "max": int(max(sqrt_counts))}
    for name, kind, momentum in (("sgd", "sgd", 0.0),
                                 ("sgd momentum", "sgd", 0.9),
                                 ("adam", "adam", 0.0),
                                 ("rmsprop", "rmsprop", 0.0)):
        fields = [layouts.OPTIMIZERS[kind], _bits(momentum), 0,
                  _bits(0.1), _bits(0.001), _bits(0.9), _bits(0.1),
                  _bits(1e-7), 0, 0, 0]
        optimizer = emulator.write(0x30000, numpy.uint32(fields))
        counts = []
        for n in sizes:
            arrays = [emulator.write(0x40000 + 0x8000 * k,
                                     rng.normal(size=n).astype(
                                         numpy.float32) ** 2)
                      for k in range(4)]
            counts.append(emulator.call("cost_optimizer_step", optimizer,
                                        *arrays, n))
        table[f"optimizer step {name} (per weight)"] = _fit(sizes, counts)
    return table


def _bits(value):
    return int(numpy.float32(value).view(numpy.uint32))


def main(argv=None):
    output = argv[0] if argv else DEFAULT_OUTPUT
    with tempfile.TemporaryDirectory() as folder:
        emulator = Emulator(build(folder))
        table = measure(emulator)
    sources = {path: hashlib.sha256(
        open(os.path.join(_ROOT, path), "rb").read()).hexdigest()
        for path in SOURCES}
    compiler = subprocess.run(["arm-none-eabi-gcc", "--version"],
                              capture_output=True, text=True).stdout
    result = {"flags": FLAGS, "compiler": compiler.splitlines()[0],
              "sources": sources, "costs": table}
    for name, cost in table.items():
        if "per_element" in cost:
            print(f"{name:45s} {cost['per_element']:8.1f} instructions "
                  f"per element + {cost['fixed']:7.1f}")
        else:
            print(f"{name:45s} {cost['mean']:8.1f} instructions "
                  f"({cost['min']} to {cost['max']})")
    write_json(result, output)
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
