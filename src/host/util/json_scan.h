/* json_scan.h - telling that JSON text is a well-formed object without
 * building it. The reader thread checks every enclave result before it goes
 * verbatim into the activation record (activation_record.c); a jansson tree
 * built only to be thrown away cost an allocation per member and value of
 * every result. This pass allocates nothing and reads the text once.
 *
 * Only its "yes" is an answer: it says yes only for text that jansson's
 * json_loads(text, JSON_ALLOW_NUL, ...) accepts and reads as an object.
 * Where jansson's own limits could refuse valid JSON (an integer beyond
 * json_int_t, a real beyond a double, a NUL in a key, deeper nesting than
 * JSON_MAX_DEPTH) and for anything malformed it says "don't know", and the
 * caller asks jansson, which decides and says why. */
#ifndef TFAAS_HOST_UTIL_JSON_SCAN_H
#define TFAAS_HOST_UTIL_JSON_SCAN_H

/* 1 when text (NUL-terminated) is certainly one JSON object that jansson
 * accepts, whitespace around it allowed; 0 when that is not certain. */
int json_scan_object(const char *text);

#endif
