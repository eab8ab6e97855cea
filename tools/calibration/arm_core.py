"""One SpiNNaker core's app, built for the ARM968 (``make -C c_code
arm-trace``), running in the unicorn instruction-set emulator.

The harness plays spin1's event loop from outside: it calls ``c_main``,
then delivers packets to the registered packet callback and drains the
task queue that ``spin1_schedule_callback`` fills (c_code/calibration/
platform.c).  Every callback is measured: instructions and ARM968 cycles
(cycle_model), and the cost marks it passes (common/cost.h), each with
the instruction and cycle count where it was written.

Counting is per basic block (``UC_HOOK_BLOCK``), not per instruction: a
block's costs are decoded once and cached by address; whether its last
instruction branched is known when the next block starts (not the
fall-through: taken).
"""
import collections
import struct

from tools.calibration import cycle_model

ITCM, ITCM_BYTES = 0x00000000, 32 * 1024
DTCM, DTCM_BYTES = 0x00400000, 64 * 1024
SDRAM = 0x60000000
COMMS = 0x70000000
#: Where a callback returns to: the emulator stops there.
RETURN = 0x7F000000

#: spin1 events (c_code/include/spin1_api.h).
MC_PACKET_RECEIVED, USER_EVENT, MCPL_PACKET_RECEIVED = 0, 4, 5
N_EVENTS = 6
DS_MAGIC, DS_VERSION, MAX_REGIONS = 0xAD130AD6, 0x00010000, 32
TASK_QUEUE_SIZE = 64
STACK_PAINT = 0xC5C5C5C5

#: A cost mark: its point and size, and the counts where it was written.
Mark = collections.namedtuple("Mark", "point size instructions cycles")


class Callback:
    """What one callback did: its kind ("packet", "task" or "main"), its
    function's name, instructions and cycles, its marks in order and the
    packets it sent ((key, payload, has payload) each)."""

    def __init__(self, kind, function):
        self.kind = kind
        self.function = function
        self.instructions = 0
        self.cycles = 0
        self.marks = []
        self.sent = []

    def entry(self):
        """(instructions, cycles) from the start to the first mark, or the
        whole callback if it passes none."""
        if self.marks:
            return self.marks[0].instructions, self.marks[0].cycles
        return self.instructions, self.cycles

    def segments(self):
        """(point, size, instructions, cycles) from each mark to the next
        or to the return."""
        ends = [(m.instructions, m.cycles) for m in self.marks[1:]] + [
            (self.instructions, self.cycles)]
        return [(m.point, m.size, end[0] - m.instructions,
                 end[1] - m.cycles) for m, end in zip(self.marks, ends)]


class RuntimeErrorOnCore(Exception):
    """The app called rt_error, or the emulation failed."""


def _elf(path):
    """(loadable sections as (address, bytes, writable), symbols)."""
    from elftools.elf.elffile import ELFFile
    from elftools.elf.sections import SymbolTableSection
    sections, symbols = [], {}
    with open(path, "rb") as stream:
        elf = ELFFile(stream)
        for section in elf.iter_sections():
            if not section["sh_flags"] & 0x2:          # SHF_ALLOC
                continue
            nobits = section["sh_type"] == "SHT_NOBITS"
            data = (b"\0" * section["sh_size"] if nobits
                    else section.data())
            sections.append((section.name, section["sh_addr"], data))
        for section in elf.iter_sections():
            if isinstance(section, SymbolTableSection):
                for symbol in section.iter_symbols():
                    if symbol.name and not symbol.name.startswith("$"):
                        symbols[symbol.name] = (symbol["st_value"],
                                                symbol["st_size"],
                                                symbol["st_info"]["type"])
    return sections, symbols


class ArmImage:
    """An app's ELF, read once: its sections, symbols and the block cost
    cache every core running it shares (the code is the same)."""

    def __init__(self, path):
        self.path = path
        self.sections, self.symbols = _elf(path)
        self.blocks = {}
        functions = sorted((value & ~1, name) for name, (value, size, kind)
                           in self.symbols.items() if kind == "STT_FUNC")
        self._functions = functions

    def address(self, name):
        return self.symbols[name][0]

    def function_at(self, address):
        """The name of the function holding ``address``."""
        name = "?"
        for start, candidate in self._functions:
            if start > address:
                break
            name = candidate
        return name

    def sizes(self):
        """Bytes of ITCM (code and constants), of static DTCM (the app's
        globals and the platform's few) and of the heap spin1_malloc
        hands out (DTCM_HEAP_BYTES, as the VM gives each core)."""
        itcm = sum(len(data) for _, address, data in self.sections
                   if ITCM <= address < DTCM)
        dtcm = sum(len(data) for _, address, data in self.sections
                   if DTCM <= address < COMMS)
        heap = sum(size for name, (_, size, _) in self.symbols.items()
                   if name == "spidnn_heap")
        return {"itcm_bytes": itcm, "dtcm_static_bytes": dtcm - heap,
                "dtcm_heap_bytes": heap}


class ArmCore:
    """One core: the image loaded into a fresh emulator with the core's
    SDRAM regions, ``c_main`` run."""

    def __init__(self, image, regions):
        from unicorn import (UC_ARCH_ARM, UC_HOOK_BLOCK, UC_HOOK_MEM_WRITE,
                             UC_MODE_THUMB, Uc)
        from unicorn.arm_const import UC_CPU_ARM_946
        self.image = image
        uc = self.uc = Uc(UC_ARCH_ARM, UC_MODE_THUMB)
        # The ARM946E-S: ARMv5TE on the same ARM9E-S core as the ARM968.
        uc.ctl_set_cpu_model(UC_CPU_ARM_946)
        uc.mem_map(ITCM, ITCM_BYTES)
        uc.mem_map(DTCM, DTCM_BYTES)
        comms = max((address + len(data) for _, address, data
                     in image.sections if address >= COMMS), default=COMMS)
        uc.mem_map(COMMS, _pages(comms - COMMS))
        uc.mem_map(RETURN, 0x1000)
        uc.mem_write(RETURN, b"\xfe\xe7" * 8)        # b . (never run)
        for name, address, data in image.sections:
            if address < COMMS and data:
                uc.mem_write(address, data)
        sdram = _sdram_image(regions)
        uc.mem_map(SDRAM, _pages(len(sdram)))
        uc.mem_write(SDRAM, sdram)
        self._write_word("spidnn_data_address", SDRAM)
        self.stack_top = DTCM + DTCM_BYTES
        self.stack_bottom = image.address("_stack_bottom")
        uc.mem_write(self.stack_bottom, struct.pack("<I", STACK_PAINT) * (
            (self.stack_top - self.stack_bottom) // 4))
        self._block = None          # the block running now
        self.instructions = 0       # of the finished blocks
        self.cycles = 0
        self._current = None        # the Callback being measured
        self.error = None
        self.logs = []
        uc.hook_add(UC_HOOK_BLOCK, self._on_block)
        mark = image.address("spidnn_cost_mark")
        uc.hook_add(UC_HOOK_MEM_WRITE, self._on_mark, begin=mark,
                    end=mark + 3)
        error = image.address("spidnn_rt_error")
        uc.hook_add(UC_HOOK_MEM_WRITE, self._on_error, begin=error,
                    end=error + 3)
        log = image.address("spidnn_log")
        uc.hook_add(UC_HOOK_MEM_WRITE, self._on_log, begin=log, end=log + 3)
        self.main = self._call(image.address("c_main"), (), "main")

    # ---- Memory.

    def _word(self, name, index=0):
        address = self.image.address(name) + 4 * index
        return struct.unpack("<I", self.uc.mem_read(address, 4))[0]

    def _write_word(self, name, value, index=0):
        self.uc.mem_write(self.image.address(name) + 4 * index,
                          struct.pack("<I", value & 0xFFFFFFFF))

    def _string(self, address, limit=200):
        """A C string of the app's constants (ITCM)."""
        if not ITCM <= address < ITCM + ITCM_BYTES:
            return f"<string at {address:#x}>"
        limit = min(limit, ITCM + ITCM_BYTES - address)
        data = bytes(self.uc.mem_read(address, limit))
        return data.split(b"\0")[0].decode(errors="replace")

    # ---- Hooks.

    def _on_block(self, uc, address, size, _):
        block = self._block
        if block is not None:
            self.instructions += block.n
            if block.always_taken or address != block.end:
                self.cycles += block.taken_cycles
            else:
                self.cycles += block.seq_cycles
        if address == RETURN:
            self._block = None
            return
        key = (address, size)
        block = self.image.blocks.get(key)
        if block is None:
            from unicorn.arm_const import UC_ARM_REG_CPSR
            thumb = bool(uc.reg_read(UC_ARM_REG_CPSR) & 0x20)
            block = cycle_model.block_costs(
                address, bytes(uc.mem_read(address, size)), thumb)
            self.image.blocks[key] = block
        self._block = block

    def _position(self):
        """(instructions, cycles) up to and including the instruction
        writing memory now."""
        from unicorn.arm_const import UC_ARM_REG_PC
        block = self._block
        index = block.offsets[self.uc.reg_read(UC_ARM_REG_PC) & ~1]
        return (self.instructions + block.prefix_instructions[index],
                self.cycles + block.prefix_cycles[index])

    def _on_mark(self, uc, access, address, size, value, _):
        if address != self.image.address("spidnn_cost_mark"):
            return         # the size, [1]: the point's write comes next
        instructions, cycles = self._position()
        self._current.marks.append(Mark(
            value, self._word("spidnn_cost_mark", 1), instructions, cycles))

    def _on_error(self, uc, access, address, size, value, _):
        if address == self.image.address("spidnn_rt_error"):
            self.error = value
            uc.emu_stop()

    def _on_log(self, uc, access, address, size, value, _):
        if address == self.image.address("spidnn_log"):
            fmt = self._string(self._word("spidnn_log", 1))
            self.logs.append((value, fmt, [self._word("spidnn_log", i)
                                           for i in (2, 3, 4)]))

    # ---- Calls.

    def _call(self, function, args, kind):
        """Runs ``function(*args)`` to its return; its :py:class:`Callback`
        record."""
        from unicorn import UcError
        from unicorn.arm_const import (
            UC_ARM_REG_CPSR, UC_ARM_REG_LR, UC_ARM_REG_PC, UC_ARM_REG_R0,
            UC_ARM_REG_SP)
        record = Callback(kind, self.image.function_at(function & ~1))
        self._current = record
        self.instructions = self.cycles = 0
        self._block = None
        self._write_word("spidnn_outbox_count", 0)
        uc = self.uc
        for i, value in enumerate(args):
            uc.reg_write(UC_ARM_REG_R0 + i, value & 0xFFFFFFFF)
        uc.reg_write(UC_ARM_REG_SP, self.stack_top)
        uc.reg_write(UC_ARM_REG_LR, RETURN | 1)
        # Callbacks are Thumb functions: their pointers carry bit 0.
        uc.reg_write(UC_ARM_REG_CPSR,
                     (uc.reg_read(UC_ARM_REG_CPSR) | 0x20)
                     if function & 1 else
                     uc.reg_read(UC_ARM_REG_CPSR) & ~0x20)
        try:
            uc.emu_start(function | 1 if function & 1 else function,
                         RETURN, count=50_000_000)
        except UcError as error:
            raise RuntimeErrorOnCore(
                f"{record.function}: emulation failed ({error}) at "
                f"{uc.reg_read(UC_ARM_REG_PC):#x}") from None
        if self.error is not None:
            raise RuntimeErrorOnCore(
                f"{record.function}: rt_error({self.error}); log "
                f"{self.logs[-3:]}")
        if uc.reg_read(UC_ARM_REG_PC) & ~1 != RETURN:
            raise RuntimeErrorOnCore(
                f"{record.function}: did not return "
                f"(pc {uc.reg_read(UC_ARM_REG_PC):#x})")
        if self._block is not None:        # its return: a taken branch
            self.instructions += self._block.n
            self.cycles += self._block.taken_cycles
            self._block = None
        record.instructions, record.cycles = self.instructions, self.cycles
        record.sent = self._outbox()
        self._current = None
        return record

    def _outbox(self):
        n = self._word("spidnn_outbox_count")
        if self._word("spidnn_outbox_overflow"):
            raise RuntimeErrorOnCore("the calibration outbox overflowed")
        if n == 0:
            return []
        data = self.uc.mem_read(self.image.address("spidnn_outbox"), 16 * n)
        words = struct.unpack(f"<{4 * n}I", data)
        return [(words[4 * i], words[4 * i + 1], words[4 * i + 2])
                for i in range(n)]

    def write(self, address, data):
        self.uc.mem_write(address, bytes(data))

    def read(self, address, n_bytes):
        return bytes(self.uc.mem_read(address, n_bytes))

    def region_address(self, region):
        """Where region ``region`` of the SDRAM block starts."""
        return struct.unpack("<I", self.read(SDRAM + 8 + 12 * region, 4))[0]

    def call(self, name, *args):
        """Any function of the image by name (a kernel probe)."""
        return self._call(self.image.address(name), args, "call")

    def deliver(self, key, payload, has_payload):
        """A packet, then the tasks it queued (and theirs), in order: the
        callbacks run (none if no callback takes the packet, as on the
        chip)."""
        event = MCPL_PACKET_RECEIVED if has_payload else MC_PACKET_RECEIVED
        callback = self._word("spidnn_callbacks", event)
        done = []
        if callback:
            done.append(self._call(callback, (key, payload), "packet"))
        return done + self.drain()

    def drain(self):
        """Runs queued callbacks until the queue is empty."""
        done = []
        while True:
            head = self._word("spidnn_task_head")
            if head == self._word("spidnn_task_tail"):
                break
            slot = head % TASK_QUEUE_SIZE
            function, arg0, arg1 = (self._word("spidnn_tasks", 3 * slot + i)
                                    for i in range(3))
            self._write_word("spidnn_task_head", head + 1)
            if function == 0:
                function = self._word("spidnn_callbacks", USER_EVENT)
            done.append(self._call(function, (arg0, arg1), "task"))
        if self._word("spidnn_tasks_dropped"):
            raise RuntimeErrorOnCore("the calibration task queue overflowed")
        return done

    def stack_bytes_used(self):
        """The deepest the stack has been (the paint it overwrote)."""
        data = bytes(self.uc.mem_read(
            self.stack_bottom, self.stack_top - self.stack_bottom))
        paint = struct.pack("<I", STACK_PAINT)
        untouched = 0
        while data[untouched:untouched + 4] == paint:
            untouched += 4
        return self.stack_top - self.stack_bottom - untouched

    def heap_bytes_used(self):
        return self._word("spidnn_heap_used")


def _pages(n_bytes):
    return max(0x1000, (n_bytes + 0xFFF) & ~0xFFF)


def _sdram_image(regions):
    """The core's SDRAM block as the VM lays it out (c_code/vm/
    vm_machine.c, build_sdram): the data specification header with each
    region's pointer and size in words, then the regions, word aligned;
    pointers are the ARM's addresses."""
    header = 4 * (2 + 3 * MAX_REGIONS)
    table = [0] * (3 * MAX_REGIONS)
    body = bytearray()
    for region, content in regions:
        content = bytes(content)
        table[3 * region] = SDRAM + header + len(body)
        table[3 * region + 2] = (len(content) + 3) // 4
        body += content + b"\0" * (-len(content) % 4)
    return struct.pack(f"<{2 + 3 * MAX_REGIONS}I", DS_MAGIC, DS_VERSION,
                       *table) + bytes(body)
