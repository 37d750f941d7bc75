/* test_gateway_packages.c - the pure halves of packages: qualified entity
 * names ("[/NS/][PKG/]NAME", entity_name.h) and package PUT bodies
 * (package_doc.h), on valid and hostile input. */
#include "check.h"

#include "host/gateway/entity_name.h"
#include "host/gateway/package_doc.h"
#include "host/util/json.h"

#include <stdlib.h>
#include <string.h>

static void test_entity_names(void) {
    entity_name en;
    CHECK(entity_name_parse("echo", &en) == ENTITY_NAME_OK);
    CHECK_STR(en.ns, "");
    CHECK_STR(en.pkg, "");
    CHECK_STR(en.name, "echo");
    CHECK(entity_name_parse("utils/echo", &en) == ENTITY_NAME_OK);
    CHECK_STR(en.pkg, "utils");
    CHECK_STR(en.name, "echo");
    CHECK(entity_name_parse("/whisk.system/utils/echo", &en) == ENTITY_NAME_OK);
    CHECK_STR(en.ns, "whisk.system");
    CHECK_STR(en.pkg, "utils");
    CHECK(entity_name_parse("/_/echo", &en) == ENTITY_NAME_OK);
    CHECK_STR(en.ns, "_");
    CHECK_STR(en.pkg, "");
    /* "_" is a namespace alias only */
    CHECK(entity_name_parse("_x/echo", &en) == ENTITY_NAME_OK);
    CHECK(entity_name_parse("/ns/_/echo", &en) == ENTITY_NAME_OK); /* "_" is a valid package name too */
    CHECK(entity_name_parse(NULL, &en) == ENTITY_NAME_EMPTY);
    CHECK(entity_name_parse("", &en) == ENTITY_NAME_EMPTY);
    CHECK(entity_name_parse("/ns", &en) == ENTITY_NAME_TOO_DEEP);
    CHECK(entity_name_parse("a/b/c", &en) == ENTITY_NAME_TOO_DEEP);
    CHECK(entity_name_parse("/a/b/c/d", &en) == ENTITY_NAME_TOO_DEEP);
    CHECK(entity_name_parse("/a/b/c/d/e/f", &en) == ENTITY_NAME_TOO_DEEP);
    CHECK(entity_name_parse("//echo", &en) == ENTITY_NAME_BAD_NAMESPACE);
    CHECK(entity_name_parse("/-ns/echo", &en) == ENTITY_NAME_BAD_NAMESPACE);
    CHECK(entity_name_parse("-p/echo", &en) == ENTITY_NAME_BAD_PACKAGE);
    CHECK(entity_name_parse("p/", &en) == ENTITY_NAME_BAD_NAME);
    CHECK(entity_name_parse("p/a b ", &en) == ENTITY_NAME_BAD_NAME);
    CHECK(entity_name_parse("p/\xff", &en) == ENTITY_NAME_BAD_NAME);
    char big[600];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CHECK(entity_name_parse(big, &en) == ENTITY_NAME_BAD_NAME);
    big[257] = '/';
    CHECK(entity_name_parse(big, &en) == ENTITY_NAME_BAD_PACKAGE);
    CHECK_STR(entity_name_result_name(ENTITY_NAME_TOO_DEEP), "a name is NAME, PKG/NAME, /NS/NAME or /NS/PKG/NAME");
}

static package_doc_result build(const char *body_text, const json_t *old, json_t **out) {
    char err[256];
    json_t *body = json_loads(body_text, JSON_DECODE_ANY, NULL);
    package_doc_result r = package_doc_build(body, old, "p", "guest", out, err, sizeof err);
    json_decref(body);
    return r;
}

static void test_package_docs(void) {
    json_t *doc = NULL;
    CHECK(build("{}", NULL, &doc) == PACKAGE_DOC_OK);
    CHECK(json_is_object(json_object_get(doc, "binding")) && json_object_size(json_object_get(doc, "binding")) == 0);
    CHECK(json_array_size(json_object_get(doc, "parameters")) == 0);
    CHECK(json_is_false(json_object_get(doc, "publish")));
    CHECK(!package_doc_is_binding(doc));
    json_t *old = doc;
    /* an update keeps what it leaves out, takes what it gives */
    CHECK(build("{\"publish\": true}", old, &doc) == PACKAGE_DOC_OK && json_is_true(json_object_get(doc, "publish")));
    json_decref(doc);
    /* a package does not become a binding (409) */
    CHECK(build("{\"binding\": {\"namespace\": \"a\", \"name\": \"b\"}}", old, &doc) == PACKAGE_DOC_BECOME_BINDING);
    json_decref(old);

    /* a binding: "_" and no namespace are the caller's; the annotation is the server's */
    CHECK(build("{\"binding\": {\"name\": \"utils\"}, \"annotations\": [{\"key\": \"binding\", \"value\": \"forged\"}]}",
                NULL, &doc) == PACKAGE_DOC_OK);
    CHECK(package_doc_is_binding(doc));
    CHECK_STR(json_get_str(json_object_get(doc, "binding"), "namespace", ""), "guest");
    json_t *ann = json_kv_find(json_object_get(doc, "annotations"), "binding");
    CHECK(json_is_object(ann) && !strcmp(json_get_str(ann, "name", ""), "utils"));
    CHECK(json_array_size(json_object_get(doc, "annotations")) == 1);
    old = doc;
    /* an update without binding keeps the binding */
    CHECK(build("{\"parameters\": [{\"key\": \"a\", \"value\": 1}]}", old, &doc) == PACKAGE_DOC_OK);
    CHECK(package_doc_is_binding(doc));
    json_decref(doc);
    json_decref(old);

    /* hostile bodies */
    const char *bad[] = {"[1]", "\"x\"", "{\"parameters\": {\"a\": 1}}", "{\"annotations\": [{\"value\": 1}]}",
                         "{\"publish\": \"yes\"}", "{\"binding\": \"utils\"}", "{\"binding\": {\"name\": 3}}",
                         "{\"binding\": {\"namespace\": \"a/b\", \"name\": \"c\"}}",
                         "{\"binding\": {\"namespace\": \"a\", \"name\": \"c\\u0000d\"}}",
                         "{\"binding\": {\"namespace\": \"a\"}}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        doc = NULL;
        package_doc_result r = build(bad[i], NULL, &doc);
        CHECK(r == PACKAGE_DOC_MALFORMED || r == PACKAGE_DOC_BAD_BINDING);
        CHECK(doc == NULL);
    }
    char err[128];
    json_t *empty = json_object();
    CHECK(package_doc_build(empty, NULL, "default", "guest", &doc, err, sizeof err) == PACKAGE_DOC_RESERVED);
    CHECK_STR(err, "Package name 'default' is reserved.");
    json_decref(empty);
}

int main(void) {
    test_entity_names();
    test_package_docs();
    return CHECK_DONE();
}
