"""ARM968E-S cycles of the instructions in a basic block.

The ARM968E-S is an ARM9E-S integer core with tightly coupled memories;
its Technical Reference Manual (ARM DDI 0311) refers to the ARM9E-S TRM
(ARM DDI 0165B, chapter 8, "Instruction Cycle Times") for instruction
timings, which the ARM9EJ-S TRM (ARM DDI 0222B, section 8.1, table 8.2
"ARM instruction cycle counts") repeats for the same core.  With the
ITCM and DTCM at zero wait states every fetch and data access takes one
cycle, so the tables' counts are the cycles:

=============================================  =========================
data processing                                1
  with a register-specified shift              2 (Thumb LSL/LSR/ASR/ROR
                                               Rd, Rs included)
  writing the PC: ADD/SUB/RSB/ADC/SBC          3
  writing the PC: logical (MOV, ORR, ...)      4, or 4 with a shift
MUL, MLA / MULS, MLAS (Thumb MUL sets flags)   2 / 4
UMULL, SMULL, UMLAL, SMLAL / with S            3 / 5
LDR, LDRB/H/SB/SH, STR, STRB/H                 1 (LDR with a scaled
                                               register offset 2)
  the next instruction uses a loaded word      +1 (load-use interlock)
  ... a loaded byte or halfword                +2, or +1 for the one
                                               after next
LDR into the PC                                5
LDM, POP / STM, PUSH of n registers            n, and 2 for one register
  loading the PC                               n + 4
  the next instruction uses the last word      +1
B, BL, BX, BLX (taken), SWI                    3 (pipeline refill)
conditional branch not taken                   1
Thumb BL / BLX immediate                       two instructions: 1 + 3
=============================================  =========================

Where the tables leave room, this model takes the simple reading:
interlocks are counted inside a basic block only (a load that ends a
block and a use that begins the next are rare: blocks end at branches);
a conditional ARM instruction in the middle of a block costs what it
costs when executed (the soft-float library's conditional instructions
are all single-cycle data processing but a few register shifts), while
one that ends a block (a conditional branch or return) costs its taken
cycles if the next block is not the fall-through and 1 otherwise.  The
store-data and multiply-accumulate interlocks (C read port) count as
ordinary uses.  Interrupt and memory-system effects outside the TCMs
are not modelled.

Instructions are counted as the architecture defines them: a Thumb BL is
two 16-bit instructions.
"""
import collections

#: One decoded instruction: its cycles when it falls through and when it
#: branches (equal for non-branches), whether it always branches, the
#: registers it reads (a bit mask), and for loads the registers loaded
#: and how many cycles later the data is ready (1 word, 2 byte/halfword).
Instruction = collections.namedtuple(
    "Instruction", "size cycles taken_cycles always_taken reads loads "
                   "load_latency")

#: A basic block's costs: instructions and cycles when it falls through
#: and when it branches, and the running totals up to each instruction
#: (inclusive), for a mark in the middle of the block.
Block = collections.namedtuple(
    "Block", "end n seq_cycles taken_cycles always_taken offsets "
             "prefix_instructions prefix_cycles")

PC, LR, SP = 15, 14, 13
DESCRIPTION = (
    "ARM968E-S (ARM9E-S core) cycles per the ARM9E-S TRM (ARM DDI 0165B) "
    "ch. 8 / ARM9EJ-S TRM (DDI 0222B) table 8.2, ITCM/DTCM zero wait "
    "states: data processing 1 (register shift 2, PC destination 3-4), "
    "MUL 2 / MULS (Thumb MUL) 4, long multiply 3 / 5 with S, LDR/STR 1 "
    "+1 load-use interlock (+2 byte/halfword), LDR pc 5, LDM/STM n "
    "registers max(n, 2), +4 loading pc, taken branch 3, untaken 1; "
    "Thumb BL counted as its two halves (1 + 3); interlocks within a "
    "basic block only; conditional ARM instructions mid-block as executed")


def _bits(value, low, n):
    return (value >> low) & ((1 << n) - 1)


def _popcount(mask):
    return bin(mask).count("1")


def _multiple(n, loads_pc):
    """LDM/STM cycles: n registers, 2 for one, n + 4 when loading pc."""
    if loads_pc:
        return n + 4
    return max(n, 2)


def _plain(size, cycles, reads=0, loads=0, latency=0):
    return Instruction(size, cycles, cycles, False, reads, loads, latency)


def _branch(size, taken, conditional, reads=0):
    """A branch: `taken` cycles; 1 when a conditional one falls through."""
    return Instruction(size, 1 if conditional else taken, taken,
                       not conditional, reads, 0, 0)


def decode_thumb(hw, next_hw=None):
    """One Thumb-1 (ARMv5TE) instruction of halfword ``hw``."""
    top5 = hw >> 11
    r0, r3, r6, r8 = (_bits(hw, 0, 3), _bits(hw, 3, 3), _bits(hw, 6, 3),
                      _bits(hw, 8, 3))
    if top5 < 3:                       # LSL/LSR/ASR Rd, Rs, #imm
        return _plain(2, 1, 1 << r3)
    if top5 == 3:                      # ADD/SUB Rd, Rs, Rn or #imm3
        reads = 1 << r3
        if not hw & (1 << 10):
            reads |= 1 << r6
        return _plain(2, 1, reads)
    if top5 < 8:                       # MOV/CMP/ADD/SUB Rd, #imm8
        op = _bits(hw, 11, 2)
        return _plain(2, 1, 0 if op == 0 else 1 << r8)
    if hw >> 10 == 0b010000:           # ALU operations
        op = _bits(hw, 6, 4)
        reads = 1 << r3 if op in (9, 15) else (1 << r3) | (1 << r0)
        cycles = {2: 2, 3: 2, 4: 2, 7: 2, 13: 4}.get(op, 1)
        return _plain(2, cycles, reads)
    if hw >> 10 == 0b010001:           # high registers, BX, BLX
        op = _bits(hw, 8, 2)
        rd = r0 | (_bits(hw, 7, 1) << 3)
        rs = _bits(hw, 3, 4)
        if op == 3:
            return _branch(2, 3, False, 1 << rs)
        if op == 1:
            return _plain(2, 1, (1 << rs) | (1 << rd))
        reads = (1 << rs) | ((1 << rd) if op == 0 else 0)
        if rd == PC:                   # ADD pc (arithmetic) / MOV pc
            return _branch(2, 3 if op == 0 else 4, False, reads)
        return _plain(2, 1, reads)
    if top5 == 0b01001:                # LDR Rd, [pc, #imm]
        return _plain(2, 1, 0, 1 << r8, 1)
    if hw >> 12 == 0b0101:             # load/store, register offset
        op = _bits(hw, 9, 3)
        reads = (1 << r3) | (1 << r6)
        if op < 3:                     # STR, STRH, STRB
            return _plain(2, 1, reads | (1 << r0))
        return _plain(2, 1, reads, 1 << r0, 1 if op == 4 else 2)
    if hw >> 13 == 0b011 or hw >> 12 == 0b1000:
        # LDR/STR(B) and LDRH/STRH with an immediate offset
        is_load = bool(hw & (1 << 11))
        word = hw >> 13 == 0b011 and not hw & (1 << 12)
        if not is_load:
            return _plain(2, 1, (1 << r3) | (1 << r0))
        return _plain(2, 1, 1 << r3, 1 << r0, 1 if word else 2)
    if hw >> 12 == 0b1001:             # SP-relative load/store
        if hw & (1 << 11):
            return _plain(2, 1, 1 << SP, 1 << r8, 1)
        return _plain(2, 1, (1 << SP) | (1 << r8))
    if hw >> 12 == 0b1010:             # ADD Rd, pc/sp, #imm
        return _plain(2, 1, 1 << SP)
    if hw >> 8 == 0b10110000:          # ADD/SUB sp, #imm
        return _plain(2, 1, 1 << SP)
    if hw & 0xF600 == 0xB400:          # PUSH / POP
        rlist = _bits(hw, 0, 8)
        extra = _bits(hw, 8, 1)
        n = _popcount(rlist) + extra
        if hw & (1 << 11):             # POP
            if extra:
                return _branch(2, _multiple(n, True), False, 1 << SP)
            last = 1 << (rlist.bit_length() - 1) if rlist else 0
            return _plain(2, _multiple(n, False), 1 << SP, last, 1)
        return _plain(2, _multiple(n, False),
                      (1 << SP) | rlist | (extra << LR))
    if hw >> 8 == 0xBE:                # BKPT
        return _plain(2, 1)
    if hw >> 12 == 0b1100:             # LDMIA / STMIA
        rlist = _bits(hw, 0, 8)
        n = _popcount(rlist)
        if hw & (1 << 11):
            last = 1 << (rlist.bit_length() - 1) if rlist else 0
            return _plain(2, _multiple(n, False), 1 << r8, last, 1)
        return _plain(2, _multiple(n, False), (1 << r8) | rlist)
    if hw >> 12 == 0b1101:             # conditional branch, SWI
        cond = _bits(hw, 8, 4)
        if cond == 0xF:
            return _branch(2, 3, False)
        return _branch(2, 3, True)
    if top5 == 0b11100:                # B
        return _branch(2, 3, False)
    if top5 == 0b11110:                # BL/BLX prefix: sets LR
        return _plain(2, 1)
    if top5 in (0b11111, 0b11101):     # BL / BLX suffix: the branch
        return _branch(2, 3, False, 1 << LR)
    return _plain(2, 1)                # undefined: not in the apps


_ARITHMETIC = {2, 3, 4, 5, 6, 7}      # SUB RSB ADD ADC SBC RSC


def decode_arm(w):
    """One ARM (ARMv5TE) instruction of word ``w``."""
    cond = w >> 28
    conditional = cond != 0xE
    rn, rd, rs, rm = (_bits(w, 16, 4), _bits(w, 12, 4), _bits(w, 8, 4),
                      _bits(w, 0, 4))
    if cond == 0xF:                    # BLX immediate (v5), or hints
        if _bits(w, 25, 3) == 0b101:
            return _branch(4, 3, False)
        return _plain(4, 1)
    if w & 0x0FFFFFD0 == 0x012FFF10:   # BX / BLX Rm
        return _branch(4, 3, conditional, 1 << rm)
    if _bits(w, 25, 3) == 0b101:       # B / BL
        return _branch(4, 3, conditional)
    if w & 0x0FC000F0 == 0x00000090:   # MUL / MLA
        accumulate = bool(w & (1 << 21))
        cycles = 4 if w & (1 << 20) else 2
        reads = (1 << rm) | (1 << rs) | ((1 << rd) if accumulate else 0)
        return _plain(4, cycles, reads)
    if w & 0x0F8000F0 == 0x00800090:   # UMULL, UMLAL, SMULL, SMLAL
        accumulate = bool(w & (1 << 21))
        cycles = 5 if w & (1 << 20) else 3
        reads = (1 << rm) | (1 << rs) | (
            ((1 << rd) | (1 << rn)) if accumulate else 0)
        return _plain(4, cycles, reads)
    if w & 0x0FB00FF0 == 0x01000090:   # SWP
        return _plain(4, 2, (1 << rn) | (1 << rm), 1 << rd, 1)
    if w & 0x0E000090 == 0x00000090 and w & 0x60:
        # LDRH/STRH/LDRSB/LDRSH (and v5TE LDRD/STRD)
        load = bool(w & (1 << 20))
        reads = (1 << rn) | (0 if w & (1 << 22) else 1 << rm)
        if not load:
            return _plain(4, 1, reads | (1 << rd))
        return _plain(4, 1, reads, 1 << rd, 2)
    if w & 0x0FFF0FF0 == 0x016F0F10:   # CLZ
        return _plain(4, 1, 1 << rm)
    if w & 0x0FB00000 == 0x01000000 or w & 0x0DB00000 == 0x01200000:
        return _plain(4, 2, 1 << rm)   # MRS / MSR: not in the apps
    if _bits(w, 26, 2) == 0b00:        # data processing
        op = _bits(w, 21, 4)
        immediate = bool(w & (1 << 25))
        register_shift = not immediate and bool(w & (1 << 4))
        shifted = not immediate and _bits(w, 4, 8) != 0
        reads = 0 if op in (13, 15) else 1 << rn
        if not immediate:
            reads |= 1 << rm
            if register_shift:
                reads |= 1 << rs
        cycles = 2 if register_shift else 1
        if rd == PC and op not in (8, 9, 10, 11):
            taken = 4 if (op not in _ARITHMETIC or shifted) else 3
            return Instruction(4, 1 if conditional else taken + cycles - 1,
                               taken + cycles - 1, not conditional, reads,
                               0, 0)
        return _plain(4, cycles, reads)
    if _bits(w, 26, 2) == 0b01:        # LDR/STR(B)
        register = bool(w & (1 << 25))
        scaled = register and _bits(w, 4, 8) != 0
        load = bool(w & (1 << 20))
        reads = (1 << rn) | ((1 << rm) if register else 0)
        if not load:
            return _plain(4, 2 if scaled else 1, reads | (1 << rd))
        if rd == PC:
            taken = 6 if scaled else 5
            return Instruction(4, 1 if conditional else taken, taken,
                               not conditional, reads, 0, 0)
        byte = bool(w & (1 << 22))
        return _plain(4, 2 if scaled else 1, reads, 1 << rd,
                      2 if byte else 1)
    if _bits(w, 25, 3) == 0b100:       # LDM / STM
        rlist = _bits(w, 0, 16)
        n = _popcount(rlist)
        if w & (1 << 20):
            if rlist & (1 << PC):
                taken = _multiple(n, True)
                return Instruction(4, 1 if conditional else taken, taken,
                                   not conditional, 1 << rn, 0, 0)
            last = 1 << (rlist.bit_length() - 1) if rlist else 0
            return _plain(4, _multiple(n, False), 1 << rn, last, 1)
        return _plain(4, _multiple(n, False), (1 << rn) | rlist)
    if _bits(w, 24, 4) == 0xF:         # SWI
        return _branch(4, 3, False)
    return _plain(4, 1)                # coprocessor: not in the apps


def decode_block(code, thumb):
    """The instructions of one basic block's bytes."""
    instructions = []
    offset = 0
    while offset < len(code):
        if thumb:
            hw = int.from_bytes(code[offset:offset + 2], "little")
            instruction = decode_thumb(hw)
        else:
            instruction = decode_arm(
                int.from_bytes(code[offset:offset + 4], "little"))
        instructions.append(instruction)
        offset += instruction.size
    return instructions


def _interlocks(instructions):
    """Load-use stall cycles charged to each load of the block."""
    stalls = [0] * len(instructions)
    for i, instruction in enumerate(instructions):
        if not instruction.loads:
            continue
        following = instructions[i + 1:i + 3]
        if following and following[0].reads & instruction.loads:
            stalls[i] = instruction.load_latency
        elif (instruction.load_latency == 2 and len(following) == 2
              and following[0].cycles == 1
              and following[1].reads & instruction.loads):
            stalls[i] = 1     # a byte or halfword used one later
    return stalls


def block_costs(address, code, thumb):
    """A :py:data:`Block` for the bytes ``code`` at ``address``."""
    instructions = decode_block(code, thumb)
    stalls = _interlocks(instructions)
    offsets, prefix_n, prefix_cycles = [], [], []
    total = 0
    offset = 0
    for i, (instruction, stall) in enumerate(zip(instructions, stalls)):
        last = i == len(instructions) - 1
        offsets.append(address + offset)
        offset += instruction.size
        total += stall + (0 if last else instruction.cycles)
        prefix_n.append(i + 1)
        # A mark's store is never the block's branch: sequential cycles.
        prefix_cycles.append(total + (instruction.cycles if last else 0))
    last = instructions[-1]
    return Block(
        end=address + offset, n=len(instructions),
        seq_cycles=total + last.cycles, taken_cycles=total
        + last.taken_cycles, always_taken=last.always_taken,
        offsets={a: i for i, a in enumerate(offsets)},
        prefix_instructions=prefix_n, prefix_cycles=prefix_cycles)
