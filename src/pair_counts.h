/*
 * pair_counts.h
 *		A hash table of counts keyed by a pair of 32-bit numbers (a << 32 | b):
 *		the cells of a contingency table, the co-occurrences of two items.
 */
#ifndef CXSELL_PAIR_COUNTS_H
#define CXSELL_PAIR_COUNTS_H

#include "postgres.h"

#include "common/hashfn.h"

typedef struct CxPairCount
{
	uint64		key;			/* a << 32 | b */
	int64		count;
	char		status;
} CxPairCount;

#define SH_PREFIX cx_pair_counts
#define SH_ELEMENT_TYPE CxPairCount
#define SH_KEY_TYPE uint64
#define SH_KEY key
#define SH_HASH_KEY(tb, k) hash_bytes_uint32((uint32) (k) ^ murmurhash32((uint32) ((k) >> 32)))
#define SH_EQUAL(tb, a, b) ((a) == (b))
#define SH_SCOPE static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

#endif							/* CXSELL_PAIR_COUNTS_H */
