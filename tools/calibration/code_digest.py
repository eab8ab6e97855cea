"""What the cost table was measured on, as one SHA-256: the code and data
the ARM builds of the measured apps load (every allocated section of
their calibration ELFs, build/arm-trace/<app>.elf).  A table whose digest
differs is stale (tests/test_cost_table.py).

It keys on the compiled code, not on source text: a comment, a renamed
file or a moved Python module leaves the costs as they were and the
digest with them, while a changed flag, constant or line of C that
changes an instruction changes both.
"""
import hashlib

from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile


def elf_digest(digest, path):
    """Adds the loaded sections of the ELF at ``path`` to ``digest``."""
    with open(path, "rb") as file:
        elf = ELFFile(file)
        for section in elf.iter_sections():
            if not section["sh_flags"] & SH_FLAGS.SHF_ALLOC:
                continue          # debug information, comments, symbols
            data = (b"" if section["sh_type"] == "SHT_NOBITS"
                    else section.data())
            digest.update(f"{section.name}\0{section['sh_addr']}\0"
                          f"{section['sh_size']}\0".encode())
            digest.update(data)


def code_digest(elf_paths):
    """SHA-256 over the loaded sections of {app: ELF path}, by app name."""
    digest = hashlib.sha256()
    for app in sorted(elf_paths):
        digest.update(f"{app}\0".encode())
        elf_digest(digest, elf_paths[app])
    return digest.hexdigest()
