/* cli_file.h - bounded reading of the files the client sends (action code,
 * parameter files): whole file into memory, "-" meaning stdin, with a size cap
 * so a wrong path (a device, a huge log) gives an error rather than an OOM;
 * and the client's own state files (pins) beside its config file. */
#ifndef TFAAS_HOST_CLI_FILE_H
#define TFAAS_HOST_CLI_FILE_H
#include <jansson.h>
#include <stddef.h>

/* The largest file the client reads: above OpenWhisk's 48 MB action code limit. */
#define CLI_FILE_MAX ((size_t)48 << 20)

/* Reads all of path ("-" = stdin), at most max bytes. On success returns 0 and
 * a malloc'd, NUL-terminated buffer in *data (caller frees) with its length in
 * *len (the data may itself contain NULs). On failure -1 and a message in err. */
int cli_file_read(const char *path, size_t max, char **data, size_t *len,
                  char *err, size_t errlen);

/* A client state file: $env when set, else `name` in the config file's
 * directory (~/.tfaas/NAME). Malloc'd; NULL without HOME and TFAAS_CONFIG. */
char *cli_file_beside_config(const char *env, const char *name);
/* Writes j (indented, sorted keys) to path atomically (file_write_atomic,
 * mode 0644), making its directory first if missing. `what` names the file
 * in err. 0 or -1 with err. */
int cli_file_write_json(const char *path, const json_t *j, const char *what, char *err, size_t errlen);
#endif
