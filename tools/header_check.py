"""Checks c_code/include/ (the project's subset of the spin1 and FEC
headers, for the host and calibration builds) against the real SDK's.

The board build compiles against the real headers; the virtual machine
and the calibration against the subset.  Both must mean the same: each
constant the same value, each function the same signature, each type the
same type and each struct the same layout.  The subset's headers are read
(they are small and plainly written: object-like ``#define``s, enums,
typedefs, structs and prototypes), and two ARM compilations answer:

- the numbers (constants, sizes, offsets) are compiled once against the
  subset and once against the real headers, as a table of words in the
  assembly, and compared name by name;
- the types are checked inside the real headers' compilation: each
  prototype and typedef of the subset, written out again, must be
  compatible with the real declaration (``__builtin_types_compatible_p``).

``python -m tools.header_check SPINN_DIRS [FEC_SOURCE]`` prints what
differs and exits 1 if anything does.  FEC_SOURCE, front-end-common's
``c_common/front_end_common_lib/src``, holds the constants the real
headers leave to the source (the data specification's magic number).
"""
import collections
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SUBSET = os.path.join(ROOT, "c_code", "include")
ARM_CC = os.environ.get("ARM_CC", "arm-none-eabi-gcc")
FLAGS = ["-std=gnu11", "-mthumb-interwork", "-march=armv5te", "-mthumb",
         "-DTHUMB", "-ffreestanding", "-O0", "-S", "-o", "-"]

#: What the subset has that the real headers do not, and why.
SUBSET_ONLY = {
    # The host's log sink: the subset's log_* macros call it; on the
    # board FEC's converter rewrites log_* into io_printf calls.
    "spin1_log": "the host build's log sink",
}
#: Constants the real code names otherwise.
REAL_NAMES = {"MAX_MEM_REGIONS": "N_REGIONS"}
#: Struct sizes that differ on purpose: the subset gives the regions'
#: count (FEC's N_REGIONS), which the real struct leaves to a flexible
#: array member.
OPEN_ENDED = {"data_specification_metadata_t": "regions"}

Function = collections.namedtuple("Function", "name ret params")
Struct = collections.namedtuple("Struct", "name fields")   # (type, name, n)


def _strip_comments(text):
    return re.sub(r"//[^\n]*|/\*.*?\*/", "", text, flags=re.S)


def parse(folder=SUBSET):
    """The subset's declarations: {constants}, [functions], {typedefs},
    [structs], [function-like macros]."""
    constants, functions, typedefs, structs, macros = {}, [], {}, [], []
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".h"):
            continue
        with open(os.path.join(folder, name)) as f:
            text = _strip_comments(f.read())
        for m in re.finditer(r"^#define\s+(\w+)(\(?)[ \t]*(.*)$", text, re.M):
            if m.group(2):
                macros.append(m.group(1))
            elif m.group(3).strip():
                constants[m.group(1)] = m.group(3).strip()
        text = re.sub(r"^#.*$", "", text, flags=re.M)
        for m in re.finditer(r"typedef\s+enum\s*\w*\s*\{(.*?)\}\s*(\w+)\s*;",
                             text, re.S):
            for item in m.group(1).split(","):
                key, _, value = item.partition("=")
                constants[key.strip()] = value.strip()
            typedefs[m.group(2)] = None
        for m in re.finditer(
                r"typedef\s+struct\s+\w*\s*\{(.*?)\}\s*(\w+)\s*;", text, re.S):
            fields = []
            for decl in filter(None, map(str.strip, m.group(1).split(";"))):
                f = re.match(r"(.*?)(\w+)\s*(?:\[(\w+)\])?$", decl, re.S)
                fields.append((f.group(1).strip(), f.group(2), f.group(3)))
            structs.append(Struct(m.group(2), fields))
            typedefs[m.group(2)] = None
        text = re.sub(r"typedef\s+(enum|struct)\s*\w*\s*\{.*?\}\s*\w+\s*;",
                      "", text, flags=re.S)
        for m in re.finditer(r"typedef\s+([^;]*?)\s*;", text, re.S):
            declarator = m.group(1)
            name_ = re.findall(r"\w+", re.sub(r"\(([^*()]*)\)\s*$", "",
                                              declarator))[-1]
            typedefs[name_] = re.sub(rf"\b{name_}\b", "", declarator, 1)
        text = re.sub(r"typedef\s+[^;]*;", "", text)
        attribute = r"(?:__attribute__\s*\(\(\w+\)\)\s*)?"
        for m in re.finditer(rf"({attribute}[\w\s\*]+?)\s*\b(\w+)\s*"
                             r"\(([^()]*)\)\s*;", text, re.S):
            functions.append(Function(m.group(2), " ".join(m.group(1).split()),
                                      " ".join(m.group(3).split())))
    return constants, functions, typedefs, structs, macros


def _facts(constants, typedefs, structs):
    """[(what, C expression)]: the numbers both compilations evaluate."""
    facts = [(name, name) for name in constants]
    facts += [(f"sizeof({name})", f"sizeof({name})") for name in typedefs]
    for struct in structs:
        for type_, field, count in struct.fields:
            facts.append((f"offsetof({struct.name}, {field})",
                          f"__builtin_offsetof({struct.name}, {field})"))
            element = f"((({struct.name} *) 0)->{field})"
            facts.append((f"sizeof({struct.name}.{field}"
                          f"{'[0]' if count else ''})",
                          f"sizeof({element}{'[0]' if count else ''})"))
    return facts


def _words(source, includes):
    """The words of ``spidnn_facts`` in ``source`` compiled for the ARM."""
    with tempfile.NamedTemporaryFile("w", suffix=".c") as f:
        f.write(source)
        f.flush()
        done = subprocess.run(
            [ARM_CC, *FLAGS, *(f"-I{d}" for d in includes), f.name],
            capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(done.stderr)
    table = done.stdout.split("spidnn_facts:", 1)[1]
    words = []
    for line in table.splitlines()[1:]:
        m = re.match(r"\s*\.word\s+(-?\d+)", line)
        if not m:
            if re.match(r"\s*\.", line) and not words:
                continue
            break
        words.append(int(m.group(1)) & 0xFFFFFFFF)
    return words


def _table(facts, prelude):
    lines = [prelude, "const unsigned int spidnn_facts[] = {"]
    lines += [f"    (unsigned int) ({expr}),  /* {what} */"
              for what, expr in facts]
    return "\n".join(lines + ["};", ""])


def check(spinn_dirs, fec_source=None, subset=SUBSET):
    """What differs between ``subset`` and the real headers: [] if
    nothing."""
    constants, functions, typedefs, structs, macros = parse(subset)
    headers = sorted(n for n in os.listdir(subset) if n.endswith(".h"))
    includes = "".join(f'#include "{n}"\n' for n in headers)
    real_includes = "#include <sark.h>\n" + "".join(
        f"#include <{n}>\n" for n in headers)
    problems = []
    source_constants = {}
    if fec_source:
        # The constants FEC keeps in its source, not its headers.
        real_includes += f'#include "{fec_source}/data_specification.c"\n'
    else:
        source_constants = {k: v for k, v in constants.items()
                            if k.startswith("DATA_SPECIFICATION_")
                            or k in REAL_NAMES}
        problems += [f"{k}: unchecked, no FEC source folder given (with "
                     "SPINN_DIRS set, make arm-check FEC_SOURCE=<your "
                     "c_common/front_end_common_lib/src>)"
                     for k in source_constants]
    checked = {k: v for k, v in constants.items()
               if k not in source_constants}
    facts = _facts(checked, typedefs, structs)
    ours = _words(_table(facts, includes), [subset])
    real_facts = [(what, REAL_NAMES.get(expr, expr)) for what, expr in facts]
    real_facts = [(w, e) for w, e in real_facts if not _open_ended(w)]
    real_source = _table(real_facts, real_includes + _type_checks(
        functions, typedefs, macros))
    try:
        real = dict(zip((w for w, _ in real_facts),
                        _words(real_source, [f"{spinn_dirs}/include"])))
    except RuntimeError as error:
        return problems + [
            "the subset's types differ from the real headers':\n"
            + "\n".join(line for line in str(error).splitlines()
                        if "error" in line)]
    for (what, _), value in zip(facts, ours):
        if what in real and real[what] != value:
            problems.append(f"{what}: {value} in c_code/include, "
                            f"{real[what]} in the SDK")
    return problems


def _open_ended(what):
    return any(what == f"sizeof({name})" or
               what == f"sizeof({name}.{field})"
               for name, field in OPEN_ENDED.items())


def _type_checks(functions, typedefs, macros):
    """Static assertions, in the real headers' compilation, that the
    subset's prototypes and typedefs name the same types."""
    lines = []
    for fn in functions:
        if fn.name in SUBSET_ONLY:
            continue
        # The subset's prototype under another name: a declaration keeps
        # attributes that are part of the type (noreturn), which a type
        # name would drop.
        lines.append(f"{fn.ret} spidnn_subset_{fn.name}({fn.params});")
        lines.append(
            f"_Static_assert(__builtin_types_compatible_p("
            f"__typeof__(&{fn.name}), __typeof__(&spidnn_subset_{fn.name})), "
            f"\"{fn.name}: the subset declares {fn.ret} {fn.name}"
            f"({fn.params})\");")
    for name, declarator in typedefs.items():
        if declarator is not None:
            lines.append(
                f"_Static_assert(__builtin_types_compatible_p({name}, "
                f"{declarator}), \"{name}: the subset's typedef is "
                f"{declarator}\");")
    # The subset's function-like macros (log_*) stand for functions the
    # real headers declare.
    lines += [f"static void *const spidnn_declared_{name} = (void *) &{name};"
              for name in macros if name not in SUBSET_ONLY]
    return "\n".join(lines) + "\n"


def main(argv):
    problems = check(*argv)
    for problem in problems:
        print(problem)
    if not problems:
        print("c_code/include agrees with the SDK's headers")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
