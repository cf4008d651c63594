/*
 * costmodel.c: the cost model's defaults and its calibration file.
 *
 * The file is text, one "name value" pair a line, '#' starting a comment:
 *
 *   # gcsim calibration, written by `gcsim calibrate` on HOST at DATE
 *   version 7
 *   pause_ns 61234.5
 *   mark_ns_at_16 52.1
 *   ...                          (one line a knot: mark_ns_at_SIZE, costmodel.h)
 *   mark_ns_at_1024 301.9
 *   mark_ns_per_streamed_byte 0.091
 *   mark_ns_per_object_uncached 31.0
 *   cache_bytes 8388608
 *   mark_ns_per_page 180.5
 *   sweep_ns_per_span 148.2
 *
 * `version` comes first and must be 2 to HN_COST_FILE_VERSION: the constants' meaning
 * changed with the collector (version 1, unnumbered, was fitted to a stop-the-world
 * collector's pauses; version 2 to the concurrent collector's marking CPU, with one
 * cost for every byte, which a version 2 file still gives streamed bytes too; versions
 * 2 and 3 fitted the sweep cost per span page; versions 3 to 5 compared cache_bytes
 * with the heap in use, 6 with the pages holding a live object; versions 2 to 6 priced
 * an object with mark_ns_per_object plus mark_ns_per_byte for each byte of its first
 * KiB, which gives the knots' costs), and a file of another version is refused with a
 * message saying to calibrate again. Every name must be known and every value a finite
 * non-negative number; all must be present: in version 7 the knots, streamed bytes,
 * uncached objects, cache_bytes, pages, pause and sweep; in 5 and 6 mark_ns_per_byte
 * and mark_ns_per_object in place of the knots; in 3 and 4 the same without the cost
 * per page; in 2 four (pause, per byte, per object, sweep).
 * A file that breaks these rules is an error, not silently ignored: a user who
 * calibrated expects the calibration to be used.
 */
#include "sim/costmodel.h"

#include "alloc/sizeclass.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const double hn_cost_knot_bytes[HN_COST_KNOTS] = {16, 32, 48, 64, 128, 256, 512, 1024};

/* The knots' costs of a model with one cost per object and one per byte of an object's
 * first KiB (the defaults, and cost files before version 7). */
static void knots_from_line(hn_cost *c, double per_object, double per_byte)
{
    for (int k = 0; k < HN_COST_KNOTS; k++)
        c->mark_ns_at[k] = per_object + per_byte * hn_cost_knot_bytes[k];
}

void hn_cost_scan_add(hn_cost_scan *s, double size, double count)
{
    s->bytes += size * count;
    s->streamed += (double)hn_cost_streamed((unsigned long long)size) * count;
    s->objects += count;
    const double *kb = hn_cost_knot_bytes;
    if (size <= kb[0]) {
        s->at[0] += count;
        return;
    }
    for (int k = 1; k < HN_COST_KNOTS; k++)
        if (size <= kb[k]) {
            double up = (size - kb[k - 1]) / (kb[k] - kb[k - 1]);
            s->at[k - 1] += count * (1 - up);
            s->at[k] += count * up;
            return;
        }
    s->at[HN_COST_KNOTS - 1] += count; /* and its streamed bytes */
}

void hn_cost_scan_add_classes(hn_cost_scan *s, const uint64_t *in_class, uint64_t large_bytes)
{
    for (unsigned c = 1; c < HN_NCLASSES; c++)
        if (in_class[c])
            hn_cost_scan_add(s, hn_class_size[c], (double)in_class[c]);
    hn_cost_scan_add_large(s, (double)large_bytes, (double)in_class[0]);
}

void hn_cost_scan_add_large(hn_cost_scan *s, double bytes, double count)
{
    s->bytes += bytes;
    s->streamed += bytes - HN_COST_STREAM_AFTER * count;
    s->objects += count;
    s->at[HN_COST_KNOTS - 1] += count;
}

double hn_cost_mark_ns(const hn_cost *c, const hn_cost_scan *s)
{
    double walked = c->cache_of_heap ? s->heap : s->pages * HN_COST_PAGE_BYTES;
    double ns = c->mark_ns_per_streamed_byte * s->streamed +
                hn_cost_uncached(c->mark_ns_per_object_uncached, c->cache_bytes, walked) *
                    s->objects +
                c->mark_ns_per_page * s->pages;
    for (int k = 0; k < HN_COST_KNOTS; k++)
        ns += c->mark_ns_at[k] * s->at[k];
    return ns;
}

void hn_cost_defaults(hn_cost *c)
{
    c->pause_ns = HN_COST_DEFAULT_PAUSE_NS;
    knots_from_line(c, HN_COST_DEFAULT_MARK_NS_PER_OBJECT, HN_COST_DEFAULT_MARK_NS_PER_BYTE);
    c->mark_ns_per_streamed_byte = HN_COST_DEFAULT_MARK_NS_PER_STREAMED_BYTE;
    c->mark_ns_per_object_uncached = HN_COST_DEFAULT_MARK_NS_PER_OBJECT_UNCACHED;
    c->cache_bytes = HN_COST_DEFAULT_CACHE_BYTES;
    c->cache_of_heap = 0;
    c->mark_ns_per_page = HN_COST_DEFAULT_MARK_NS_PER_PAGE;
    c->sweep_ns_per_span = HN_COST_DEFAULT_SWEEP_NS_PER_SPAN;
    snprintf(c->source, sizeof c->source, "defaults");
}

int hn_cost_path(char *buf, size_t len)
{
    const char *xdg = getenv("XDG_CONFIG_HOME");
    int n;
    if (xdg && xdg[0] == '/')
        n = snprintf(buf, len, "%s/heron/gcsim-calibration", xdg);
    else if (getenv("HOME") && getenv("HOME")[0])
        n = snprintf(buf, len, "%s/.config/heron/gcsim-calibration", getenv("HOME"));
    else
        return -1;
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* The knot a name "mark_ns_at_SIZE" is of, or -1. */
static int knot_named(const char *name)
{
    static const char prefix[] = "mark_ns_at_";
    if (strncmp(name, prefix, sizeof prefix - 1) != 0)
        return -1;
    const char *digits = name + sizeof prefix - 1;
    if (*digits < '1' || *digits > '9' || strspn(digits, "0123456789") != strlen(digits) ||
        strlen(digits) > 6)
        return -1;
    double size = strtod(digits, NULL);
    for (int k = 0; k < HN_COST_KNOTS; k++)
        if (size == hn_cost_knot_bytes[k])
            return k;
    return -1;
}

int hn_cost_load(hn_cost *c, const char *path, char *err)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, HN_COST_ERR_LEN, "%s: %s", path, strerror(errno));
        return -1;
    }
    hn_cost n = *c;
    double per_byte = 0, per_object = 0; /* versions 2 to 6 */
    unsigned seen = 0; /* bits: the names below; 256 << k: knot k */
    bool versioned = false;
    long version = 0;
    char line[512];
    int lineno = 0;
    int rc = 1;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *p = line + strspn(line, " \t");
        if (*p == '#' || *p == '\n' || *p == 0)
            continue;
        char name[64];
        char value[128];
        char extra[8];
        if (sscanf(p, "%63s %127s %7s", name, value, extra) != 2) {
            snprintf(err, HN_COST_ERR_LEN, "%s: line %d: expected 'name value'", path, lineno);
            rc = -1;
            break;
        }
        if (!versioned) {
            long ver = strcmp(name, "version") == 0 ? strtol(value, NULL, 10) : 0;
            if (strcmp(name, "version") != 0)
                snprintf(err, HN_COST_ERR_LEN, "%s: line %d: no version line before it: an "
                         "old calibration (of the stop-the-world collector); run `gcsim "
                         "calibrate` again", path, lineno);
            else if (ver < 2 || ver > HN_COST_FILE_VERSION ||
                     strspn(value, "0123456789") != strlen(value))
                snprintf(err, HN_COST_ERR_LEN, "%s: line %d: version '%s': this gcsim reads "
                         "versions 2 to %d; run `gcsim calibrate` again", path, lineno, value,
                         HN_COST_FILE_VERSION);
            else {
                versioned = true;
                version = ver;
                continue;
            }
            rc = -1;
            break;
        }
        char *end;
        double v = strtod(value, &end);
        if (*end || !isfinite(v) || v < 0) {
            snprintf(err, HN_COST_ERR_LEN, "%s: line %d: '%s' is not a non-negative number",
                     path, lineno, value);
            rc = -1;
            break;
        }
        if (strcmp(name, "pause_ns") == 0) {
            n.pause_ns = v;
            seen |= 1;
        } else if (strcmp(name, "mark_ns_per_byte") == 0 && version < 7) {
            per_byte = v;
            seen |= 2;
        } else if (strcmp(name, "sweep_ns_per_span") == 0) {
            n.sweep_ns_per_span = v;
            seen |= 4;
        } else if (strcmp(name, "mark_ns_per_object") == 0 && version < 7) {
            per_object = v;
            seen |= 8;
        } else if (version >= 7 && knot_named(name) >= 0) {
            n.mark_ns_at[knot_named(name)] = v;
            seen |= 256u << knot_named(name);
        } else if (strcmp(name, "mark_ns_per_streamed_byte") == 0 && version >= 3) {
            n.mark_ns_per_streamed_byte = v;
            seen |= 16;
        } else if (strcmp(name, "mark_ns_per_object_uncached") == 0 && version >= 3) {
            n.mark_ns_per_object_uncached = v;
            seen |= 32;
        } else if (strcmp(name, "cache_bytes") == 0 && version >= 3) {
            n.cache_bytes = v;
            seen |= 64;
        } else if (strcmp(name, "mark_ns_per_page") == 0 && version >= 5) {
            n.mark_ns_per_page = v;
            seen |= 128;
        } else {
            snprintf(err, HN_COST_ERR_LEN, "%s: line %d: unknown name '%s'", path, lineno, name);
            rc = -1;
            break;
        }
    }
    fclose(f);
    if (rc == 1 && !versioned) {
        snprintf(err, HN_COST_ERR_LEN, "%s: empty: no version line", path);
        rc = -1;
    }
    if (rc == 1 && version < 7) { /* an object's cost on one line */
        knots_from_line(&n, per_object, per_byte);
        seen |= ((1u << HN_COST_KNOTS) - 1) << 8;
    } else {
        seen |= 2 | 8;
    }
    if (rc == 1 && version == 2) { /* one cost for every byte and every heap */
        n.mark_ns_per_streamed_byte = per_byte;
        n.mark_ns_per_object_uncached = 0;
        n.cache_bytes = 0;
        seen |= 16 | 32 | 64;
    }
    if (rc == 1 && version < 6) /* the cache term fitted against the heap in use */
        n.cache_of_heap = 1;
    if (rc == 1 && version < 5) { /* no cost per page */
        n.mark_ns_per_page = 0;
        seen |= 128;
    }
    if (rc == 1 && seen != (256u << HN_COST_KNOTS) - 1) {
        if (version < 7)
            snprintf(err, HN_COST_ERR_LEN, "%s: needs pause_ns, mark_ns_per_byte, "
                     "mark_ns_per_streamed_byte, mark_ns_per_object, "
                     "mark_ns_per_object_uncached, cache_bytes, mark_ns_per_page and "
                     "sweep_ns_per_span", path);
        else {
            char knots[128] = "";
            for (int k = 0; k < HN_COST_KNOTS; k++)
                snprintf(knots + strlen(knots), sizeof knots - strlen(knots), " mark_ns_at_%.0f",
                         hn_cost_knot_bytes[k]);
            snprintf(err, HN_COST_ERR_LEN, "%s: needs pause_ns,%s, mark_ns_per_streamed_byte, "
                     "mark_ns_per_object_uncached, cache_bytes, mark_ns_per_page and "
                     "sweep_ns_per_span", path, knots);
        }
        rc = -1;
    }
    if (rc == 1) {
        *c = n;
        snprintf(c->source, sizeof c->source, "%s", path);
    }
    return rc;
}

/* mkdir -p of the directories above path. */
static int make_parents(const char *path)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return 0;
}

int hn_cost_save(const hn_cost *c, const char *path, const char *comment, char *err)
{
    if (make_parents(path) < 0) {
        snprintf(err, HN_COST_ERR_LEN, "%s: %s", path, strerror(errno));
        return -1;
    }
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, HN_COST_ERR_LEN, "%s: %s", path, strerror(errno));
        return -1;
    }
    fprintf(f, "# %s\nversion %d\npause_ns %.1f\n", comment, HN_COST_FILE_VERSION,
            c->pause_ns);
    for (int k = 0; k < HN_COST_KNOTS; k++)
        fprintf(f, "mark_ns_at_%.0f %.2f\n", hn_cost_knot_bytes[k], c->mark_ns_at[k]);
    fprintf(f, "mark_ns_per_streamed_byte %.4f\nmark_ns_per_object_uncached %.2f\n"
               "cache_bytes %.0f\nmark_ns_per_page %.2f\nsweep_ns_per_span %.2f\n",
            c->mark_ns_per_streamed_byte, c->mark_ns_per_object_uncached, c->cache_bytes,
            c->mark_ns_per_page, c->sweep_ns_per_span);
    if (fclose(f) != 0) {
        snprintf(err, HN_COST_ERR_LEN, "%s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}
