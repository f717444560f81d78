/* SPDX-License-Identifier: MIT */
/*
 * Identifiers duet mints for the dialogs it creates: tags (RFC 3261
 * §19.3, at least 32 bits of randomness), Call-IDs (§8.1.1.4, globally
 * unique) and Via branches (§8.1.1.7, starting with the magic cookie
 * "z9hG4bK"). Each embeds the number of the worker (event loop) that owns
 * the call, so a message on any leg can be routed to its owner without a
 * lookup (docs/ARCHITECTURE.md). Singly owned, one per event loop.
 */
#ifndef DUET_LEG_IDENT_H
#define DUET_LEG_IDENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "duet/slice.h"

/* Room for the longest identifier plus its NUL. */
#define LEG_IDENT_MAX 48
/* Room for the longest tag plus its NUL: the mark (2), the worker (1), 11
 * random digits and at most 11 for a 64-bit counter, all base 62: 26, a
 * held call keeps one, so rounded to 32 rather than LEG_IDENT_MAX. */
#define LEG_TAG_MAX 32

struct leg_ident {
	uint64_t state[2]; /* xorshift128+ */
	uint64_t counter;  /* makes every identifier unique within the run */
	uint8_t worker;
};

/**
 * Seed a generator for one worker. seed 0 draws a seed from the system
 * (getrandom); tests pass a fixed seed. Returns 0 or EINVAL (worker > 61).
 */
int leg_ident_init(struct leg_ident *g, uint8_t worker, uint64_t seed);

/** A new tag: token characters only. Returns its length. */
size_t leg_ident_tag(struct leg_ident *g, char out[LEG_TAG_MAX]);

/** A new Call-ID "<random>@<host>" (host may be empty). Returns length,
 * or 0 when host does not fit. */
size_t leg_ident_call_id(struct leg_ident *g, struct slice host,
			 char out[LEG_IDENT_MAX + 64]);

/** A new branch starting with "z9hG4bK". Returns its length. */
size_t leg_ident_branch(struct leg_ident *g, char out[LEG_IDENT_MAX]);

/**
 * The worker encoded in an identifier minted by any leg_ident (tag,
 * Call-ID or branch). Returns false when id was not minted by duet.
 */
bool leg_ident_worker(struct slice id, uint8_t *worker);

#endif /* DUET_LEG_IDENT_H */
