// Turning a multicast key back into the sending neuron's index.
//
// PACMAN gives each layer partition a base key; a core's neurons follow at
// base + (core index << atom_bits) + neuron-in-core (or, for a partition
// whose keys number something else, such as the input elements a windowed
// core sends gradients for, that thing).  With a power-of-two
// slice (one neuron per core by default) the index is simply key - base.
#ifndef SPIDNN_KEY_SPACE_H
#define SPIDNN_KEY_SPACE_H

#include <stdint.h>
#include <stdbool.h>

typedef struct key_space_t {
    uint32_t base;
    uint32_t atom_bits;
    uint32_t atoms_per_core;
    uint32_t n_atoms;
} key_space_t;

static inline key_space_t key_space_of(uint32_t base, uint32_t atom_bits,
                                       uint32_t atoms_per_core,
                                       uint32_t n_atoms) {
    return (key_space_t) {base, atom_bits, atoms_per_core, n_atoms};
}

// The sending core (its place in the partition) and the atom within it
// of a key; false if the key is not the space's.
static inline bool key_space_locate(const key_space_t *space, uint32_t key,
                                    uint32_t *core, uint32_t *atom) {
    uint32_t offset = key - space->base;
    *core = offset >> space->atom_bits;
    *atom = offset & ((1u << space->atom_bits) - 1u);
    return key >= space->base && *atom < space->atoms_per_core
            && *core * space->atoms_per_core + *atom < space->n_atoms;
}

// The sender's index of a key.  Written out rather than through
// key_space_locate: every packet of a pass comes through here, and the
// ARM build of that form costs a third more cycles per packet (the cost
// table's receive, measured).
static inline bool key_space_index(
        const key_space_t *space, uint32_t key, uint32_t *index) {
    uint32_t offset = key - space->base;
    uint32_t core = offset >> space->atom_bits;
    uint32_t atom = offset & ((1u << space->atom_bits) - 1u);
    if (key < space->base || atom >= space->atoms_per_core) {
        return false;
    }
    uint32_t i = core * space->atoms_per_core + atom;
    if (i >= space->n_atoms) {
        return false;
    }
    *index = i;
    return true;
}

#endif
