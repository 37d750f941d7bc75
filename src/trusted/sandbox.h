/* sandbox.h - confinement of the enclave process (the sim TEE backend's
 * isolation): applied in two steps around the creation of worker threads. */
#ifndef TFAAS_TRUSTED_SANDBOX_H
#define TFAAS_TRUSTED_SANDBOX_H

/* Before any thread exists: closes every descriptor but 0, 1, 2,
 * keep_fd and keep_fd2 (-1: none), fixes the time zone to UTC (so no file is read for it later),
 * sets rlimits, no-new-privileges and non-dumpable. 0, or -1 with a reason
 * on stderr. */
int sandbox_prepare(int keep_fd, int keep_fd2);

/* After the worker threads exist: forbids new processes and installs the
 * seccomp allow-list on every thread; exec_memory allows executable
 * mappings (an engine with a JIT); egress allows what fetch's connection
 * requests need (AF_UNIX socketpairs, SCM_RIGHTS: trusted/fetch/egress_conn.h).
 * 0, or -1 with a reason on stderr. */
int sandbox_lock(int exec_memory, int egress);

#endif
