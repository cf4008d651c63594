/*
 * report.h: what gcsim prints and writes about its runs: the summary (one column per
 * run, side by side), the time series as CSV and JSON, and the picture as SVG or as an
 * HTML page holding the SVG. A run is a simulation or a replay; they share hn_summary
 * so they print in the same table.
 */
#ifndef HN_SIM_REPORT_H
#define HN_SIM_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/series.h"
#include "sim/simulate.h"

typedef struct hn_run {
    char label[64];        /* column heading: "GOGC=100", "replay gc" */
    char setting[96];      /* "GOGC=100 GOMEMLIMIT=off" */
    int32_t gogc;          /* HN_PACER_GOGC_OFF for off */
    int64_t memory_limit;  /* HN_PACER_NO_LIMIT for off */
    int32_t procs;         /* 0: varied with the trace's threads */
    bool replay;           /* measured on the collector: no limiter time */
    hn_summary sum;
    const hn_series *series; /* NULL when not kept */
} hn_run;

#define HN_REPORT_ERR_LEN 512

/* The summary table: one column per run. */
void hn_report_summary(FILE *f, const hn_run *runs, size_t n);
/* "GOGC=100" / "GOGC=off", "64 MiB" / "off" into buf (>= 32 bytes). */
const char *hn_report_gogc(char *buf, size_t len, int32_t gogc);
const char *hn_report_limit(char *buf, size_t len, int64_t limit);

/* Files; each returns 0, or -1 with a message naming the file in err. */
int hn_report_csv(const char *path, const hn_run *runs, size_t n, char *err);
int hn_report_json(const char *path, const char *trace, const hn_run *runs, size_t n,
                   char *err);
int hn_report_svg(const char *path, const char *trace, const hn_run *runs, size_t n,
                  char *err);
int hn_report_html(const char *path, const char *trace, const hn_run *runs, size_t n,
                   char *err);
/* The picture into an open stream (SVG text, no XML declaration). */
void hn_report_svg_write(FILE *f, const char *trace, const hn_run *runs, size_t n);

#endif
