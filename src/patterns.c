/*
 * patterns.c
 *		The cxsell.patterns type: its stored format, validation and I/O.
 *
 * A cxsell.patterns value holds the result of one mining run.  Its bytes are
 * the same on disk, in binary I/O and (hex-encoded) in text I/O, and are
 * portable: all integers big-endian.  Version 1:
 *
 *	"CXP" u8 version=1
 *	u64 n (baskets), f64 min_support, u32 max_len, u64 min_count
 *	u32 nitems; per item: u32 length, the item's text
 *	u64 nsets; per itemset: u32 size, u64 count, size x u32 item numbers
 *	u64 npairs; per pair: u32 a, u32 b, u64 count
 *
 * Version 2 is version 1 followed by
 *
 *	u8 flags (1 = weighted, 2 = hierarchy)
 *	weighted: f64 total weight; per itemset, f64 weight
 *	hierarchy: u64 nlinks; per link: u32 child, u32 parent
 *
 * and is written only for values with weights or a hierarchy.
 *
 * Items are numbered in the item type's order.  Itemsets come in canonical
 * order (size, then item numbers), the first nitems being the single items;
 * pairs list every two frequent items that co-occur, ordered by (a, b).
 * Every value read from outside is validated in full (CxPatternsDecode)
 * before any other code looks at it.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "bytes.h"
#include "cxsell.h"

#define PATTERNS_VERSION 1
#define PATTERNS_VERSION_EXTRAS 2
#define PATTERNS_FLAG_WEIGHTED 1
#define PATTERNS_FLAG_HIERARCHY 2
#define PATTERNS_HEADER 32

PG_FUNCTION_INFO_V1(patterns_in);
PG_FUNCTION_INFO_V1(patterns_out);
PG_FUNCTION_INFO_V1(patterns_recv);
PG_FUNCTION_INFO_V1(patterns_send);
PG_FUNCTION_INFO_V1(patterns_summary);

/*
 * The bytes of the cxsell.patterns value of `p`; an itemset of k items adds
 * CX_PATTERNS_SET_BYTES(k), a pair CX_PATTERNS_PAIR_BYTES.
 */
Size
CxPatternsEncodedSize(const CxPatterns *p)
{
	Size		size = VARHDRSZ + PATTERNS_HEADER + 4 + 8 + 8;
	int32		i;
	int64		s;

	for (i = 0; i < p->nitems; i++)
		size += 4 + strlen(p->item_name[i]);
	for (s = 0; s < p->nsets; s++)
		size += CX_PATTERNS_SET_BYTES((Size) p->set_size[s]);
	size += CX_PATTERNS_PAIR_BYTES * (Size) p->npairs;
	if (p->weighted || p->nlinks > 0)
		size += 1;
	if (p->weighted)
		size += 8 + 8 * (Size) p->nsets;
	if (p->nlinks > 0)
		size += 8 + 8 * (Size) p->nlinks;
	return size;
}

/* Encode a mined result as a cxsell.patterns varlena. */
bytea *
CxPatternsEncode(const CxPatterns *p)
{
	StringInfoData buf;
	Size		size = CxPatternsEncodedSize(p);
	int32		i;
	int64		s;

	if (size > MaxAllocSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("mined patterns are too large for one cxsell.patterns value"),
				 errdetail("%lld itemsets and %lld item pairs would take %zu bytes; the limit is %zu.",
						   (long long) p->nsets, (long long) p->npairs,
						   size, (Size) MaxAllocSize),
				 errhint("Raise min_support or bound the itemset size with max_len.")));

	initStringInfo(&buf);
	enlargeStringInfo(&buf, (int) size);
	appendStringInfoSpaces(&buf, VARHDRSZ);
	appendBinaryStringInfo(&buf, "CXP", 3);
	appendStringInfoChar(&buf, (p->weighted || p->nlinks > 0) ?
						 PATTERNS_VERSION_EXTRAS : PATTERNS_VERSION);
	cx_put_u64(&buf, p->n);
	cx_put_f64(&buf, p->min_support);
	cx_put_u32(&buf, (uint32) p->max_len);
	cx_put_u64(&buf, p->min_count);
	cx_put_u32(&buf, p->nitems);
	for (i = 0; i < p->nitems; i++)
	{
		Size		len = strlen(p->item_name[i]);

		cx_put_u32(&buf, len);
		appendBinaryStringInfo(&buf, p->item_name[i], len);
	}
	cx_put_u64(&buf, p->nsets);
	for (s = 0; s < p->nsets; s++)
	{
		int32		k;

		/* the format's invariants: sets by size, counts in [min_count, n] */
		Assert(s == 0 || p->set_size[s - 1] <= p->set_size[s]);
		Assert(p->set_count[s] >= p->min_count && p->set_count[s] <= p->n);
		Assert(s >= p->nitems || (p->set_size[s] == 1 && p->set_items[p->set_off[s]] == (uint32) s));
		cx_put_u32(&buf, p->set_size[s]);
		cx_put_u64(&buf, p->set_count[s]);
		for (k = 0; k < p->set_size[s]; k++)
			cx_put_u32(&buf, p->set_items[p->set_off[s] + k]);
	}
	cx_put_u64(&buf, p->npairs);
	for (s = 0; s < p->npairs; s++)
	{
		/* pairs of frequent items a < b, in (a, b) order */
		Assert(p->pair_a[s] < p->pair_b[s] && p->pair_b[s] < (uint32) p->nitems);
		Assert(s == 0 || p->pair_a[s - 1] < p->pair_a[s] ||
			   (p->pair_a[s - 1] == p->pair_a[s] && p->pair_b[s - 1] < p->pair_b[s]));
		cx_put_u32(&buf, p->pair_a[s]);
		cx_put_u32(&buf, p->pair_b[s]);
		cx_put_u64(&buf, p->pair_count[s]);
	}
	if (p->weighted || p->nlinks > 0)
		appendStringInfoChar(&buf, (p->weighted ? PATTERNS_FLAG_WEIGHTED : 0) |
							 (p->nlinks > 0 ? PATTERNS_FLAG_HIERARCHY : 0));
	if (p->weighted)
	{
		cx_put_f64(&buf, p->total_weight);
		for (s = 0; s < p->nsets; s++)
			cx_put_f64(&buf, p->set_weight[s]);
	}
	if (p->nlinks > 0)
	{
		cx_put_u64(&buf, p->nlinks);
		for (s = 0; s < p->nlinks; s++)
		{
			cx_put_u32(&buf, p->link_child[s]);
			cx_put_u32(&buf, p->link_parent[s]);
		}
	}
	Assert((Size) buf.len == size);
	SET_VARSIZE(buf.data, buf.len);
	return (bytea *) buf.data;
}

/*
 * Binary search of the item lists pool[off[i]] .. (k items each), i in
 * [lo, hi), sorted lexicographically, for `items`: its index, or -1.
 */
int64
CxSearchItemLists(const uint32 *pool, const int64 *off, int64 lo, int64 hi,
				  const uint32 *items, int32 k)
{
	while (lo < hi)
	{
		int64		mid = lo + (hi - lo) / 2;
		int			c = CxCompareItemLists(pool + off[mid], items, k);

		if (c == 0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* The number of the itemset `items` (k ascending numbers), or -1. */
static int64
FindSet(const CxPatterns *p, const uint32 *items, int32 k)
{
	if (k < 1 || k > p->max_size)
		return -1;
	return CxSearchItemLists(p->set_items, p->set_off, p->size_first[k],
							 p->size_first[k + 1], items, k);
}

/*
 * The count of the itemset `items` (k numbers, ascending), or -1 when it is
 * not a stored itemset.
 */
int64
CxPatternsLookup(const CxPatterns *p, const uint32 *items, int32 k)
{
	int64		s = FindSet(p, items, k);

	return s < 0 ? -1 : p->set_count[s];
}

/* The number of the itemset `items` (k numbers, ascending), or -1. */
int64
CxPatternsFind(const CxPatterns *p, const uint32 *items, int32 k)
{
	return FindSet(p, items, k);
}

/* qsort comparator: C strings (char *) by strcmp. */
static int
CompareNames(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/*
 * A name that appears twice among names[0 .. n), or NULL: results name
 * items by their text, so no two may be alike.
 */
const char *
CxDuplicateName(char *const *names, int32 n)
{
	char	  **sorted = palloc(Max(n, 1) * sizeof(char *));
	const char *dup = NULL;
	int32		i;

	memcpy(sorted, names, n * sizeof(char *));
	qsort(sorted, n, sizeof(char *), CompareNames);
	CHECK_FOR_INTERRUPTS();
	for (i = 1; i < n && dup == NULL; i++)
		if (strcmp(sorted[i - 1], sorted[i]) == 0)
			dup = sorted[i];
	pfree(sorted);
	return dup;
}

/*
 * Read and validate an item dictionary: a u32 count, then each name as a
 * u32 length and its text, valid in the database encoding, no two alike.
 */
void
CxDecodeItemNames(CxReader *r, int32 *nitems, char ***names)
{
	char	  **name;
	int32		n;
	int32		i;

	n = (int32) cx_get_u32(r);
	if (n < 0 || (Size) n > (r->len - r->pos) / 4)
		CxReaderFail(r, "The item count exceeds the bytes present");
	name = palloc(Max(n, 1) * sizeof(char *));
	for (i = 0; i < n; i++)
	{
		uint32		len = cx_get_u32(r);
		const char *s = cx_get_bytes(r, len);

		if (!pg_verifymbstr(s, len, true))
			CxReaderFail(r, "An item name is not valid text in the database encoding");
		name[i] = pnstrdup(s, len);
	}
	if (CxDuplicateName(name, n) != NULL)
		CxReaderFail(r, "An item appears twice");
	*nitems = n;
	*names = name;
}

/* Read and validate the item dictionary. */
static void
DecodeItems(CxReader *r, CxPatterns *p)
{
	CxDecodeItemNames(r, &p->nitems, &p->item_name);
	p->item_count = palloc(Max(p->nitems, 1) * sizeof(int64));
}

/*
 * A hash index of the itemsets of one size, for the closure check: open
 * addressing over itemset numbers, each slot keeping half of its itemset's
 * hash so that most probes need not read the itemset.  An itemset's hash is
 * the sum of its items' hashes (SplitMix64's finaliser), so that the hash of
 * a subset one item smaller is one subtraction.  Probes are bounded: an itemset that
 * finds no free slot is left out (`partial`), and a lookup that does not
 * find its itemset then asks the binary search, so crafted collisions cost
 * no more than the search itself.
 */
#define SET_INDEX_PROBES 32

typedef struct SetIndex
{
	uint64	   *slot;			/* hash's high half << 32 | itemset number + 1;
								 * 0 = free */
	uint64		mask;
	bool		partial;
} SetIndex;

static inline uint64
ItemHash(uint32 x)
{
	return CxMix64((uint64) x + UINT64CONST(0x9E3779B97F4A7C15));
}

/* An itemset's hash: the sum of its items', so a subset's is a difference. */
static inline uint64
SetHash(const uint32 *items, int32 k)
{
	uint64		h = 0;
	int32		i;

	for (i = 0; i < k; i++)
		h += ItemHash(items[i]);
	return h;
}

static void
SetIndexInsert(SetIndex *ix, int64 s, uint64 h)
{
	int32		i;

	for (i = 0; i < SET_INDEX_PROBES; i++)
	{
		uint64	   *slot = &ix->slot[(h + i) & ix->mask];

		if (*slot == 0)
		{
			*slot = (h & UINT64CONST(0xFFFFFFFF00000000)) | (uint64) (s + 1);
			return;
		}
	}
	ix->partial = true;
}

/* The number of itemset `items` (k ascending numbers, hash h), or -1. */
static int64
SetIndexFind(const SetIndex *ix, const CxPatterns *p, const uint32 *items,
			 int32 k, uint64 h)
{
	int32		i;

	for (i = 0; i < SET_INDEX_PROBES; i++)
	{
		uint64		v = ix->slot[(h + i) & ix->mask];
		int64		s = (int64) (v & 0xFFFFFFFF) - 1;

		if (v == 0)
			break;
		if ((v >> 32) == (h >> 32) && p->set_size[s] == k &&
			CxCompareItemLists(p->set_items + p->set_off[s], items, k) == 0)
			return s;
	}
	return ix->partial ? FindSet(p, items, k) : -1;
}

/* Ask for the index slots a lookup of itemset s's subsets will read. */
static inline void
PrefetchSubsets(const SetIndex *ix, const CxPatterns *p, int64 s, uint64 h)
{
	const uint32 *items = p->set_items + p->set_off[s];
	int32		k;

	for (k = 0; k < p->set_size[s]; k++)
		__builtin_prefetch(&ix->slot[(h - ItemHash(items[k])) & ix->mask]);
}

/*
 * What WalkSubsets calls for itemset `set` and one of its subsets one item
 * smaller: `subset` is that subset's number, or -1 when it is not stored.
 */
typedef void (*SubsetVisit) (void *arg, const CxPatterns *p, int64 set,
							 int64 subset);

/*
 * Visit every subset one item smaller of every itemset.  set_hash[s] is
 * itemset s's hash (the sum of ItemHash over its items).  The itemsets of
 * each size k are looked up in an index of those of size k - 1 only, which
 * keeps the index small; the lookups of itemsets a few places ahead are
 * prefetched, as are the slots the index is built in.
 */
#define WALK_AHEAD 8

static void
WalkSubsets(const CxPatterns *p, const uint64 *set_hash, SubsetVisit visit,
			void *arg)
{
	SetIndex	ix;
	uint64		nslots = 1024;
	uint32	   *sub = palloc((p->max_size + 1) * sizeof(uint32));
	int32		k;

	/* one index at a time, of the itemsets one item smaller: it stays small */
	for (k = 2; k <= p->max_size; k++)
		while (nslots < (uint64) (p->size_first[k] - p->size_first[k - 1]) * 2)
			nslots *= 2;
	ix.slot = palloc_extended(nslots * sizeof(uint64), MCXT_ALLOC_HUGE);
	for (k = 2; k <= p->max_size; k++)
	{
		int64		lo = p->size_first[k - 1];
		int64		hi = p->size_first[k];
		int64		end = p->size_first[k + 1];
		uint64		n = 1024;
		int64		s;

		while (n < (uint64) (hi - lo) * 2)
			n *= 2;
		memset(ix.slot, 0, n * sizeof(uint64));
		ix.mask = n - 1;
		ix.partial = false;
		for (s = lo; s < hi; s++)
		{
			if (s + WALK_AHEAD < hi)
				__builtin_prefetch(&ix.slot[set_hash[s + WALK_AHEAD] & ix.mask]);
			SetIndexInsert(&ix, s, set_hash[s]);
		}
		for (s = hi; s < end; s++)
		{
			const uint32 *items = p->set_items + p->set_off[s];
			int32		drop;

			if ((s & 4095) == 0)
				CHECK_FOR_INTERRUPTS();
			if (s + WALK_AHEAD < end)
				PrefetchSubsets(&ix, p, s + WALK_AHEAD, set_hash[s + WALK_AHEAD]);
			for (drop = 0; drop < k; drop++)
			{
				int32		w = 0;
				int32		j;

				for (j = 0; j < k; j++)
					if (j != drop)
						sub[w++] = items[j];
				visit(arg, p, s,
					  SetIndexFind(&ix, p, sub, k - 1,
								   set_hash[s] - ItemHash(items[drop])));
			}
		}
	}
	pfree(ix.slot);
	pfree(sub);
}

/* The hash of every itemset, for WalkSubsets. */
static uint64 *
SetHashes(const CxPatterns *p)
{
	uint64	   *set_hash = palloc_extended(Max(p->nsets, 1) * sizeof(uint64),
										   MCXT_ALLOC_HUGE);
	int64		s;

	for (s = 0; s < p->nsets; s++)
		set_hash[s] = SetHash(p->set_items + p->set_off[s], p->set_size[s]);
	return set_hash;
}

/* Where a failing itemset of CheckClosure is named. */
typedef struct ClosureCheck
{
	CxReader   *r;
	Size		sets_pos;		/* the byte where the itemsets start */
} ClosureCheck;

static void
CheckSubset(void *arg, const CxPatterns *p, int64 s, int64 sub)
{
	ClosureCheck *c = (ClosureCheck *) arg;

	if (sub < 0 || p->set_count[sub] < p->set_count[s])
	{
		c->r->pos = c->sets_pos + 12 * (Size) (s + 1) +
			4 * (Size) (p->set_off[s] + p->set_size[s]);
		CxReaderFail(c->r, "An itemset's subset is missing or has a smaller count");
	}
}

/*
 * Check that every subset one item smaller of every itemset is stored, with
 * a count at least the itemset's.
 */
static void
CheckClosure(CxReader *r, const CxPatterns *p, const uint64 *set_hash,
			 Size sets_pos)
{
	ClosureCheck c;

	c.r = r;
	c.sets_pos = sets_pos;
	WalkSubsets(p, set_hash, CheckSubset, &c);
}

static void
MarkSubset(void *arg, const CxPatterns *p, int64 s, int64 sub)
{
	uint8	   *marks = (uint8 *) arg;

	Assert(sub >= 0);
	marks[sub] |= CX_SET_HAS_SUPERSET;
	if (p->set_count[sub] == p->set_count[s])
	{
		marks[sub] |= CX_SET_HAS_EQUAL_SUPERSET;
		marks[s] |= CX_SET_HAS_EQUAL_SUBSET;
	}
}

/*
 * For each stored itemset, whether a stored itemset one item larger holds
 * it (CX_SET_HAS_SUPERSET), whether one of those has its count
 * (CX_SET_HAS_EQUAL_SUPERSET), and whether a proper subset has its count
 * (CX_SET_HAS_EQUAL_SUBSET; for a single item, the empty set: every
 * basket).  An itemset is maximal without the first, closed without the
 * second, and a (minimal) generator without the third, among the itemsets
 * stored.  Counts only shrink as sets grow, so a superset or subset of
 * equal count, if any, is one item larger or smaller.
 */
uint8 *
CxPatternsKinds(const CxPatterns *p)
{
	uint8	   *marks = palloc_extended(Max(p->nsets, 1), MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	uint64	   *set_hash = SetHashes(p);
	int64		s;

	WalkSubsets(p, set_hash, MarkSubset, marks);
	pfree(set_hash);
	for (s = 0; s < p->nitems; s++)
		if (p->set_count[s] == p->n)
			marks[s] |= CX_SET_HAS_EQUAL_SUBSET;
	return marks;
}

/* Read and validate the itemsets: canonical order, counts and closure. */
static void
DecodeSets(CxReader *r, CxPatterns *p)
{
	int64		s;
	int64		nitems_total = 0;
	int32		limit = p->max_len > 0 ? Min(p->max_len, p->nitems) : p->nitems;
	int32		k;
	uint64	   *set_hash;
	Size		sets_pos;

	p->nsets = (int64) cx_get_u64(r);
	if (p->nsets < p->nitems || (uint64) p->nsets > (r->len - r->pos) / 16)
		CxReaderFail(r, "The itemset count does not fit the items or the bytes present");
	p->set_size = palloc(p->nsets * sizeof(int32));
	p->set_count = palloc(p->nsets * sizeof(int64));
	p->set_off = palloc(p->nsets * sizeof(int64));
	p->size_first = palloc0((limit + 2) * sizeof(int64));
	p->max_size = 0;
	/* every itemset's items fit in the remaining bytes, so this is bounded */
	p->set_items = palloc(Max(r->len - r->pos, 4));
	set_hash = palloc_extended(p->nsets * sizeof(uint64), MCXT_ALLOC_HUGE);
	sets_pos = r->pos;

	for (s = 0; s < p->nsets; s++)
	{
		int32		size = (int32) cx_get_u32(r);
		int64		count = (int64) cx_get_u64(r);
		uint32	   *items = p->set_items + nitems_total;

		if ((s & 4095) == 0)
			CHECK_FOR_INTERRUPTS();

		if (size < 1 || size > limit)
			CxReaderFail(r, "An itemset has an impossible size");
		if (count < p->min_count || count > p->n)
			CxReaderFail(r, "An itemset count is outside [min_count, n]");
		if ((Size) size > (r->len - r->pos) / 4)
			CxReaderFail(r, "The value ends too early");
		for (k = 0; k < size; k++)
		{
			items[k] = cx_get_u32(r);
			if (items[k] >= (uint32) p->nitems || (k > 0 && items[k] <= items[k - 1]))
				CxReaderFail(r, "An itemset's items are not ascending item numbers");
		}
		p->set_size[s] = size;
		p->set_count[s] = count;
		p->set_off[s] = nitems_total;
		nitems_total += size;

		if (s < p->nitems)
		{
			if (size != 1 || items[0] != (uint32) s)
				CxReaderFail(r, "The first itemsets are not the single items in order");
			p->item_count[s] = count;
		}
		if (s > 0)
		{
			int32		prev = p->set_size[s - 1];

			if (size < prev ||
				(size == prev &&
				 CxCompareItemLists(p->set_items + p->set_off[s - 1], items, size) >= 0))
				CxReaderFail(r, "The itemsets are not in canonical order");
		}
		if (size > p->max_size)
		{
			for (k = p->max_size + 1; k <= size; k++)
				p->size_first[k] = s;
			p->max_size = size;
		}
		p->size_first[size + 1] = s + 1;

		set_hash[s] = SetHash(items, size);
	}
	CheckClosure(r, p, set_hash, sets_pos);
	pfree(set_hash);
	/* sizes above the largest present are empty ranges */
	for (k = p->max_size + 1; k <= limit + 1; k++)
		p->size_first[k] = p->nsets;
}

/* Read and validate the pair counts against the items and the 2-itemsets. */
static void
DecodePairs(CxReader *r, CxPatterns *p)
{
	int64		s;
	int64		next2 = (p->max_size >= 2) ? p->size_first[2] : 0;
	int64		end2 = (p->max_size >= 2) ? p->size_first[3] : 0;
	bool		pairs_are_sets = (p->max_len == 0 || p->max_len >= 2);

	p->npairs = (int64) cx_get_u64(r);
	if ((uint64) p->npairs > (r->len - r->pos) / 16)
		CxReaderFail(r, "The pair count exceeds the bytes present");
	p->pair_a = palloc(Max(p->npairs, 1) * sizeof(uint32));
	p->pair_b = palloc(Max(p->npairs, 1) * sizeof(uint32));
	p->pair_count = palloc(Max(p->npairs, 1) * sizeof(int64));
	for (s = 0; s < p->npairs; s++)
	{
		uint32		a = cx_get_u32(r);
		uint32		b = cx_get_u32(r);
		int64		c = (int64) cx_get_u64(r);

		if ((s & 65535) == 0)
			CHECK_FOR_INTERRUPTS();

		if (a >= b || b >= (uint32) p->nitems)
			CxReaderFail(r, "A pair does not name two ascending items");
		if (s > 0 && (a < p->pair_a[s - 1] ||
					  (a == p->pair_a[s - 1] && b <= p->pair_b[s - 1])))
			CxReaderFail(r, "The pairs are not in order");
		if (c < 1 || c > Min(p->item_count[a], p->item_count[b]) ||
			p->item_count[a] + p->item_count[b] - c > p->n)
			CxReaderFail(r, "A pair count is inconsistent with its items' counts");
		p->pair_a[s] = a;
		p->pair_b[s] = b;
		p->pair_count[s] = c;

		if (c >= p->min_count && pairs_are_sets)
		{
			const uint32 *set;

			if (next2 >= end2)
				CxReaderFail(r, "A frequent pair is missing from the itemsets");
			set = p->set_items + p->set_off[next2];
			if (set[0] != a || set[1] != b || p->set_count[next2] != c)
				CxReaderFail(r, "A frequent pair does not match the itemsets");
			next2++;
		}
	}
	if (next2 != end2)
		CxReaderFail(r, "An itemset of two items is missing from the pairs");
}

/* Where a failing itemset of DecodeWeights is named. */
typedef struct WeightCheck
{
	CxReader   *r;
	Size		weights_pos;	/* the byte where the itemsets' weights start */
} WeightCheck;

static void
CheckSubsetWeight(void *arg, const CxPatterns *p, int64 s, int64 sub)
{
	WeightCheck *c = (WeightCheck *) arg;

	if (sub < 0 || p->set_weight[sub] < p->set_weight[s])
	{
		c->r->pos = c->weights_pos + 8 * (Size) (s + 1);
		CxReaderFail(c->r, "An itemset weighs more than its subset");
	}
}

/*
 * Read and validate the weights: finite, at most the total, and no itemset
 * weighing more than a subset one item smaller (every basket holding the
 * itemset holds it).
 */
static void
DecodeWeights(CxReader *r, CxPatterns *p)
{
	int64		s;
	WeightCheck c;
	uint64	   *set_hash;

	p->weighted = true;
	p->total_weight = cx_get_f64(r);
	if (!(p->total_weight > 0.0 && p->total_weight <= 1e300))
		CxReaderFail(r, "The total weight is out of range");
	if ((uint64) p->nsets > (r->len - r->pos) / 8)
		CxReaderFail(r, "The itemset weights exceed the bytes present");
	p->set_weight = palloc_extended(Max(p->nsets, 1) * sizeof(double), MCXT_ALLOC_HUGE);
	c.r = r;
	c.weights_pos = r->pos;
	for (s = 0; s < p->nsets; s++)
	{
		double		w = cx_get_f64(r);

		if ((s & 65535) == 0)
			CHECK_FOR_INTERRUPTS();
		if (!(w >= 0.0 && w <= p->total_weight))
			CxReaderFail(r, "An itemset weight is out of range");
		p->set_weight[s] = w;
	}
	set_hash = SetHashes(p);
	WalkSubsets(p, set_hash, CheckSubsetWeight, &c);
	pfree(set_hash);
}

/*
 * Read and validate the hierarchy: links between items, in order, without a
 * cycle; and no itemset or pair holding an item and its ancestor.
 */
static void
DecodeHierarchy(CxReader *r, CxPatterns *p)
{
	int64		k;
	int32		cycle;

	p->nlinks = (int64) cx_get_u64(r);
	if (p->nlinks < 1 || (uint64) p->nlinks > (r->len - r->pos) / 8)
		CxReaderFail(r, "The link count is out of range");
	p->link_child = palloc(p->nlinks * sizeof(uint32));
	p->link_parent = palloc(p->nlinks * sizeof(uint32));
	for (k = 0; k < p->nlinks; k++)
	{
		uint32		c = cx_get_u32(r);
		uint32		a = cx_get_u32(r);

		if (c >= (uint32) p->nitems || a >= (uint32) p->nitems || c == a)
			CxReaderFail(r, "A link does not name two items");
		if (k > 0 && (c < p->link_child[k - 1] ||
					  (c == p->link_child[k - 1] && a <= p->link_parent[k - 1])))
			CxReaderFail(r, "The links are not in order");
		if (p->item_count[a] < p->item_count[c])
			CxReaderFail(r, "An item is in more baskets than its parent");
		p->link_child[k] = c;
		p->link_parent[k] = a;
	}
	if (!CxAncestorClosure(p->nitems, p->nlinks, p->link_child, p->link_parent,
						   &p->anc_off, &p->anc, &cycle, CurrentMemoryContext))
		CxReaderFail(r, "The hierarchy has a cycle");
	for (k = 0; k < p->nsets; k++)
	{
		const uint32 *items = p->set_items + p->set_off[k];
		int32		i;
		int32		j;

		if ((k & 65535) == 0)
			CHECK_FOR_INTERRUPTS();
		for (i = 0; i < p->set_size[k]; i++)
			for (j = i + 1; j < p->set_size[k]; j++)
				if (CxRelated(p->anc_off, p->anc, items[i], items[j]))
					CxReaderFail(r, "An itemset holds an item and its ancestor");
	}
	for (k = 0; k < p->npairs; k++)
		if (CxRelated(p->anc_off, p->anc, p->pair_a[k], p->pair_b[k]))
			CxReaderFail(r, "A pair holds an item and its ancestor");
}

/* Decode and validate the bytes of a cxsell.patterns value. */
static CxPatterns *
CxPatternsDecode(const char *data, Size len, int errcode)
{
	CxReader	r;
	CxPatterns *p = palloc0(sizeof(CxPatterns));
	uint8		version;

	CxReaderInit(&r, data, len, "cxsell.patterns", errcode);
	if (memcmp(cx_get_bytes(&r, 3), "CXP", 3) != 0)
		CxReaderFail(&r, "The bytes do not start with the cxsell.patterns magic number");
	version = cx_get_u8(&r);
	if (version != PATTERNS_VERSION && version != PATTERNS_VERSION_EXTRAS)
		CxReaderFail(&r, "The value has an unknown format version");
	p->n = (int64) cx_get_u64(&r);
	p->min_support = cx_get_f64(&r);
	p->max_len = (int32) cx_get_u32(&r);
	p->min_count = (int64) cx_get_u64(&r);
	if (p->n < 1 || p->n > PG_INT64_MAX / 4)
		CxReaderFail(&r, "The basket count is out of range");
	if (!(p->min_support > 0.0 && p->min_support <= 1.0))
		CxReaderFail(&r, "min_support is out of range");
	if (p->max_len < 0)
		CxReaderFail(&r, "max_len is out of range");
	if (p->min_count < 1 || p->min_count > p->n ||
		(double) p->min_count / (double) p->n < p->min_support ||
		(p->min_count > 1 &&
		 (double) (p->min_count - 1) / (double) p->n >= p->min_support))
		CxReaderFail(&r, "min_count does not follow from n and min_support");
	DecodeItems(&r, p);
	DecodeSets(&r, p);
	DecodePairs(&r, p);
	if (version == PATTERNS_VERSION_EXTRAS)
	{
		uint8		flags = cx_get_u8(&r);

		if (flags == 0 || (flags & ~(PATTERNS_FLAG_WEIGHTED | PATTERNS_FLAG_HIERARCHY)) != 0)
			CxReaderFail(&r, "The value has unknown flags");
		if (flags & PATTERNS_FLAG_WEIGHTED)
			DecodeWeights(&r, p);
		if (flags & PATTERNS_FLAG_HIERARCHY)
			DecodeHierarchy(&r, p);
	}
	CxReaderEnd(&r);
	return p;
}

/* Decode a cxsell.patterns Datum. */
CxPatterns *
CxPatternsFromDatum(Datum d)
{
	bytea	   *b = DatumGetByteaPP(d);

	return CxPatternsDecode(VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b),
							ERRCODE_DATA_CORRUPTED);
}

/* Decode a detoasted cxsell.patterns value (a CxDecodeFn). */
static void *
DecodeDetoasted(Datum d, MemoryContext cxt pg_attribute_unused())
{
	bytea	   *b = (bytea *) DatumGetPointer(d);

	return CxPatternsDecode(VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b),
							ERRCODE_DATA_CORRUPTED);
}

/*
 * The value decoded once per calling expression (see datum_cache.c): a
 * function applied row by row to the same patterns, such as recommend()
 * through LATERAL, decodes it once.
 */
CxPatterns *
CxPatternsFromDatumCached(FmgrInfo *flinfo, Datum d)
{
	return (CxPatterns *) CxCachedDecode(flinfo, d, DecodeDetoasted);
}

/*
 * The item numbers sorted by cmp, in the memory the value was decoded into
 * (the indexes built on first use live as long as the value).
 */
static int32 *
ItemOrder(CxPatterns *p, qsort_arg_comparator cmp)
{
	int32	   *order = MemoryContextAlloc(GetMemoryChunkContext(p),
										   Max(p->nitems, 1) * sizeof(int32));
	int32		i;

	for (i = 0; i < p->nitems; i++)
		order[i] = i;
	qsort_arg(order, p->nitems, sizeof(int32), cmp, p);
	return order;
}

static int
CompareByName(const void *a, const void *b, void *arg)
{
	char	   *const *names = (char *const *) arg;
	int32		x = *(const int32 *) a;
	int32		y = *(const int32 *) b;
	int			c = strcmp(names[x], names[y]);

	if (c != 0)
		return c;
	return x < y ? -1 : (x > y ? 1 : 0);
}

/*
 * The items among names[0 .. n) whose text is `name`: returns the position
 * of the first in *by_name and sets *count to how many there are (0 or 1:
 * no two names of a value are alike).  *by_name, the
 * item numbers ordered by name, is built on first use in `cxt`.
 */
int32
CxFindItemName(char *const *names, int32 n, int32 **by_name, MemoryContext cxt,
			   const char *name, int32 *count)
{
	int32		lo = 0;
	int32		hi = n;
	int32		first;

	if (*by_name == NULL)
	{
		int32	   *order = MemoryContextAlloc(cxt, Max(n, 1) * sizeof(int32));
		int32		i;

		for (i = 0; i < n; i++)
			order[i] = i;
		qsort_arg(order, n, sizeof(int32), CompareByName, (void *) names);
		*by_name = order;
	}
	while (lo < hi)
	{
		int32		mid = lo + (hi - lo) / 2;

		if (strcmp(names[(*by_name)[mid]], name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	first = lo;
	while (lo < n && strcmp(names[(*by_name)[lo]], name) == 0)
		lo++;
	*count = lo - first;
	return first;
}

/* The items whose text is `name`, in p->by_name: see CxFindItemName. */
int32
CxPatternsFindItem(CxPatterns *p, const char *name, int32 *count)
{
	return CxFindItemName(p->item_name, p->nitems, &p->by_name,
						  GetMemoryChunkContext(p), name, count);
}

static int
CompareByCount(const void *a, const void *b, void *arg)
{
	const CxPatterns *p = (const CxPatterns *) arg;
	int32		x = *(const int32 *) a;
	int32		y = *(const int32 *) b;

	/* a single item's itemset number is its item number */
	if (p->weighted && p->set_weight[x] != p->set_weight[y])
		return p->set_weight[x] > p->set_weight[y] ? -1 : 1;
	if (p->item_count[x] != p->item_count[y])
		return p->item_count[x] > p->item_count[y] ? -1 : 1;
	return x < y ? -1 : (x > y ? 1 : 0);
}

/*
 * The items from most to least popular: by weight when the value is
 * weighted, then by count (ties in item order); built on first use, like the
 * name index, in the memory the value was decoded into.
 */
const int32 *
CxPatternsByCount(CxPatterns *p)
{
	if (p->by_count == NULL)
		p->by_count = ItemOrder(p, CompareByCount);
	return p->by_count;
}

/*
 * Mark in marks[] the items named in a text[] (NULL elements and names of no
 * item are ignored); returns how many items it newly marked, and adds to
 * *named (when not NULL) the number of names given.
 */
int32
CxPatternsMarkItems(CxPatterns *p, ArrayType *names, bool *marks, int32 *named)
{
	Datum	   *elems;
	bool	   *nulls;
	int			nelems;
	int			i;
	int32		marked = 0;

	deconstruct_array(names, TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, &nelems);
	for (i = 0; i < nelems; i++)
	{
		char	   *name;
		int32		first;
		int32		count;
		int32		j;

		if (nulls[i])
			continue;
		if (named)
			(*named)++;
		name = TextDatumGetCString(elems[i]);
		first = CxPatternsFindItem(p, name, &count);
		for (j = first; j < first + count; j++)
			if (!marks[p->by_name[j]])
			{
				marks[p->by_name[j]] = true;
				marked++;
			}
		pfree(name);
	}
	return marked;
}

/* Text input: the hex digits of the stored bytes, validated in full. */
Datum
patterns_in(PG_FUNCTION_ARGS)
{
	bytea	   *result = CxBytesFromHex(PG_GETARG_CSTRING(0), "cxsell.patterns",
										"Build values with cxsell.mine() rather than by hand.");

	(void) CxPatternsDecode(VARDATA(result), VARSIZE(result) - VARHDRSZ,
							ERRCODE_INVALID_TEXT_REPRESENTATION);
	PG_RETURN_BYTEA_P(result);
}

/* Text output: the stored bytes as hex digits. */
Datum
patterns_out(PG_FUNCTION_ARGS)
{
	PG_RETURN_CSTRING(CxBytesToHex(PG_GETARG_BYTEA_PP(0)));
}

/* Binary input: the stored bytes, validated in full. */
Datum
patterns_recv(PG_FUNCTION_ARGS)
{
	bytea	   *result = CxBytesFromMessage((StringInfo) PG_GETARG_POINTER(0));

	(void) CxPatternsDecode(VARDATA(result), VARSIZE(result) - VARHDRSZ,
							ERRCODE_INVALID_BINARY_REPRESENTATION);
	PG_RETURN_BYTEA_P(result);
}

/* Binary output: the stored bytes. */
Datum
patterns_send(PG_FUNCTION_ARGS)
{
	bytea	   *b = PG_GETARG_BYTEA_P_COPY(0);

	PG_RETURN_BYTEA_P(b);
}

/* cxsell.summary(patterns): one row describing a mining result. */
Datum
patterns_summary(PG_FUNCTION_ARGS)
{
	CxPatterns *p = CxPatternsFromDatum(PG_GETARG_DATUM(0));
	Datum		values[8];
	bool		nulls[8] = {0};

	values[0] = Int64GetDatum(p->n);
	values[1] = Float8GetDatum(p->min_support);
	values[2] = Int64GetDatum(p->min_count);
	values[3] = Int32GetDatum(p->max_len);
	values[4] = Int32GetDatum(p->nitems);
	values[5] = Int64GetDatum(p->nsets);
	values[6] = Int32GetDatum(p->max_size);
	values[7] = Int64GetDatum(p->npairs);
	PG_RETURN_DATUM(CxResultRow(fcinfo, values, nulls));
}
