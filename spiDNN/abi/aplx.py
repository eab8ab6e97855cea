"""A SpiNNaker application image (``.aplx``) read back, and its fit checked.

spinnaker_tools' ``mkaplx`` writes a 64-byte header of four 16-byte
records (four little-endian words: operation, destination, source or
length, length) that SARK's loader obeys in turn, then the image: the
code and read-only data (``RO_DATA``, linked at ITCM address 0), padded to
a word, then the initialised data (``RW_DATA``, linked at DTCM's base),
padded to a word::

    RCOPY  0x00000000  64                 RO bytes   (source: from record 0)
    RCOPY  0x00400000  64 + RO - 16       RW bytes   (from record 1)
    FILL   0x00400000 + RW  ZI bytes  0              (zeroed data, .bss)
    EXEC   0x00000000  0  0

(a record with no bytes to copy or fill is written as zeros).  The limits
are sark.lnk's: ITCM below 0x7F00 for the image (SARK keeps the rest),
DTCM below 0xF800 for the data and heap (the stacks take the 2 KiB above).
The heap left (less SARK's heap headers) must hold what the virtual
machine lets a core allocate (``layouts.DTCM_HEAP_BYTES``), or a model
the planner fitted could run out of DTCM on the board.

``python3 aplx.py FILE...`` (the board build runs it on every app it
builds) prints each image's use and fails if one does not fit.  Standard
library only: it runs before anything is installed.
"""
import dataclasses
import hashlib
import os
import struct
import sys

if __package__:
    from spiDNN.abi import layouts
else:                       # run as a script by the C build
    import layouts

APLX_RCOPY, APLX_FILL, APLX_EXEC = 2, 3, 4
HEADER_BYTES = 64
RECORD = struct.Struct("<4I")
ITCM_BASE = 0x00000000
DTCM_BASE = 0x00400000
#: sark.lnk: the ITCM an app's image may take, and the DTCM below the
#: stacks (STACK_TOP 0x410000 less STACK_SIZE 0x800).
ITCM_APP_BYTES = 0x7F00
DTCM_APP_BYTES = 0xF800
#: What SARK's heap keeps of its area (sark_heap_init): the heap_t header
#: (16 bytes) and the first and last block headers (8 each).  Each
#: allocation then takes 8 bytes more, which the VM does not count.
HEAP_HEADER_BYTES = 32


class AplxError(ValueError):
    """A file that is not a SpiNNaker application image, or one that does
    not fit the core."""


@dataclasses.dataclass(frozen=True)
class Aplx:
    """A parsed image: the bytes each section takes and the code itself."""
    path: str
    ro_bytes: int
    rw_bytes: int
    zi_bytes: int
    #: RO_DATA: the code and read-only data, as loaded into ITCM.
    code: bytes

    @property
    def dtcm_static_bytes(self):
        return self.rw_bytes + self.zi_bytes

    @property
    def heap_bytes(self):
        """The bytes SARK's DTCM heap can hand out: what the data leaves
        below the stacks, less the heap's own headers."""
        return DTCM_APP_BYTES - self.dtcm_static_bytes - HEAP_HEADER_BYTES


def _records(data, path):
    if len(data) < HEADER_BYTES:
        raise AplxError(f"{path}: {len(data)} bytes, shorter than the "
                        f"{HEADER_BYTES}-byte APLX header")
    return [RECORD.unpack_from(data, 16 * i) for i in range(4)]


def read(path):
    """The image at ``path``; AplxError if its header does not describe
    exactly the bytes that follow, as mkaplx writes them."""
    with open(path, "rb") as f:
        data = f.read()
    ro, rw, fill, execute = _records(data, path)
    problems = []
    if ro[:2] != (APLX_RCOPY, ITCM_BASE):
        problems.append(f"record 0 is {ro}, not an RCOPY to ITCM")
    if ro[2] != HEADER_BYTES:
        problems.append(f"the code starts at {ro[2]}, not after the header")
    ro_bytes = ro[3]
    rw_bytes = zi_bytes = 0
    if rw != (0, 0, 0, 0):
        if rw[:2] != (APLX_RCOPY, DTCM_BASE) or rw[2] != (
                HEADER_BYTES + ro_bytes - 16):
            problems.append(f"record 1 is {rw}, not an RCOPY of the data "
                            "after the code to DTCM")
        rw_bytes = rw[3]
    if fill != (0, 0, 0, 0):
        if fill[:2] != (APLX_FILL, DTCM_BASE + rw_bytes) or fill[3] != 0:
            problems.append(f"record 2 is {fill}, not a FILL with zeros "
                            "after the data")
        zi_bytes = fill[2]
    if execute != (APLX_EXEC, ITCM_BASE, 0, 0):
        problems.append(f"record 3 is {execute}, not an EXEC at ITCM 0")
    expected = HEADER_BYTES + _word(ro_bytes) + _word(rw_bytes)
    if len(data) != expected:
        problems.append(f"{len(data)} bytes, but the header describes "
                        f"{expected}")
    if problems:
        raise AplxError(f"{path}: not a SpiNNaker application image as "
                        "mkaplx writes it: " + "; ".join(problems))
    return Aplx(path, ro_bytes, rw_bytes, zi_bytes,
                data[HEADER_BYTES:HEADER_BYTES + ro_bytes])


def _word(n):
    return (n + 3) & ~3


def application_hash(app_name):
    """The word front-end-common's simulation_initialise compares with
    the system region's: the first 32 bits of md5(app name), as local.mk
    compiles it in (APPLICATION_NAME_HASH) and the toolchain writes it."""
    return int(hashlib.md5(app_name.encode()).hexdigest()[:8], 16)


def fit_problems(image):
    """What keeps ``image`` from running on a core: [] if it fits."""
    problems = []
    if image.ro_bytes > ITCM_APP_BYTES:
        problems.append(f"its code takes {image.ro_bytes} bytes of ITCM, "
                        f"more than the {ITCM_APP_BYTES} an app has")
    if image.heap_bytes < layouts.DTCM_HEAP_BYTES:
        problems.append(
            f"its static data takes {image.dtcm_static_bytes} bytes of "
            f"DTCM, leaving a heap of {image.heap_bytes}, less than the "
            f"{layouts.DTCM_HEAP_BYTES} the virtual machine lets a core "
            "allocate (layouts.DTCM_HEAP_BYTES)")
    return problems


def describe(image):
    return (f"{os.path.basename(image.path)}: ITCM {image.ro_bytes} of "
            f"{ITCM_APP_BYTES} bytes, DTCM data {image.dtcm_static_bytes} "
            f"(heap {image.heap_bytes}, {layouts.DTCM_HEAP_BYTES} needed)")


def main(paths):
    failed = False
    for path in paths:
        try:
            image = read(path)
        except AplxError as error:
            print(error, file=sys.stderr)
            failed = True
            continue
        print(describe(image))
        for problem in fit_problems(image):
            print(f"{path} does not fit a core: {problem}", file=sys.stderr)
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
