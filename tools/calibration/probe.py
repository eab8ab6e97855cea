"""The dense kernel's forward loop measured alone, in the same emulator
and build as the apps (c_code/calibration/probe.c): what the cost
table's dense ``forward`` slope should come to a multiply."""
import os

import numpy

from tools.calibration.arm_core import ArmCore, ArmImage

SIZES = (8, 32, 128, 512)
BUFFER = 3 * 4 * max(SIZES)


def dense_forward(elf, sizes=SIZES, seed=0):
    """(size, instructions, cycles) of one neuron's forward pass over
    ``size`` inputs, for each size; checks the sum it computed."""
    core = ArmCore(ArmImage(elf), [(2, bytes(BUFFER))])
    base = core.region_address(2)
    rng = numpy.random.default_rng(seed)
    results = []
    for n in sizes:
        w, x = (rng.normal(size=n).astype(numpy.float32) for _ in range(2))
        kernel, inputs, out = base, base + 4 * n, base + 8 * n
        core.write(kernel, w.tobytes())
        core.write(inputs, x.tobytes())
        record = core.call("probe_dense_forward", n, kernel, inputs, out)
        expected = numpy.float32(0)
        for a, b in zip(w, x):
            expected = numpy.float32(expected + a * b)
        got = numpy.frombuffer(core.read(out, 4), dtype=numpy.float32)[0]
        assert got == expected, (n, got, expected)
        results.append((n, record.instructions, record.cycles))
    return results


def per_input(results):
    """(instructions, cycles) a multiply: the slopes over the sizes."""
    sizes, instructions, cycles = map(numpy.array, zip(*results))
    return (float(numpy.polyfit(sizes, instructions, 1)[0]),
            float(numpy.polyfit(sizes, cycles, 1)[0]))


if __name__ == "__main__":
    from tools.calibration.measure import ARM_TRACE
    print(per_input(dense_forward(os.path.join(ARM_TRACE, "probe.elf"))))
