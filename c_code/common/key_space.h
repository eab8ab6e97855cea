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
