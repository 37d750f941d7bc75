/* test_gateway_entity_doc.c - trigger and rule documents from PUT bodies
 * (members, update semantics, refusals) and the resolver of the names a rule
 * or a feed gives (NAME, /_/NAME, /NS/NAME; packaged and hostile names
 * refused). */
#include "check.h"
#include "host/gateway/entity_doc.h"

#include <jansson.h>
#include <string.h>

static json_t *parse(const char *s) { return json_loads(s, 0, NULL); }

static void test_trigger_doc(void) {
    char err[256];
    json_t *body = parse("{\"parameters\":[{\"key\":\"a\",\"value\":1}]}");
    json_t *doc = entity_trigger_build(body, NULL, err, sizeof err);
    CHECK(doc != NULL);
    CHECK(json_array_size(json_object_get(doc, "parameters")) == 1);
    CHECK(json_array_size(json_object_get(doc, "annotations")) == 0);
    CHECK(json_is_object(json_object_get(doc, "limits")));
    CHECK(json_is_false(json_object_get(doc, "publish")));
    /* an update keeps what the body leaves out */
    json_t *empty = parse("{}");
    json_t *upd = entity_trigger_build(empty, doc, err, sizeof err);
    CHECK(upd && json_array_size(json_object_get(upd, "parameters")) == 1);
    json_decref(upd);
    json_decref(empty);
    json_decref(doc);
    json_decref(body);

    static const char *const BAD[][2] = {
        {"[]", "must be a JSON object"},
        {"{\"parameters\":{\"a\":1}}", "parameters must be an array"},
        {"{\"parameters\":[{\"value\":1}]}", "parameters must be an array"},
        {"{\"annotations\":[1]}", "annotations must be an array"},
        {"{\"limits\":[]}", "limits must be an object"},
        {"{\"publish\":\"yes\"}", "publish must be true or false"},
        {"{\"annotations\":[{\"key\":\"feed\",\"value\":\"a//b\"}]}", "Feed name is not valid"},
        {"{\"annotations\":[{\"key\":\"feed\",\"value\":\"/a/b/c/d\"}]}", "Feed name is not valid"},
        {"{\"annotations\":[{\"key\":\"feed\",\"value\":7}]}", "Feed name is not valid"},
    };
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        json_t *b = parse(BAD[i][0]);
        err[0] = '\0';
        json_t *d = entity_trigger_build(b, NULL, err, sizeof err);
        CHECK(d == NULL);
        CHECK(strstr(err, BAD[i][1]) != NULL);
        json_decref(d);
        json_decref(b);
    }
    json_t *ok = parse("{\"annotations\":[{\"key\":\"feed\",\"value\":\"/whisk.system/alarms/alarm\"}]}");
    json_t *d = entity_trigger_build(ok, NULL, err, sizeof err);
    CHECK(d != NULL);
    json_decref(d);
    json_decref(ok);
}

static void resolves(const char *given, entity_ref_result want, const char *ns, const char *name) {
    char n[ENTITY_NS_MAX], e[ENTITY_NAME_MAX];
    entity_ref_result r = entity_resolve("guest", given, n, e);
    CHECK(r == want);
    if (want == ENTITY_REF_OK) {
        CHECK_STR(n, ns);
        CHECK_STR(e, name);
    }
}

static void test_resolve(void) {
    resolves("hello", ENTITY_REF_OK, "guest", "hello");
    resolves("/_/hello", ENTITY_REF_OK, "guest", "hello");
    resolves("/guest/hello", ENTITY_REF_OK, "guest", "hello");
    resolves("/other/hello", ENTITY_REF_OK, "other", "hello");
    resolves("/whisk.system/t", ENTITY_REF_OK, "whisk.system", "t");
    resolves("pkg/hello", ENTITY_REF_PACKAGED, NULL, NULL);
    resolves("/ns/pkg/hello", ENTITY_REF_PACKAGED, NULL, NULL);
    resolves("", ENTITY_REF_BAD_NAME, NULL, NULL);
    resolves("/", ENTITY_REF_BAD_NAME, NULL, NULL);
    resolves("/hello", ENTITY_REF_BAD_NAME, NULL, NULL);
    resolves("//hello", ENTITY_REF_BAD_NAME, NULL, NULL);
    resolves("/ns/", ENTITY_REF_BAD_NAME, NULL, NULL);
    resolves("-x", ENTITY_REF_BAD_NAME, NULL, NULL);
    resolves("/ns/a\"b", ENTITY_REF_BAD_NAME, NULL, NULL);
    char longname[600];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    resolves(longname, ENTITY_REF_BAD_NAME, NULL, NULL);
    longname[0] = '/';
    longname[300] = '/';
    resolves(longname, ENTITY_REF_BAD_NAME, NULL, NULL);
    char n[ENTITY_NS_MAX], e[ENTITY_NAME_MAX];
    CHECK(entity_resolve("guest", NULL, n, e) == ENTITY_REF_BAD_NAME);
    for (int r = ENTITY_REF_OK; r <= ENTITY_REF_PACKAGED; r++)
        CHECK(strlen(entity_ref_result_name((entity_ref_result)r)) > 0);
}

int main(void) {
    test_trigger_doc();
    test_resolve();
    return CHECK_DONE();
}
