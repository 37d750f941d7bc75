/* activation_record.h - the OpenWhisk activation record of a finished
 * activation, built from what the scheduler reported (sched_result: the
 * enclave's result, logs and durations). Pure (the caller gives the end
 * time), so unit tests and the fuzz_result target drive it directly.
 *
 * The result must be a JSON object; anything else becomes a "whisk internal
 * error" with {"error": "The platform produced a malformed result"}, never a
 * success. Logs become an array of lines. A confidential activation's record
 * keeps only the receipt of a successful result (the response is the
 * client's). */
#ifndef TFAAS_HOST_GATEWAY_ACTIVATION_RECORD_H
#define TFAAS_HOST_GATEWAY_ACTIVATION_RECORD_H

#include "host/gateway/action_doc.h"
#include "host/scheduler/scheduler.h"

#include <jansson.h>
#include <stdint.h>

#define ACTIVATION_MALFORMED_RESULT "The platform produced a malformed result"

/* Who ran: the action's identity and limits at invocation time. */
typedef struct {
    const char *ns, *name, *version, *kind;
    const char *id;             /* activation id */
    const action_limits *limits;
    int confidential;
    /* The stored action's "NS/[PKG/]NAME" for the 'path' annotation (NULL:
     * ns/name), and "NS/BINDING" when invoked through a binding (NULL:
     * none), as OpenWhisk records them. */
    const char *path, *binding;
    /* `sequence` marks a sequence's own activation (sequence.c: its logs are
     * its components' activation ids, annotated `topmost` unless a sequence
     * encloses it). `cause` is the activation that caused this one (NULL:
     * none), recorded as OpenWhisk does in a `cause` field: the enclosing
     * sequence's (then also the annotation causedBy "sequence",
     * `by_sequence`) or the trigger activation of the rule that ran it. */
    int sequence;
    const char *cause;
    int by_sequence;
} activation_info;

/* The record written once as JSON text (malloc'd, NUL-terminated): `text`
 * is what the store keeps and a blocking invoke answers, `summary` its list
 * entry (the same without response and logs, as OpenWhisk lists them:
 * text[cut_at .. cut_at + cut_len) cut out), and response.result is
 * text[result_off .. result_off + result_len). */
typedef struct {
    char *text, *summary;
    size_t len;
    size_t cut_at, cut_len;
    size_t result_off, result_len;
    int status_code; /* response.statusCode, OpenWhisk's 0-3 */
    int64_t start, end;
} activation_text;

/* Writes the record into *out: 0, or -1 when out of memory (*out empty).
 * end_ms is the wall clock at completion; start is end minus the run time.
 * *malformed is NULL, or why the result was replaced (valid until the
 * thread's next call), for the server's log. */
int activation_record_write(const activation_info *info, const sched_result *res, int64_t end_ms,
                            activation_text *out, const char **malformed);
void activation_text_free(activation_text *t);
/* Its response.result parsed (new reference; NULL when out of memory). */
json_t *activation_text_result(const activation_text *t);

/* The same record as a jansson tree (new reference; NULL when out of
 * memory), for callers that read its fields (sequences, tests). */
json_t *activation_record_build(const activation_info *info, const sched_result *res, int64_t end_ms,
                                const char **malformed);

#endif
