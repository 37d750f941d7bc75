/* budget.h - per-tenant admission budget: how many activations and how many
 * bytes one namespace may hold in the host at once (issue 10, item 1).
 *
 * A table keyed by namespace: `count` and `bytes` in use, checked against
 * two limits on every take. The scheduler takes an activation's share when
 * it accepts it; the gateway keeps a finished activation's record in it
 * until the store has written it. So the server creates the budget and
 * lends it to both, and frees it after both are gone.
 *
 * Thread-safe: one mutex guards the table; it is taken last (callers may
 * hold their own locks, the budget never calls out). Entries disappear at
 * zero, so the table holds only namespaces with work in the host. */
#ifndef TFAAS_HOST_SCHEDULER_BUDGET_H
#define TFAAS_HOST_SCHEDULER_BUDGET_H

#include <stddef.h>
#include <stdint.h>

typedef struct budget budget;

typedef enum {
    BUDGET_OK = 0,
    BUDGET_COUNT, /* the namespace holds max_count activations already */
    BUDGET_BYTES, /* the take would pass max_bytes */
    BUDGET_NOMEM, /* no entry could be made for the namespace */
} budget_result;
const char *budget_result_name(budget_result r);

/* What a namespace holds (after a successful take, including it). */
typedef struct {
    unsigned count;
    uint64_t bytes;
} budget_usage;

/* max_count 0 or max_bytes 0: that dimension is unlimited. */
budget *budget_new(unsigned max_count, uint64_t max_bytes);
void budget_free(budget *b);
/* Takes `count` activations and `bytes` for key, or nothing: BUDGET_OK, or
 * why not. *now (may be NULL) is the key's usage afterwards (on a refusal:
 * as it stands). A take of count 0 checks only the bytes. */
budget_result budget_take(budget *b, const char *key, unsigned count, uint64_t bytes, budget_usage *now);
/* Adds without checking the limits (what is held already and cannot be
 * refused); 0, or -1 when no entry could be made. */
int budget_add(budget *b, const char *key, unsigned count, uint64_t bytes);
/* Gives back what a take or add took (never more). */
void budget_give(budget *b, const char *key, unsigned count, uint64_t bytes);
/* What key holds now ({0, 0} for a key with nothing). */
budget_usage budget_get(budget *b, const char *key);
/* The limits, for messages. */
unsigned budget_max_count(const budget *b);
uint64_t budget_max_bytes(const budget *b);

#endif
