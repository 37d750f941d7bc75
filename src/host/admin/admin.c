/* admin.c - `tfaas admin`: the operator's tool for tenants, working directly
 * on a state directory (like OpenWhisk's `wskadmin user create`).
 *
 *   tfaas admin namespace create NAME [--state DIR]   prints uuid:key
 *   tfaas admin namespace list [--state DIR]          prints NAME<TAB>UUID lines
 *   tfaas admin namespace delete NAME [--state DIR]   with its actions and activations
 *
 * --store URL (or $TFAAS_STORE) works on a PostgreSQL store instead.
 *
 * It may run while `tfaas serve` uses the same store: SQLite's locking and
 * busy timeout (or PostgreSQL's transactions) serialise the two processes,
 * and the server notices a deleted namespace within about 100 ms
 * (src/host/gateway/tenants.c; NOTIFY tells it under PostgreSQL). Exit status: 0
 * done, 1 the operation failed, 2 the command line was wrong. */
#include "host/commands.h"
#include "host/store/store.h"
#include "host/store/store_packages.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXIT_USAGE 2
#define NAME_MAX_LEN 256 /* OpenWhisk's entity name limit */

static const char USAGE[] =
    "usage: tfaas admin namespace create NAME [--state DIR]\n"
    "       tfaas admin namespace list [--state DIR]\n"
    "       tfaas admin namespace delete NAME [--state DIR]\n"
    "\n"
    "Manages namespaces (tenants) and their credentials in a state directory.\n"
    "create prints the new credential as UUID:KEY; this is the only time the key\n"
    "is shown (the state keeps only its SHA-256). delete also removes the\n"
    "namespace's actions and activations. " STORE_SYSTEM_NAMESPACE " (the shared system\n"
    "packages tfaas serve installs) can be neither created nor deleted.\n"
    "\n"
    "options:\n"
    "  --state DIR   state directory (default: $TFAAS_STATE, else ./.tfaas)\n"
    "  --store URL   the store tfaas serve --store uses, when not the state\n"
    "                directory: a PostgreSQL URL (default: $TFAAS_STORE)\n"
    "  -h, --help    this help\n";

static const char USAGE_CREATE[] =
    "usage: tfaas admin namespace create NAME [--state DIR]\n"
    "\n"
    "Creates namespace NAME with a fresh random credential and prints it as\n"
    "UUID:KEY (use it as the client's --auth). NAME: 1 to 256 characters of\n"
    "letters, digits, '_', '@', '.', '-' and space, starting with a letter,\n"
    "digit or '_', not ending with a space.\n";

static const char USAGE_LIST[] =
    "usage: tfaas admin namespace list [--state DIR]\n"
    "\n"
    "Prints one line per namespace: NAME, a tab, its credential's UUID.\n";

static const char USAGE_DELETE[] =
    "usage: tfaas admin namespace delete NAME [--state DIR]\n"
    "\n"
    "Deletes namespace NAME, its credential, its actions and its activations.\n"
    "A server running on the same state stops the namespace's enclaves and its\n"
    "queued and running activations within about 100 ms; none of them is\n"
    "recorded. A namespace created later under the same name is a new one and\n"
    "shares nothing with it.\n";

/* OpenWhisk's entity name rule: ^[A-Za-z0-9_][A-Za-z0-9_@ .-]*$, at most
 * 256 characters, and no trailing space. */
static bool valid_name(const char *name) {
    size_t n = strlen(name);
    if (n == 0 || n > NAME_MAX_LEN || name[n - 1] == ' ') return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
        if (!alnum && (i == 0 || !strchr("@ .-", c))) return false;
    }
    return true;
}

/* Prints a user-supplied string in quotes with control and non-ASCII bytes
 * escaped, so a hostile argument cannot drive the operator's terminal. */
static void put_quoted(FILE *f, const char *s) {
    fputc('\'', f);
    for (size_t i = 0; s[i] && i < 300; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f) fputc(c, f);
        else fprintf(f, "\\x%02x", c);
    }
    if (strlen(s) > 300) fputs("...", f);
    fputc('\'', f);
}

typedef struct {
    const char *verb;
    const char *name;  /* the positional NAME, if any */
    const char *state;
    const char *store; /* --store: a PostgreSQL URL instead of the state directory */
    bool help;
} admin_args;

/* Parses everything after "admin namespace VERB". 0 or EXIT_USAGE (message printed). */
static int parse_args(int argc, char **argv, admin_args *a) {
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
            a->help = true;
        } else if (!strcmp(arg, "--state")) {
            if (i + 1 >= argc) {
                fputs("tfaas admin: --state needs a directory\n", stderr);
                return EXIT_USAGE;
            }
            a->state = argv[++i];
        } else if (!strncmp(arg, "--state=", 8)) {
            a->state = arg + 8;
        } else if (!strcmp(arg, "--store")) {
            if (i + 1 >= argc) {
                fputs("tfaas admin: --store needs a URL\n", stderr);
                return EXIT_USAGE;
            }
            a->store = argv[++i];
        } else if (!strncmp(arg, "--store=", 8)) {
            a->store = arg + 8;
        } else if (arg[0] == '-' && arg[1] != '\0') {
            fputs("tfaas admin: unknown option ", stderr);
            put_quoted(stderr, arg);
            fputc('\n', stderr);
            return EXIT_USAGE;
        } else if (!a->name) {
            a->name = arg;
        } else {
            fputs("tfaas admin: unexpected argument ", stderr);
            put_quoted(stderr, arg);
            fputc('\n', stderr);
            return EXIT_USAGE;
        }
    }
    if (a->state && !*a->state) {
        fputs("tfaas admin: --state needs a directory\n", stderr);
        return EXIT_USAGE;
    }
    return 0;
}

static store *open_state(const char *dir) {
    store *s = NULL;
    char *err = NULL;
    if (store_open(dir, &s, &err) != STORE_OK) {
        fprintf(stderr, "tfaas admin: %s\n", err ? err : "cannot open the state directory");
        free(err);
        return NULL;
    }
    return s;
}

static int cmd_create(store *s, const char *name) {
    char uuid[STORE_UUID_LEN + 1], key[STORE_KEY_LEN + 1];
    store_status st = store_namespace_create(s, name, NULL, NULL, uuid, key);
    if (st == STORE_OK) {
        printf("%s:%s\n", uuid, key);
        return fflush(stdout) == 0 ? 0 : 1;
    }
    fputs("tfaas admin: namespace ", stderr);
    put_quoted(stderr, name);
    if (st == STORE_CONFLICT) fputs(" already exists\n", stderr);
    else fprintf(stderr, " could not be created: %s\n", store_last_error());
    return 1;
}

static int cmd_list(store *s) {
    json_t *list = NULL;
    if (store_namespace_list(s, &list) != STORE_OK) {
        fprintf(stderr, "tfaas admin: cannot list namespaces: %s\n", store_last_error());
        return 1;
    }
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e) {
        const char *name = json_string_value(json_object_get(e, "name"));
        const char *uuid = json_string_value(json_object_get(e, "uuid"));
        printf("%s\t%s\n", name ? name : "(name is not UTF-8)", uuid ? uuid : "");
    }
    json_decref(list);
    return fflush(stdout) == 0 ? 0 : 1;
}

static int cmd_delete(store *s, const char *name) {
    store_status st = store_namespace_delete(s, name);
    FILE *f = st == STORE_OK ? stdout : stderr;
    fputs(st == STORE_OK ? "deleted namespace " : "tfaas admin: namespace ", f);
    put_quoted(f, name);
    if (st == STORE_OK) fputs(" with its actions and activations\n", f);
    else if (st == STORE_NOT_FOUND) fputs(" does not exist\n", f);
    else fprintf(f, " could not be deleted: %s\n", store_last_error());
    return st == STORE_OK ? 0 : 1;
}

int admin_main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        fputs(USAGE, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : 0;
    }
    if (strcmp(argv[1], "namespace") != 0) {
        fputs("tfaas admin: unknown subject ", stderr);
        put_quoted(stderr, argv[1]);
        fputs(" (only 'namespace')\n\n", stderr);
        fputs(USAGE, stderr);
        return EXIT_USAGE;
    }
    if (argc < 3 || !strcmp(argv[2], "-h") || !strcmp(argv[2], "--help")) {
        fputs(USAGE, argc < 3 ? stderr : stdout);
        return argc < 3 ? EXIT_USAGE : 0;
    }
    admin_args a = {.verb = argv[2]};
    const char *help;
    bool needs_name;
    if (!strcmp(a.verb, "create")) help = USAGE_CREATE, needs_name = true;
    else if (!strcmp(a.verb, "list")) help = USAGE_LIST, needs_name = false;
    else if (!strcmp(a.verb, "delete")) help = USAGE_DELETE, needs_name = true;
    else {
        fputs("tfaas admin: unknown command namespace ", stderr);
        put_quoted(stderr, a.verb);
        fputs("\n\n", stderr);
        fputs(USAGE, stderr);
        return EXIT_USAGE;
    }
    int rc = parse_args(argc - 3, argv + 3, &a);
    if (rc) {
        fputc('\n', stderr);
        fputs(help, stderr);
        return rc;
    }
    if (a.help) {
        fputs(help, stdout);
        return 0;
    }
    if (needs_name != (a.name != NULL)) {
        fputs(needs_name ? "tfaas admin: NAME is missing\n\n" : "tfaas admin: list takes no NAME\n\n", stderr);
        fputs(help, stderr);
        return EXIT_USAGE;
    }
    if (!strcmp(a.verb, "create") && !valid_name(a.name)) {
        fputs("tfaas admin: invalid namespace name ", stderr);
        put_quoted(stderr, a.name);
        fputs(": 1 to 256 of [A-Za-z0-9_@ .-], starting with [A-Za-z0-9_], no trailing space\n", stderr);
        return EXIT_USAGE;
    }
    if (a.name && !strcmp(a.name, STORE_SYSTEM_NAMESPACE)) {
        /* a credential for it would let its holder replace code every tenant runs */
        fputs("tfaas admin: " STORE_SYSTEM_NAMESPACE " is the read-only system namespace that tfaas serve installs;"
              " it cannot be created or deleted here\n", stderr);
        return EXIT_USAGE;
    }
    if (!a.state) {
        const char *env = getenv("TFAAS_STATE");
        a.state = env && *env ? env : ".tfaas";
    }
    if (!a.store || !*a.store) {
        const char *env = getenv("TFAAS_STORE");
        a.store = env && *env ? env : a.state;
    }
    store *s = open_state(a.store);
    if (!s) return 1;
    if (!strcmp(a.verb, "create")) rc = cmd_create(s, a.name);
    else if (!strcmp(a.verb, "list")) rc = cmd_list(s);
    else rc = cmd_delete(s, a.name);
    store_close(s);
    return rc;
}
