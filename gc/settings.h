/* gc/settings.h: parsing GOGC and GOMEMLIMIT values exactly as Go's runtime
 * accepts them (readGOGC, readGOMEMLIMIT, parseByteCount), but reporting
 * every value Go would reject or silently replace, instead of guessing.
 *
 *   GOGC:       "off", or a decimal integer with an optional leading '-' that
 *               fits in 32 bits (Go's atoi32). Negative means off (Go's
 *               SetGCPercent treats every negative value as off). No '+', no
 *               spaces, no other base. Unset or "" means the default, 100.
 *   GOMEMLIMIT: "off", or ^[0-9]+(([KMGT]i)?B)?$ : a decimal byte count,
 *               optionally followed by B, KiB, MiB, GiB or TiB (powers of
 *               1024), at most math.MaxInt64 bytes. No spaces, no decimal
 *               SI suffixes (KB, MB...), no fractions. Unset, "" and "off"
 *               mean no limit (INT64_MAX).
 * Go does not trim whitespace, so " 100" and "64MiB\n" are errors.
 *
 * Where Go differs: for a malformed GOGC, Go silently uses 100; here the
 * parser reports the error and the caller decides. A malformed GOMEMLIMIT is
 * fatal in Go; here it is an error the caller reports.
 *
 * Errors are returned as a message in a caller's buffer, with no program name
 * and no newline, so a tool can print "gcsim: error: <msg>" and a library can
 * put it in its own log. This module never prints.
 */
#ifndef HERON_GC_SETTINGS_H
#define HERON_GC_SETTINGS_H

#include <stddef.h>
#include <stdint.h>

#define HN_SETTINGS_GOGC_DEFAULT 100

/* Enough for any message below, with the value quoted back (cut to 32 bytes,
 * non-printable bytes as \xNN); longer messages are cut, never overflowed. */
#define HN_SETTINGS_ERR_MAX 256

/* Parse a GOGC value. s may be NULL (unset). On success stores the percent
 * (HN_PACER_GOGC_OFF, -1, for off) in *out and returns 0. On error stores a
 * message in err (if errlen > 0), leaves *out alone and returns -1. */
int hn_settings_parse_gogc(const char *s, int32_t *out, char *err, size_t errlen);

/* Parse a GOMEMLIMIT value. s may be NULL (unset). On success stores bytes
 * (INT64_MAX for off) in *out and returns 0; on error as above. */
int hn_settings_parse_gomemlimit(const char *s, int64_t *out, char *err, size_t errlen);

/* Go's parseByteCount alone: 0 and *out on success, -1 if malformed or out
 * of range. For callers taking sizes in Go's syntax (gcsim --gomemlimit). */
int hn_settings_parse_bytes(const char *s, int64_t *out);

#endif
