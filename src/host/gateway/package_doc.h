/* package_doc.h - validation of package PUT bodies against OpenWhisk's
 * rules and the document the store keeps (packages and bindings). Pure: no
 * I/O, unit-tested; whether a binding's package exists and may be bound is
 * the handler's question (packages.c, through resolve.h). */
#ifndef TFAAS_HOST_GATEWAY_PACKAGE_DOC_H
#define TFAAS_HOST_GATEWAY_PACKAGE_DOC_H

#include <jansson.h>
#include <stddef.h>

typedef enum {
    PACKAGE_DOC_OK = 0,
    PACKAGE_DOC_MALFORMED,     /* 400: not an object, or a member of the wrong type */
    PACKAGE_DOC_RESERVED,      /* 400: the name "default" */
    PACKAGE_DOC_BAD_BINDING,   /* 400: binding is not {} nor {namespace, name} of valid names */
    PACKAGE_DOC_BECOME_BINDING,/* 409: an existing package given a binding */
} package_doc_result;

/* Builds {binding, parameters, annotations, publish} for package `name`
 * from a PUT body and, when updating, the stored document `old` (members
 * the body leaves out are kept, as OpenWhisk's update does). A binding's
 * namespace "_" (or none) becomes `caller`; the "binding" annotation is the
 * server's to set (from binding) whatever the body says. *out: new
 * reference on PACKAGE_DOC_OK; err gets the message otherwise. */
package_doc_result package_doc_build(const json_t *body, const json_t *old, const char *name, const char *caller,
                                     json_t **out, char *err, size_t errsize);
const char *package_doc_result_name(package_doc_result r);
/* 1 when doc is a binding (its binding has a name). */
int package_doc_is_binding(const json_t *doc);

#endif
