/* entity_name.h - OpenWhisk's qualified entity names, "[/NS/][PKG/]NAME",
 * split and checked: the syntax half of name resolution (resolve.h does
 * the lookups and permissions). Pure, unit-tested on hostile names. */
#ifndef TFAAS_HOST_GATEWAY_ENTITY_NAME_H
#define TFAAS_HOST_GATEWAY_ENTITY_NAME_H

#include "host/gateway/action_doc.h"

typedef enum {
    ENTITY_NAME_OK = 0,
    ENTITY_NAME_EMPTY,         /* NULL or "" */
    ENTITY_NAME_BAD_NAMESPACE, /* the /NS/ part is not an entity name (nor "_") */
    ENTITY_NAME_BAD_PACKAGE,   /* the PKG/ part is not an entity name */
    ENTITY_NAME_BAD_NAME,      /* the NAME part is not an entity name */
    ENTITY_NAME_TOO_DEEP,      /* more parts than /NS/PKG/NAME, or "/NS" alone */
} entity_name_result;

typedef struct {
    char ns[ACTION_MAX_NAME + 1];   /* "" when the text named none (the caller's then) */
    char pkg[ACTION_MAX_NAME + 1];  /* "" outside a package */
    char name[ACTION_MAX_NAME + 1];
} entity_name;

/* Splits text: "NAME", "PKG/NAME", "/NS/NAME", "/NS/PKG/NAME". Every part
 * must be an OpenWhisk entity name (action_name_valid); NS may also be "_".
 * out is zeroed first; on failure its contents are unspecified. */
entity_name_result entity_name_parse(const char *text, entity_name *out);
const char *entity_name_result_name(entity_name_result r);

#endif
