/* check.h - the few assertion macros the C unit tests share.
 * A failed CHECK prints file:line and the expression, counts, and the test
 * keeps going; CHECK_DONE() prints "N passed, N failed" and sets the exit code. */
#ifndef TFAAS_TESTS_CHECK_H
#define TFAAS_TESTS_CHECK_H
#include <stdio.h>
#include <string.h>

static int check_passed, check_failed;

#define CHECK(cond) do { \
    if (cond) check_passed++; \
    else { check_failed++; fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } \
} while (0)

#define CHECK_STR(a, b) do { \
    const char *check_a_ = (a), *check_b_ = (b); \
    if (check_a_ && check_b_ && strcmp(check_a_, check_b_) == 0) check_passed++; \
    else { check_failed++; fprintf(stderr, "%s:%d: CHECK_STR failed: %s == \"%s\", expected \"%s\"\n", \
            __FILE__, __LINE__, #a, check_a_ ? check_a_ : "(null)", check_b_ ? check_b_ : "(null)"); } \
} while (0)

#define CHECK_DONE() (printf("%s: %d passed, %d failed\n", __FILE__, check_passed, check_failed), \
                      check_failed ? 1 : 0)
#endif
