// One copy of each app's code for all its cores.
//
// Every core loads a private copy of its app's host build, so that it has
// its own globals; the loader then maps each copy's code from its own
// file, and a layer of 700 cores runs 700 physical copies of the same
// instructions, which the host's instruction caches hold one core at a
// time.  Mapping the original binary's code pages over each copy's (the
// bytes are the same: checked before mapping) lets the cores share them;
// each copy keeps its own data, which position-independent code reaches
// relative to where the copy was loaded.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vm_core.h"
#include "vm_machine.h"
#include "vm_api.h"

// Maps the executable segment described by `ph` of the file `fd` over
// the copy loaded at `base`, if the bytes are the same; the bytes mapped.
static size_t share_segment(int fd, uintptr_t base, const Elf64_Phdr *ph) {
    uintptr_t page = (uintptr_t) sysconf(_SC_PAGESIZE);
    uintptr_t start = (base + ph->p_vaddr) & ~(page - 1);
    uintptr_t end = base + ph->p_vaddr + ph->p_filesz;
    size_t length = (end - start + page - 1) & ~(page - 1);
    off_t offset = (off_t) (ph->p_offset & ~(uint64_t) (page - 1));
    void *original = mmap(NULL, length, PROT_READ, MAP_PRIVATE, fd, offset);
    if (original == MAP_FAILED) {
        return 0;
    }
    int same = memcmp(original, (const void *) start, length) == 0;
    munmap(original, length);
    if (!same || mmap((void *) start, length, PROT_READ | PROT_EXEC,
                      MAP_PRIVATE | MAP_FIXED, fd, offset) == MAP_FAILED) {
        return 0;
    }
    return length;
}

// The loaded object at `base`, as dl_iterate_phdr finds it.
typedef struct loaded {
    uintptr_t base;
    const ElfW(Phdr) *phdr;
    uint32_t n;
} loaded_t;

static int find_loaded(struct dl_phdr_info *info, size_t size, void *data) {
    (void) size;
    loaded_t *want = data;
    if (info->dlpi_addr != want->base) {
        return 0;
    }
    want->phdr = info->dlpi_phdr;
    want->n = info->dlpi_phnum;
    return 1;
}

// Whether the loaded object has the same executable segment: then the
// range compared and mapped is the one the loader mapped.
static int loaded_has(const loaded_t *loaded, const Elf64_Phdr *ph) {
    for (uint32_t i = 0; i < loaded->n; i++) {
        const ElfW(Phdr) *own = &loaded->phdr[i];
        if (own->p_type == PT_LOAD && own->p_flags == ph->p_flags
                && own->p_vaddr == ph->p_vaddr
                && own->p_offset == ph->p_offset
                && own->p_filesz == ph->p_filesz) {
            return 1;
        }
    }
    return 0;
}

int64_t vm_share_code(vm_t *vm, int32_t core, const char *original_path) {
    if (core < 0 || core >= vm->n_cores || vm->cores[core].handle == NULL) {
        vm_fail(vm, "core %d has no app to share", core);
        return -1;
    }
    struct link_map *map;
    if (dlinfo(vm->cores[core].handle, RTLD_DI_LINKMAP, &map) != 0) {
        return 0;
    }
    loaded_t loaded = {map->l_addr, NULL, 0};
    if (!dl_iterate_phdr(find_loaded, &loaded)) {
        return 0;
    }
    int fd = open(original_path, O_RDONLY);
    if (fd < 0) {
        return 0;
    }
    int64_t shared = 0;
    Elf64_Ehdr header;
    if (pread(fd, &header, sizeof(header), 0) == sizeof(header)
            && memcmp(header.e_ident, ELFMAG, SELFMAG) == 0
            && header.e_ident[EI_CLASS] == ELFCLASS64) {
        for (uint32_t i = 0; i < header.e_phnum; i++) {
            Elf64_Phdr ph;
            off_t at = (off_t) (header.e_phoff
                                + (uint64_t) i * header.e_phentsize);
            if (pread(fd, &ph, sizeof(ph), at) != sizeof(ph)) {
                break;
            }
            if (ph.p_type == PT_LOAD && (ph.p_flags & PF_X)
                    && loaded_has(&loaded, &ph)) {
                shared += (int64_t) share_segment(fd, map->l_addr, &ph);
            }
        }
    }
    close(fd);
    return shared;
}
