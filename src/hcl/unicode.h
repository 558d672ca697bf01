/* UTF-8 decoding, the identifier classes of HCL and NFC normalization.
 * Pure functions over byte strings. */
#ifndef MOAT_HCL_UNICODE_H
#define MOAT_HCL_UNICODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Decodes one UTF-8 sequence from s (n bytes available). Returns its length
 * (1-4) and stores the code point, or 0 for an invalid or truncated
 * sequence (overlong forms, surrogates and values over U+10FFFF are
 * invalid). */
size_t utf8_decode(const char *s, size_t n, uint32_t *cp);
/* Encodes cp (a valid scalar value) into out; returns the length. */
size_t utf8_encode(uint32_t cp, char out[4]);
/* True when all n bytes of s are valid UTF-8. */
bool utf8_valid(const char *s, size_t n);

bool uc_id_start(uint32_t cp);
bool uc_id_continue(uint32_t cp);
/* Go's unicode.IsSpace: the characters HCL trims around strip markers and
 * counts as heredoc indentation. */
bool uc_is_space(uint32_t cp);

/* Returns s (n bytes, valid UTF-8) in Normalization Form C as a fresh
 * NUL-terminated string; its length goes to *outlen. */
char *uc_nfc(const char *s, size_t n, size_t *outlen);

#endif
