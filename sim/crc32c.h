/*
 * crc32c.h: CRC-32C (Castagnoli), the checksum of trace.bin's header and chunks.
 *
 * CRC-32C rather than the zlib CRC-32 because it detects more error patterns at
 * the lengths we checksum (up to 1 MiB) and because x86 and ARM compute it in
 * hardware. The table-driven code here processes 8 bytes per step (slice-by-8); where
 * the processor has the crc32 instruction (SSE4.2) it is used instead.
 */
#ifndef HN_SIM_CRC32C_H
#define HN_SIM_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* crc of data continued from crc (0 to start): hn_crc32c(hn_crc32c(0, a), b) is the
 * crc of a followed by b. Thread-safe, async-signal-safe, never allocates. */
uint32_t hn_crc32c(uint32_t crc, const void *data, size_t len);
/* The same by the tables alone, whatever the processor has (for tests). */
uint32_t hn_crc32c_table(uint32_t crc, const void *data, size_t len);

#endif
