/* json.h - small jansson helpers the host modules share: typed field access
 * with defaults, OpenWhisk {key, value} lists (annotations, parameters), and
 * compact serialisation. Nothing here allocates unless it says so. */
#ifndef TFAAS_HOST_UTIL_JSON_H
#define TFAAS_HOST_UTIL_JSON_H

#include <jansson.h>

/* Typed members of an object. The default is returned when obj is not an
 * object, the member is missing, or it has another type (integers are not
 * read as strings nor the reverse). Strings are borrowed from obj. */
const char *json_get_str(const json_t *obj, const char *key, const char *dflt);
json_int_t json_get_int(const json_t *obj, const char *key, json_int_t dflt);
int json_get_bool(const json_t *obj, const char *key, int dflt);

/* OpenWhisk key/value lists: [{"key": K, "value": V}, ...].
 * json_kv builds one entry and steals `value` (NULL on allocation failure,
 * value released). json_kv_find returns the borrowed value of the first entry
 * named key, or NULL. json_kv_set replaces the value of the entry named key or
 * appends one; it steals `value`; 0 or -1. */
json_t *json_kv(const char *key, json_t *value);
json_t *json_kv_find(const json_t *list, const char *key);
int json_kv_set(json_t *list, const char *key, json_t *value);
/* Converts a key/value list into a new object (later keys win). Entries that
 * are not {key: string, value} are skipped. New reference, NULL on OOM. */
json_t *json_kv_to_object(const json_t *list);

/* Compact, key-order-preserving text of v; malloc'd, caller frees. NULL on OOM. */
char *json_dump_compact(const json_t *v);

#endif
