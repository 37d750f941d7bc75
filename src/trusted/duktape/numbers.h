/* numbers.h - the everyday numbers Duktape reads and writes without its
 * bignum conversions (wired into duktape.c by scripts/duk-source.sh; their
 * declarations there come from scripts/duk-config.sh). Each handles what it
 * can prove exact and leaves everything else to Duktape's own code. */
#ifndef TFAAS_TRUSTED_DUKTAPE_NUMBERS_H
#define TFAAS_TRUSTED_DUKTAPE_NUMBERS_H

/* JSON.parse's plain numbers: -?(0|[1-9][0-9]*)(.[0-9]+)? of at most 15
 * digits. 1 with *out (the nearest double) and *end (the first byte after
 * the number); 0 leaves the text to Duktape. */
int tfaas_duk_json_number(const unsigned char *p, const unsigned char **end, double *out);

/* ECMAScript's Number::toString(x) in radix 10 (String(x), JSON.stringify,
 * concatenation) for a finite x whose shortest round-trip form has at most
 * 15 significant digits and whose magnitude lies within about 1e-7..1e37:
 * writes it to out (at least TFAAS_DUK_NUMBER_MAX bytes, not terminated)
 * and returns its length; 0 for any other x, which Duktape then formats. */
#define TFAAS_DUK_NUMBER_MAX 32
int tfaas_duk_number_string(double x, char *out);

#endif
