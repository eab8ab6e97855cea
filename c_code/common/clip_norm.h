// Keras' clipnorm and global_clipnorm: a batch-end phase that reduces the
// gradient's norm across the cores holding it, before the update.
//
// A norm is over a Keras variable (clipnorm: each kernel, each bias) or
// over all of them (global_clipnorm), and many cores hold parts of one: a
// Dense kernel's slices, or the copies of its rows that the cores before
// it keep (outgoing.h), which must be scaled alike.  Each "slot" is one
// such norm.  At its batch end, once its gradients are final (after the
// chains of conv and prelu and a shared Dense's totals), each core that
// owns part of a variable (layer_params.norm_sends; every element is owned
// by one core: conv's and chained prelu's first core, a Dense's every
// core) adds the squares of its parts' gradients, the penalty gradients
// included as the step will add them, into an exact sum per variable
// (exact_sum.h) and multicasts its words (norm partition: key = the
// core's first + variable * NORM_WORD_STRIDE + word).  Every core that
// steps a part of a slot's variables gathers every owner's words into the
// slot's sum (the NORM_SOURCES region: each sending layer's key space,
// its senders and the slot each of its variables adds to).  An exact sum
// is the same in any order, so the norm is the same bits on every core,
// every slicing and any packet timing; the last word in (and this core's
// batch done) gives each slot its factor, which trained_prepare applies
// to the gradients as Keras does.  The update is then ready for the
// commit, which cannot come before every core's phase is over, so no word
// of the next batch's phase arrives before this one's ends.  An abort
// forgets the sums: the replay adds them again from the batch's start.
//
// Packets per batch, per variable per owning core: its sum's words that
// are not 0 (two or three, mostly, of EXACT_WORDS), then their count at
// NORM_COUNT_WORD, each delivered to every core that steps it.  A
// receiver is done when every owner's counts are in and as many words
// as they announce (in any order: the sums are exact).
#ifndef SPIDNN_CLIP_NORM_H
#define SPIDNN_CLIP_NORM_H

#include "exact_sum.h"

// The owner's key of a variable's word: variable * stride + word.
#define NORM_WORD_STRIDE 16u
#define NORM_WORD_BITS 4u
#define NORM_COUNT_WORD (NORM_WORD_STRIDE - 1u)
#define MAX_NORM_VARIABLES 2u
#define MAX_NORM_USES (MAX_NORM_VARIABLES + MAX_GRADIENTS)

// This core's owned parts' squares, variable by variable (the app's).
static void app_norm_add(exact_sum_t *sums);
// The phase is over: the update is ready (layer_core.h's).
static void layer_norm_done(void);

typedef struct norm_use_t {
    trained_t *trained;
    uint32_t part;           // its regulariser's part: trained_t.clip[part]
    uint32_t slot;
} norm_use_t;

static struct {
    const norm_source_t *sources;   // NORM_SOURCES' records, in SDRAM
    uint32_t n_sources;
    exact_sum_t *sums;              // a sum per slot
    uint32_t received;              // words in, this batch
    uint32_t announced;             // words the counts in announce
    uint32_t counts;                // counts in, this batch
    uint32_t expected;              // counts every batch brings
    bool own_done;                  // this core's batch is over (and sent)
    norm_use_t uses[MAX_NORM_USES];
    uint32_t n_uses;
} norm;

static inline bool norm_on(void) {
    return params.norm_mode != NORM_MODE_NONE;
}

// The batch's sums and counts start again (its phase is over, or an
// abort replays the batch).
static void norm_forget(void) {
    for (uint32_t k = 0; k < params.norm_slots; k++) {
        exact_zero(&norm.sums[k]);
    }
    norm.received = norm.announced = norm.counts = 0;
    norm.own_done = false;
}

// Reads the NORM_SOURCES region (a count, then a norm_source_t each).
static void norm_setup(data_specification_metadata_t *ds) {
    norm.n_uses = 0;
    if (!norm_on()) {
        return;
    }
    const uint32_t *region = data_specification_get_region(
            REGION_NORM_SOURCES, ds);
    // Read in place: a global norm's sources are every layer with
    // weights, and their words come once a batch.
    norm.n_sources = region[0];
    norm.sources = (const norm_source_t *) &region[1];
    norm.expected = 0;
    for (uint32_t s = 0; s < norm.n_sources; s++) {
        norm.expected += norm.sources[s].senders
                * norm.sources[s].n_variables;
    }
    norm.sums = (exact_sum_t *) dtcm_alloc(
            params.norm_slots * EXACT_WORDS);
    norm_forget();
}

// `trained`'s part `part` (its weights before its split, or after) is
// scaled by slot `slot`'s factor at each step.
static void norm_use(trained_t *trained, uint32_t part, uint32_t slot) {
    norm.uses[norm.n_uses++] = (norm_use_t) {trained, part, slot};
}

// The slot of this core's own variable `variable`: one per variable, or
// all one (global_clipnorm).
static inline uint32_t norm_own_slot(uint32_t variable) {
    return params.norm_mode == NORM_MODE_GLOBAL ? 0u : variable;
}

// Adds the squares of `trained`'s gradients [lo, hi), each with its
// penalty gradient as trained_step adds it, as Keras squares them
// (float32), to `sum` (streamed: read in place in SDRAM).
static inline void norm_add_squares(exact_sum_t *sum, const trained_t *trained,
                                    uint32_t lo, uint32_t hi) {
    COST(COST_NORM_ADD, hi - lo);
    for (uint32_t i = lo; i < hi; i++) {
        regulariser_t r = trained->regulariser[i < trained->split ? 0 : 1];
        float g = trained->grads[i];
        if (regularises(r)) {
            g = g + penalty_gradient(r, trained->weights[i]);
        }
        exact_add(sum, g * g);
    }
}

// Keras' factor from a slot's sum of squares.  clipnorm (_clip_by_norm):
// the gradient becomes g clipnorm / max(l2norm, clipnorm), l2norm the
// root where the sum is above 0 (else the sum); global_clipnorm
// (clip_by_global_norm): g times clip min(1 / norm, 1 / clip) + (norm -
// norm), NaN for a norm that is not finite.  TensorFlow's maximum and
// minimum propagate NaN.
static float norm_factor(float sum) {
    float clip = bits_to_float(params.norm_clip);
    if (params.norm_mode == NORM_MODE_CLIP) {
        float l2norm = sum > 0.0f ? spidnn_sqrtf(sum) : sum;
        return l2norm != l2norm || l2norm > clip ? l2norm : clip;
    }
    float root = spidnn_sqrtf(sum);
    float inverse = 1.0f / root;
    float inverse_clip = bits_to_float(params.norm_inverse_clip);
    float least = inverse != inverse || inverse < inverse_clip
            ? inverse : inverse_clip;
    return clip * least + (root - root);
}

static void norm_finish(uint generation, uint unused) {
    (void) unused;
    if (stale(generation)) {
        return;
    }
    COST(COST_NORM_FACTOR, params.norm_slots);
    for (uint32_t u = 0; u < norm.n_uses; u++) {
        norm_use_t *use = &norm.uses[u];
        use->trained->clip[use->part] =
                norm_factor(exact_to_float(&norm.sums[use->slot]));
    }
    norm_forget();
    layer_norm_done();
}

static void norm_try_finish(void) {
    if (norm.own_done && norm.counts == norm.expected
            && norm.received == norm.announced) {
        schedule(norm_finish, 0);
    }
}

// The core's batch is over and its gradients final: its owned parts'
// sums go out, and the phase ends once every owner's are in.
static void norm_batch_end(void) {
    if (params.norm_sends) {
        exact_sum_t own[MAX_NORM_VARIABLES];
        for (uint32_t v = 0; v < params.norm_variables; v++) {
            exact_zero(&own[v]);
        }
        app_norm_add(own);
        for (uint32_t v = 0; v < params.norm_variables; v++) {
            uint32_t key = params.norm_key + v * NORM_WORD_STRIDE;
            uint32_t sent = 0;
            for (uint32_t k = 0; k < EXACT_WORDS; k++) {
                if (own[v].word[k] != 0) {
                    send_word(key + k, own[v].word[k]);
                    sent++;
                }
            }
            COST(COST_SEND, sent + 1);
            send_word(key + NORM_COUNT_WORD, sent);
        }
    }
    norm.own_done = true;
    control_waiting(WAITING_NORM);
    norm_try_finish();
}

// Forgets the batch's sums (an abort replays the batch).
static void norm_abort(void) {
    if (norm_on()) {
        norm_forget();
    }
}

// True if the packet is a word of a norm this core gathers.
static bool norm_receive(uint32_t key, uint32_t payload) {
    for (uint32_t s = 0; s < norm.n_sources; s++) {
        const norm_source_t *source = &norm.sources[s];
        key_space_t space = key_space_of(source->base, source->atom_bits,
                source->atoms_per_core, source->n_atoms);
        uint32_t core, atom;
        if (!key_space_locate(&space, key, &core, &atom)) {
            continue;
        }
        uint32_t variable = atom >> NORM_WORD_BITS;
        uint32_t word = atom & (NORM_WORD_STRIDE - 1u);
        uint32_t slot = variable == 0 ? source->slot_0 : source->slot_1;
        COST(COST_NORM_WORD, 1);
        if (word == NORM_COUNT_WORD) {
            norm.counts++;
            norm.announced += payload;
        } else {
            if (slot < params.norm_slots && word < EXACT_WORDS) {
                exact_add_word(&norm.sums[slot], word, payload);
            }
            norm.received++;
        }
        norm_try_finish();
        return true;
    }
    return false;
}

#endif
