/*
 * units.h: the sizes, durations and rates of gcsim's command line, read and printed.
 *
 * Sizes take Go's IEC suffixes (B, KiB, MiB, GiB, TiB, as GOMEMLIMIT does) and, as dd(1)
 * does, decimal SI suffixes (kB/KB, MB, GB, TB = powers of 1000) and bare binary
 * letters (K, M, G, T = powers of 1024); a fraction is allowed ("1.5GiB").
 * Durations are Go's time.ParseDuration syntax: "300ms", "1h2m3.5s", units ns us ms s m h.
 * Rates are SIZE/s or SIZE/DURATION ("100MiB/s", "1GiB/10s").
 * Each parser returns 0, or -1 with a message in err (naming what was wrong).
 */
#ifndef HN_SIM_UNITS_H
#define HN_SIM_UNITS_H

#include <stddef.h>
#include <stdint.h>

#define HN_UNITS_ERR_LEN 128

int hn_parse_size(const char *s, uint64_t *out, char *err);
int hn_parse_duration(const char *s, uint64_t *ns, char *err);
/* Bytes per second. */
int hn_parse_rate(const char *s, double *bytes_per_s, char *err);

/* "12.3 MiB", "512 B": into buf of at least 32 bytes; returns buf. */
char *hn_fmt_size(char *buf, size_t len, double bytes);
/* "1.234 s", "56.7 ms", "890 ns": into buf of at least 32 bytes; returns buf. */
char *hn_fmt_duration(char *buf, size_t len, double ns);

#endif
