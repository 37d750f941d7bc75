/* cli_config.h - where the client's connection settings come from, highest
 * first: the --apihost/--auth flags, the TFAAS_APIHOST/TFAAS_AUTH environment,
 * the config file (~/.tfaas/config or $TFAAS_CONFIG; `APIHOST=...` and
 * `AUTH=...` lines like ~/.wskprops), and the default apihost. */
#ifndef TFAAS_HOST_CLI_CONFIG_H
#define TFAAS_HOST_CLI_CONFIG_H
#include <stddef.h>
#include <stdio.h>

#define CLI_DEFAULT_APIHOST "http://127.0.0.1:3233"
#define CLI_CONFIG_LINE_MAX 4096       /* longest accepted config line */
#define CLI_CONFIG_SIZE_MAX (64 * 1024) /* largest accepted config file */

/* Owned strings; auth is NULL when no source gave credentials. apihost is
 * always set, normalised (a scheme, no trailing '/'). */
struct cli_conn {
    char *apihost;
    char *auth;
};

/* The APIHOST and AUTH values of a config file (NULL when absent; owned). */
struct cli_config {
    char *apihost;
    char *auth;
};

/* Reads a config file. Returns 0 (values filled), 1 if the file does not exist
 * (nothing filled), or -1 with "PATH:LINE: reason" in err for unreadable or
 * malformed files (a line without '=', a line or file too long, NUL bytes).
 * Blank lines and lines starting with '#' are skipped; unknown keys ignored. */
int cli_config_load(const char *path, struct cli_config *out, char *err, size_t errlen);
/* The parser cli_config_load applies to the open file f; path names it in
 * messages. Returns 0 or -1 as cli_config_load does (never 1). */
int cli_config_read(FILE *f, const char *path, struct cli_config *out, char *err, size_t errlen);
void cli_config_free(struct cli_config *c);

/* Combines the sources by precedence. Any argument may be NULL; the config
 * file is read only when flags and environment leave something unset.
 * Returns 0, or -1 with the reason in err. */
int cli_conn_resolve(const char *flag_apihost, const char *flag_auth,
                     const char *env_apihost, const char *env_auth,
                     const char *config_path, struct cli_conn *out,
                     char *err, size_t errlen);
void cli_conn_free(struct cli_conn *c);

/* The config path to use: $TFAAS_CONFIG, else $HOME/.tfaas/config, else NULL.
 * Malloc'd. */
char *cli_config_default_path(void);

/* Normalises an apihost: adds "http://" when there is no scheme, strips
 * trailing slashes. Returns a malloc'd string, or NULL if it is empty, has an
 * empty scheme or nothing after "scheme://", or has characters that do not
 * belong in a URL (spaces, controls). */
char *cli_apihost_normalise(const char *apihost);
#endif
