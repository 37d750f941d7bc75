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
/* a sequence component: "/namespace/[package/]name" */
#define ACTION_COMPONENT_MAX (1 + 256 + 1 + 256 + 1 + ACTION_MAX_NAME)

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
/* The kind nodejs:default stands for, as OpenWhisk resolves its default
 * kinds when storing an action (the document, lists, records and the exec
 * annotation show the concrete kind). */
#define ACTION_NODEJS_DEFAULT "nodejs:20"
/* The kind to store for a supported kind: nodejs:default resolved, any
 * other kind as given (borrowed or static). */
const char *action_kind_resolve(const char *kind);
/* A sequence's exec kind, and OpenWhisk's bound on its components. */
#define ACTION_KIND_SEQUENCE "sequence"
#define ACTION_SEQUENCE_MAX 50
/* OpenWhisk's test for code sent without exec.binary: after trimming white
 * space it is non-empty, a multiple of 4 long and strict base64 (standard
 * alphabet, '=' padding only at the end). Such code is a zip archive. */
int action_code_is_binary(const char *code, size_t len);
/* A zip action's code (base64 text of code_len bytes) of kind checked as
 * the enclave will check it (a V8 kind; common/code_archive.h): 0, or -1
 * with the user's words in err. Used at create and by `tfaas runtime`'s
 * /init. */
int action_zip_check(const char *kind, const char *code, size_t code_len, char *err, size_t errsize);
/* An action named the OpenWhisk way (a sequence component, a rule's
 * action): "name", "pkg/name", "/ns/name" or "/ns/pkg/name", `_` standing
 * for own_ns. Result as a named enum (action_fqn_name). */
typedef enum {
    ACTION_FQN_OK = 0,
    ACTION_FQN_EMPTY,         /* no name at all, or an empty segment */
    ACTION_FQN_SHAPE,         /* more segments than /ns/pkg/name, or "/ns" alone */
    ACTION_FQN_BAD_NAMESPACE, /* the namespace is not a valid entity name */
    ACTION_FQN_BAD_PACKAGE,   /* the package is not a valid entity name */
    ACTION_FQN_BAD_NAME,      /* the action name is not a valid entity name */
} action_fqn_result;
typedef struct {
    char ns[ACTION_MAX_NAME + 1];
    char pkg[ACTION_MAX_NAME + 1]; /* "" when the action is in no package */
    char name[ACTION_MAX_NAME + 1];
} action_fqn;
action_fqn_result action_fqn_parse(const char *s, const char *own_ns, action_fqn *out);
const char *action_fqn_name(action_fqn_result r);

/* exec.binary of a stored document: a zip action. */
int action_is_binary(const json_t *doc);
/* exec.kind of a stored document is "sequence". */
int action_is_sequence(const json_t *doc);
/* The engine a supported kind runs on: js:duktape on Duktape; js:v8 and
 * nodejs:* on V8. */
sched_engine action_kind_engine(const char *kind);

/* Builds the document to store from a PUT body: {exec{kind,code,binary,
 * main?} or {kind "sequence", components}, parameters, annotations (with
 * the "exec" entry: the resolved kind, as OpenWhisk writes it),
 * limits (all four, defaults filled)}. When updating, `old` is the stored
 * document and members the body leaves out are kept from it (limits field
 * by field), as OpenWhisk's update does. A sequence's components are
 * checked for shape only (1..ACTION_SEQUENCE_MAX strings of at most
 * ACTION_COMPONENT_MAX bytes); naming, existence and cycles are the
 * gateway's (sequence.c). Returns a new reference, or NULL with a message
 * for a 400 in err. */
json_t *action_doc_build(const json_t *body, const json_t *old, char *err, size_t errsize);

/* The isolation mode an annotation list asks for (ISOLATION_ANNOTATION):
 * ISOLATION_UNSET when it has none. -1 with a message for a 400 when the
 * value is not one of the mode names or the key appears more than once.
 * Whether the server allows the mode is isolation_check_request's call. */
int action_isolation_request(const json_t *annotations, isolation_mode *out, char *err, size_t errsize);

/* Limits of a stored document, defaults for anything missing. */
void action_limits_get(const json_t *doc, action_limits *out);
/* The limits as the JSON object records and annotations carry: a tree, or
 * written into buf (its length, cut at size - 1; 160 bytes always hold it). */
json_t *action_limits_json(const action_limits *l);
size_t action_limits_text(const action_limits *l, char *buf, size_t size);

#endif
