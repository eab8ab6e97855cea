"""ctypes binding of the virtual machine's C library (c_code/vm/vm_api.h)."""
import ctypes
import os

from spiDNN.errors import SpiDNNInternalError

HOST_BINARIES = os.path.join(
    os.path.dirname(os.path.dirname(__file__)), "binaries", "host")

# Results of the run functions, as in vm_results.h.
(VM_OK, VM_STALLED, VM_TIMEOUT, VM_CORE_ERROR, VM_BAD_CALL,
 VM_CONTROL_FAILED, VM_RUNNING) = range(7)
# Kinds of edge core, as in vm_core.h.
CORE_SOURCE, CORE_GATHERER = 1, 2

_u32p = ctypes.POINTER(ctypes.c_uint32)
_i32p = ctypes.POINTER(ctypes.c_int32)
_u64p = ctypes.POINTER(ctypes.c_uint64)
_PROTOTYPES = {
    "vm_create": (ctypes.c_void_p,
                  [ctypes.c_int32, ctypes.c_int32, ctypes.c_uint32]),
    "vm_destroy": (None, [ctypes.c_void_p]),
    "vm_error": (ctypes.c_char_p, [ctypes.c_void_p]),
    "vm_add_chip": (ctypes.c_int32,
                    [ctypes.c_void_p, ctypes.c_int32, ctypes.c_int32]),
    "vm_add_link": (ctypes.c_int, [ctypes.c_void_p] + [ctypes.c_int32] * 5),
    "vm_set_routes": (ctypes.c_int, [
        ctypes.c_void_p, ctypes.c_int32, ctypes.c_int32, ctypes.c_uint32,
        _u32p, _u32p, _u32p]),
    "vm_remove_route": (ctypes.c_int, [
        ctypes.c_void_p, ctypes.c_int32, ctypes.c_int32, ctypes.c_uint32]),
    "vm_n_routes": (ctypes.c_uint32,
                    [ctypes.c_void_p, ctypes.c_int32, ctypes.c_int32]),
    "vm_add_app_core": (ctypes.c_int32, [
        ctypes.c_void_p, ctypes.c_int32, ctypes.c_int32, ctypes.c_int32,
        ctypes.c_char_p, ctypes.c_uint32, _u32p, _u32p, ctypes.c_char_p]),
    "vm_share_code": (ctypes.c_int64,
                      [ctypes.c_void_p, ctypes.c_int32, ctypes.c_char_p]),
    "vm_add_edge_core": (ctypes.c_int32, [ctypes.c_void_p] +
                         [ctypes.c_int32] * 4),
    "vm_start": (ctypes.c_int, [ctypes.c_void_p]),
    "vm_run_samples": (ctypes.c_int, [
        ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint32, _i32p, _u32p,
        _u32p, ctypes.c_uint32, _u32p, _u32p, ctypes.c_uint64,
        ctypes.POINTER(ctypes.c_uint8), ctypes.c_uint32, _u32p, _u32p,
        ctypes.c_int32, ctypes.c_uint32, _u32p]),
    "vm_control": (ctypes.c_int, [
        ctypes.c_void_p, ctypes.c_int32, ctypes.c_uint32, ctypes.c_uint64,
        ctypes.c_uint32, _u32p, _u32p]),
    "vm_inject": (ctypes.c_int, [
        ctypes.c_void_p, ctypes.c_uint32, _i32p, _u32p, _u32p,
        ctypes.c_uint64]),
    "vm_get_outputs": (ctypes.c_uint32, [
        ctypes.c_void_p, ctypes.c_uint32, _u32p, _u32p]),
    "vm_get_core_status": (None, [ctypes.c_void_p, ctypes.c_int32, _u32p]),
    "vm_set_faults": (None, [
        ctypes.c_void_p, ctypes.c_uint64, ctypes.c_float, ctypes.c_float,
        ctypes.c_uint32, ctypes.c_uint32]),
    "vm_add_drop_rule": (ctypes.c_int, [
        ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_uint32,
        ctypes.c_uint64]),
    "vm_set_link_down": (ctypes.c_int,
                         [ctypes.c_void_p, ctypes.c_int32, ctypes.c_int32]),
    "vm_set_stall": (ctypes.c_int, [
        ctypes.c_void_p, ctypes.c_int32, ctypes.c_uint64, ctypes.c_uint64]),
    "vm_get_fault_counts": (None, [ctypes.c_void_p, _u64p]),
    "vm_run_ticks": (ctypes.c_int,
                     [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint64]),
    "vm_set_clock": (None, [ctypes.c_void_p] + [ctypes.c_uint64] * 6),
    "vm_pause_clock": (None, [ctypes.c_void_p, ctypes.c_uint32]),
    "vm_time_passes": (None, [ctypes.c_void_p, ctypes.c_uint64]),
    "vm_set_core_costs": (ctypes.c_int, [
        ctypes.c_void_p, ctypes.c_int32, ctypes.c_uint32, _u64p, _u64p]),
    "vm_get_clock": (None, [ctypes.c_void_p, _u64p]),
    "vm_clock_log": (None, [ctypes.c_void_p, ctypes.c_uint32]),
    "vm_get_clock_log": (ctypes.c_uint32, [
        ctypes.c_void_p, ctypes.c_uint32, _u64p]),
    "vm_get_core_clock": (None, [ctypes.c_void_p, ctypes.c_int32, _u64p]),
    "vm_get_link_clock": (None, [ctypes.c_void_p, ctypes.c_int32, _u64p]),
    "vm_trace_core": (ctypes.c_int, [
        ctypes.c_void_p, ctypes.c_int32, ctypes.c_uint32]),
    "vm_get_trace": (ctypes.c_uint32, [
        ctypes.c_void_p, ctypes.c_int32, ctypes.c_uint32, _u32p, _u32p,
        _u32p]),
    "vm_get_stats": (None, [ctypes.c_void_p] + [_u64p] * 5),
    "vm_get_core_stats": (None, [ctypes.c_void_p, ctypes.c_int32, _u64p]),
    "vm_set_core_partitions": (ctypes.c_int, [
        ctypes.c_void_p, ctypes.c_int32, ctypes.c_uint32, _u32p, _u32p]),
    "vm_get_partition_counts": (None,
                                [ctypes.c_void_p, ctypes.c_int32, _u64p]),
}

_library = None


def library():
    """The VM library, loaded once and globally so apps link against it."""
    global _library
    if _library is None:
        path = os.path.join(HOST_BINARIES, "libspidnn_vm.so")
        if not os.path.exists(path):
            raise SpiDNNInternalError(
                f"{path} is missing: build the C code with `make -C c_code` "
                f"(pip install does this)")
        lib = ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
        for name, (restype, argtypes) in _PROTOTYPES.items():
            function = getattr(lib, name)
            function.restype = restype
            function.argtypes = argtypes
        _library = lib
    return _library


def app_binary(app_name):
    """Path of an app's host build."""
    path = os.path.join(HOST_BINARIES, app_name + ".so")
    if not os.path.exists(path):
        raise SpiDNNInternalError(f"host build {path} is missing")
    return path


def as_pointer(array, ctype):
    """A ctypes pointer into a contiguous numpy array."""
    return array.ctypes.data_as(ctypes.POINTER(ctype))
