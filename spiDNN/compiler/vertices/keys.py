"""Key spaces: how a receiving core reads a sender's neuron index.

PACMAN allocates one key block per (layer, partition); each core of the
layer gets ``base + (core index << atom_bits)`` and numbers its neurons in
the low bits.  Receivers need ``base``, ``atom_bits`` and the slice size to
turn a key back into an index (``key_space.h``); this module derives them
from the toolchain's routing information and checks that the allocation has
the shape the C apps rely on.
"""
from spiDNN.errors import SpiDNNInternalError


def atom_bits_of(mask):
    """Number of low key bits a key-and-mask leaves to the atoms."""
    return ((~mask) & 0xFFFFFFFF).bit_length()


def key_space(app_vertex, partition_id):
    """``dict`` with base, atom_bits, atoms_per_core and n_atoms.

    :param app_vertex: the sending layer's application vertex
    """
    # Receivers ask for the same space once per core: keep what one
    # mapping's routing information gives.
    from spinn_front_end_common.data import FecDataView
    routing_infos = FecDataView.get_routing_infos()
    if _cache.get("routing_infos") is not routing_infos:
        clear_cache()
        _cache["routing_infos"] = routing_infos
    spaces = _cache["spaces"]
    if (app_vertex, partition_id) not in spaces:
        spaces[app_vertex, partition_id] = _key_space(
            app_vertex, partition_id)
    return spaces[app_vertex, partition_id]


_cache = {"routing_infos": None, "spaces": {}}


def clear_cache():
    """Forgets the key spaces of the last mapping (its session ended)."""
    _cache["routing_infos"] = None
    _cache["spaces"] = {}


def _key_space(app_vertex, partition_id):
    from spinn_front_end_common.data import FecDataView
    routing_infos = FecDataView.get_routing_infos()
    machine_vertices = sorted(
        app_vertex.machine_vertices, key=lambda v: v.vertex_slice.lo_atom)
    infos = [routing_infos.get_info_from(v, partition_id)
             for v in machine_vertices]
    atom_bits = atom_bits_of(infos[0].mask)
    # Most partitions number the sender's neurons; a vertex may say its
    # keys number something else (so many per core, so many in all).
    shape = getattr(app_vertex, "key_space_shape", lambda _: None)(
        partition_id)
    if shape is None:
        atoms_per_core = machine_vertices[0].vertex_slice.n_atoms
        n_atoms = app_vertex.n_atoms
    else:
        atoms_per_core, n_atoms = shape
    base = infos[0].key
    for index, (vertex, info) in enumerate(zip(machine_vertices, infos)):
        if (info.key != base + (index << atom_bits)
                or (shape is None and vertex.vertex_slice.lo_atom
                    != index * atoms_per_core)
                or atom_bits_of(info.mask) != atom_bits):
            raise SpiDNNInternalError(
                f"keys of {app_vertex.label}/{partition_id} are not laid "
                f"out as base + (core << atom_bits): {vertex} has key "
                f"0x{info.key:08x}")
    return {"base": base, "atom_bits": atom_bits,
            "atoms_per_core": atoms_per_core, "n_atoms": n_atoms}


#: The key space of a partition a core does not receive.
NO_KEY_SPACE = {"base": 0, "atom_bits": 0, "atoms_per_core": 0, "n_atoms": 0}


def prefixed(prefix, space):
    """A key space as struct fields named ``<prefix>_<field>``."""
    return {f"{prefix}_{name}": value for name, value in space.items()}


def index_of_keys(space, keys):
    """The sender indices of an array of keys (numpy), as the C apps do."""
    offset = keys - space["base"]
    return ((offset >> space["atom_bits"]) * space["atoms_per_core"]
            + (offset & ((1 << space["atom_bits"]) - 1)))
