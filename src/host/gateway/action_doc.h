/* action_doc.h - validation of action PUT bodies against OpenWhisk's rules
 * (entity names, kinds, limits with their defaults and bounds) and the
 * document the store keeps. Pure: no I/O, unit-tested. */
#ifndef TFAAS_HOST_GATEWAY_ACTION_DOC_H
#define TFAAS_HOST_GATEWAY_ACTION_DOC_H

#include "host/scheduler/scheduler.h"
#include "host/scheduler/isolation.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define ACTION_MAX_NAME 256

/* OpenWhisk's defaults and bounds (timeout ms, memory MB, logs MB). */
#define LIMIT_TIMEOUT_DEFAULT 60000
#define LIMIT_TIMEOUT_MIN 100
#define LIMIT_TIMEOUT_MAX 300000
#define LIMIT_MEMORY_DEFAULT 256
#define LIMIT_MEMORY_MIN 128
#define LIMIT_MEMORY_MAX 512
#define LIMIT_LOGS_DEFAULT 10
#define LIMIT_LOGS_MIN 0
#define LIMIT_LOGS_MAX 10
#define LIMIT_CONCURRENCY_DEFAULT 1
#define LIMIT_CONCURRENCY_MIN 1
#define LIMIT_CONCURRENCY_MAX 500

typedef struct {
    int64_t timeout_ms, memory_mb, logs_mb, concurrency;
} action_limits;

/* OpenWhisk entity name: 1..256 chars of [A-Za-z0-9_@ .-], not starting
 * with one of "@ .-", not ending with a space. */
int action_name_valid(const char *name);
/* A {key, value} list as OpenWhisk accepts for parameters and annotations
 * (of actions, packages, triggers and rules). */
int action_kv_list_valid(const json_t *list);
/* js:duktape, js:v8, or any nodejs:<version>. */
int action_kind_supported(const char *kind);
/* The engine a supported kind runs on: js:duktape on Duktape; js:v8 and
 * nodejs:* on V8. */
sched_engine action_kind_engine(const char *kind);

/* Builds the document to store from a PUT body: {exec{kind,code,binary
 * false,main?}, parameters, annotations (with the "exec" family entry),
 * limits (all four, defaults filled)}. When updating, `old` is the stored
 * document and members the body leaves out are kept from it (limits field
 * by field), as OpenWhisk's update does. Returns a new reference, or NULL
 * with a message for a 400 in err. */
json_t *action_doc_build(const json_t *body, const json_t *old, char *err, size_t errsize);

/* The isolation mode an annotation list asks for (ISOLATION_ANNOTATION):
 * ISOLATION_UNSET when it has none. -1 with a message for a 400 when the
 * value is not one of the mode names or the key appears more than once.
 * Whether the server allows the mode is isolation_check_request's call. */
int action_isolation_request(const json_t *annotations, isolation_mode *out, char *err, size_t errsize);

/* Limits of a stored document, defaults for anything missing. */
void action_limits_get(const json_t *doc, action_limits *out);
/* The limits as the JSON object records and annotations carry. */
json_t *action_limits_json(const action_limits *l);

#endif
