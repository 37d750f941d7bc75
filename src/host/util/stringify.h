/* stringify.h - STR(x): a macro's value as a string literal, for limits
 * written into SQL text and error messages at compile time (so the number
 * a message or query states is the one the code enforces). */
#ifndef TFAAS_HOST_UTIL_STRINGIFY_H
#define TFAAS_HOST_UTIL_STRINGIFY_H
#define STR_(x) #x
#define STR(x) STR_(x)
#endif
