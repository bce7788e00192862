/*
 * cxsell.h
 *		Declarations shared by the cxsell C sources.
 */
#ifndef CXSELL_H
#define CXSELL_H

#include "postgres.h"

#include "access/tupdesc.h"
#include "fmgr.h"
#include "utils/jsonb.h"
#include "utils/tuplestore.h"
#include "utils/memutils.h"

#include "stats.h"

/* settings (cxsell.c) */
extern int	cxsell_max_memory_kb;
extern int	cxsell_source_query_timeout_ms;

/* memlimit.c: the memory bound of cxsell.max_memory, by kind of work */
typedef enum CxWork
{
	CX_WORK_MINING,
	CX_WORK_MINING_WIDE,		/* mining with more frequent items than
								 * baskets: basket and item swapped? */
	CX_WORK_CLUSTERING,
	CX_WORK_RULES,
	CX_WORK_COUNTING
} CxWork;

extern void CxCheckMemory(MemoryContext cxt, Size extra, CxWork work);
extern bool CxMemoryFits(MemoryContext cxt, Size extra);
extern int64 CxGrowCapacity(int64 cap, int64 want);
extern void *CxGrowArray(void *ptr, int64 *cap, int64 want, Size elem,
						 MemoryContext cxt, MemoryContext limitcxt,
						 CxWork work);

/* callctx.c: the SQL function a user called, named in errors */
extern void CxEnterCall(ErrorContextCallback *cb, const char *what);
extern void CxLeaveCall(ErrorContextCallback *cb);
extern void CxEnterAggregate(ErrorContextCallback *cb, FunctionCallInfo fcinfo);

/* qsort comparator: uint32 ascending. */
static inline int
CxCompareUint32(const void *a, const void *b)
{
	uint32		x = *(const uint32 *) a;
	uint32		y = *(const uint32 *) b;

	return (x > y) - (x < y);
}

/* qsort comparator for uint64 values, ascending. */
static inline int
CxCompareUint64(const void *a, const void *b)
{
	uint64		x = *(const uint64 *) a;
	uint64		y = *(const uint64 *) b;

	return (x > y) - (x < y);
}

/*
 * dst = a ∩ b, of two ascending lists; returns its length.  A merge when
 * the lists are alike in length; past 16 times, each element of the short
 * list is searched for in the long one by galloping.
 */
static inline int64
CxIntersectSorted(const uint32 *a, int64 na, const uint32 *b, int64 nb, uint32 *dst)
{
	int64		i = 0;
	int64		j = 0;
	int64		n = 0;

	if (na > nb)
	{
		const uint32 *t = a;
		int64		nt = na;

		a = b;
		na = nb;
		b = t;
		nb = nt;
	}
	if (nb > 16 * na)
	{
		for (i = 0; i < na && j < nb; i++)
		{
			int64		step = 1;
			int64		lo;
			int64		hi;

			/* the first b[k] >= a[i], k >= j: gallop, then halve */
			while (j + step < nb && b[j + step] < a[i])
				step *= 2;
			lo = j;
			hi = Min(j + step, nb);
			while (lo < hi)
			{
				int64		mid = lo + (hi - lo) / 2;

				if (b[mid] < a[i])
					lo = mid + 1;
				else
					hi = mid;
			}
			j = lo;
			if (j < nb && b[j] == a[i])
				dst[n++] = a[i];
		}
		return n;
	}
	while (i < na && j < nb)
	{
		if (a[i] < b[j])
			i++;
		else if (a[i] > b[j])
			j++;
		else
		{
			dst[n++] = a[i];
			i++;
			j++;
		}
	}
	return n;
}

/*
 * Sort uint32 values ascending in place: by insertion when few, which is
 * the common case (a basket's or an itemset's items).
 */
static inline void
CxSortUint32(uint32 *a, int64 n)
{
	int64		i;

	if (n > 32)
	{
		qsort(a, n, sizeof(uint32), CxCompareUint32);
		return;
	}
	for (i = 1; i < n; i++)
	{
		uint32		x = a[i];
		int64		j = i;

		while (j > 0 && a[j - 1] > x)
		{
			a[j] = a[j - 1];
			j--;
		}
		a[j] = x;
	}
}

/* Compare two lists of k item numbers lexicographically. */
static inline int
CxCompareItemLists(const uint32 *a, const uint32 *b, int32 k)
{
	int32		i;

	for (i = 0; i < k; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return 0;
}

/* splitmix64's finaliser: every bit of x spread over the result. */
static inline uint64
CxMix64(uint64 x)
{
	x = (x ^ (x >> 30)) * UINT64CONST(0xBF58476D1CE4E5B9);
	x = (x ^ (x >> 27)) * UINT64CONST(0x94D049BB133111EB);
	return x ^ (x >> 31);
}

/* Order doubles descending inside a comparator (returns from it). */
#define CX_CMP_DESC(x, y) do { if ((x) != (y)) return (x) > (y) ? -1 : 1; } while (0)

/*
 * A decoded cxsell.patterns value.  Items are numbered 0..nitems-1 in the
 * item type's ascending order; itemsets are stored in canonical order (by
 * size, then lexicographically by item number) and pairs by (a, b).
 */
typedef struct CxPatterns
{
	int64		n;				/* baskets with at least one item */
	double		min_support;
	int32		max_len;		/* 0 = unlimited */
	int64		min_count;		/* smallest count that is frequent */

	int32		nitems;
	char	  **item_name;		/* NUL-terminated text of each item */
	int64	   *item_count;

	int64		nsets;
	int32	   *set_size;
	int64	   *set_count;
	int64	   *set_off;		/* offset of each itemset in set_items */
	uint32	   *set_items;
	int32		max_size;		/* largest itemset size present */
	int64	   *size_first;		/* [k] = first itemset of size k, k=1..max_size+1 */

	int64		npairs;			/* pairs of frequent items that co-occur */
	uint32	   *pair_a;
	uint32	   *pair_b;
	int64	   *pair_count;

	/*
	 * A hierarchy (none when nlinks = 0): the links child -> parent between
	 * items, by (child, parent); anc[anc_off[i] .. anc_off[i + 1]) are item
	 * i's ancestors, ascending.  No itemset or pair holds an item and one of
	 * its ancestors.
	 */
	int64		nlinks;
	uint32	   *link_child;
	uint32	   *link_parent;
	int32	   *anc_off;
	uint32	   *anc;

	/* weights: the baskets' total and each itemset's (when weighted) */
	bool		weighted;
	double		total_weight;
	double	   *set_weight;

	int32	   *by_name;		/* item numbers ordered by name; built on
								 * first use by CxPatternsFindItem */
	int32	   *by_count;		/* item numbers by count descending; built
								 * on first use by CxPatternsByCount */
	bool		told_unknown_held;	/* recommend's notice given for this
									 * decoded value */
} CxPatterns;

/* datum_cache.c: a stored value decoded once per call site */
typedef void *(*CxDecodeFn) (Datum detoasted, MemoryContext cxt);
extern void *CxCachedDecode(FmgrInfo *flinfo, Datum d, CxDecodeFn decode);

/* patterns.c */
extern Size CxPatternsEncodedSize(const CxPatterns *p);
#define CX_PATTERNS_SET_BYTES(k) (12 + 4 * (k))
#define CX_PATTERNS_PAIR_BYTES 16
extern bytea *CxPatternsEncode(const CxPatterns *p);
extern CxPatterns *CxPatternsFromDatum(Datum d);
extern CxPatterns *CxPatternsFromDatumCached(FmgrInfo *flinfo, Datum d);
extern const int32 *CxPatternsByCount(CxPatterns *p);
struct ArrayType;
extern int32 CxPatternsMarkItems(CxPatterns *p, struct ArrayType *names, bool *marks,
								 int32 *named);
extern int32 CxPatternsFindItem(CxPatterns *p, const char *name, int32 *count);
struct CxReader;
extern void CxDecodeItemNames(struct CxReader *r, int32 *nitems, char ***names);
extern const char *CxDuplicateName(char *const *names, int32 n);
extern int64 CxSearchItemLists(const uint32 *pool, const int64 *off, int64 lo, int64 hi,
							   const uint32 *items, int32 k);
/* how recommend and recommend_next rank their items */
typedef enum CxRankBy
{
	CX_RANK_CONFIDENCE,
	CX_RANK_LIFT,
	CX_RANK_POPULARITY
} CxRankBy;
/* the arguments recommend and recommend_next share (recommend.c) */
typedef struct CxRecommendArgs
{
	int32		n;
	CxRankBy	rank_by;
	double		min_confidence;
	double		min_lift;
	bool		fallback;
} CxRecommendArgs;
extern void CxReadRecommendArgs(FunctionCallInfo fcinfo, int n_arg, int rank_arg,
								CxRecommendArgs *args);
extern int32 CxFindItemName(char *const *names, int32 n, int32 **by_name,
							MemoryContext cxt, const char *name, int32 *count);
extern int64 CxPatternsLookup(const CxPatterns *p, const uint32 *items, int32 k);
extern int64 CxPatternsFind(const CxPatterns *p, const uint32 *items, int32 k);
#define CX_SET_HAS_SUPERSET			0x01
#define CX_SET_HAS_EQUAL_SUPERSET	0x02
#define CX_SET_HAS_EQUAL_SUBSET		0x04
extern uint8 *CxPatternsKinds(const CxPatterns *p);

/* eclat.c: mining the baskets */
typedef struct CxMineInput
{
	int64		nbaskets;
	int32		nitems;			/* frequent items, numbered in item order */
	const int64 *item_count;	/* baskets holding each item */
	int64		npairs;			/* (basket, item) pairs: their sum */
	const int64 *basket_off;	/* basket b's items: bitems[basket_off[b] .. +1),
								 * ascending */
	const uint32 *bitems;
	int64		min_count;
	int32		max_len;
	CxWork		work;			/* named when memory runs out */
	const int32 *anc_off;		/* a hierarchy: itemsets never hold an item
								 * and its ancestor; NULL for none */
	const uint32 *anc;
} CxMineInput;

/* hierarchy.c */
extern bool CxAncestorClosure(int32 nitems, int64 nlinks, const uint32 *child,
							  const uint32 *parent, int32 **anc_off, uint32 **anc,
							  int32 *in_cycle, MemoryContext limitcxt);
extern int32 *CxItemDepths(const CxPatterns *p);
extern int64 CxSortLinks(uint32 *child, uint32 *parent, int64 n, MemoryContext limitcxt);
extern void CxParentLinks(const CxPatterns *p, uint32 item, int64 *first, int64 *end);

/* Whether x is in the ascending list list[first .. end). */
static inline bool
CxInSortedList(const uint32 *list, int32 first, int32 end, uint32 x)
{
	int32		lo = first;
	int32		hi = end;

	while (lo < hi)
	{
		int32		mid = lo + (hi - lo) / 2;

		if (list[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < end && list[lo] == x;
}

/* Whether items a and b are one the other's ancestor. */
static inline bool
CxRelated(const int32 *anc_off, const uint32 *anc, uint32 a, uint32 b)
{
	return CxInSortedList(anc, anc_off[a], anc_off[a + 1], b) ||
		CxInSortedList(anc, anc_off[b], anc_off[b + 1], a);
}

extern void CxMine(const CxMineInput *in, CxPatterns *out, MemoryContext cxt,
				   MemoryContext limitcxt);

/* In a comparator: order by x descending, going on when equal. */
#define CX_CMP_DESC(x, y) do { if ((x) != (y)) return (x) > (y) ? -1 : 1; } while (0)

/*
 * Lift of A -> C from counts: n_ac * n / (n_a * n_c), one arithmetic for
 * rules, recommendations and item pairs, so they agree to the last bit.
 */
static inline double
CxLift(int64 n_ac, int64 n_a, int64 n_c, int64 n)
{
	return ((double) n_ac * (double) n) / ((double) n_a * (double) n_c);
}

/* measures.c: the measures of a rule A -> C from its counts */
typedef struct CxMeasures
{
	double		antecedent_support;
	double		consequent_support;
	double		support;
	double		confidence;
	double		lift;
	double		leverage;
	double		conviction;
	double		jaccard;
	double		kulczynski;
	double		certainty;
	double		zhang;
	double		p_value;
} CxMeasures;

extern void CxComputeMeasures(int64 n_ac, int64 n_a, int64 n_c, int64 n,
							  bool with_p, CxMeasures *m);
extern void CxWeightedMeasures(double w_ac, double w_a, double w_c, double w,
							   CxMeasures *m);
extern void CxPatternsMeasures(const CxPatterns *p, int64 set_ac, int64 set_a,
							   int64 set_c, CxMeasures *m);

/* The support of itemset s: its weight's share when weighted, else its count's. */
static inline double
CxSetSupport(const CxPatterns *p, int64 s)
{
	return p->weighted ? p->set_weight[s] / p->total_weight :
		(double) p->set_count[s] / (double) p->n;
}
extern void CxCheckRuleThresholds(double min_confidence, double min_lift);
extern cx_adjust_method CxAdjustArg(FunctionCallInfo fcinfo, int argno);
extern void CxAdjustPValues(double *p, int64 m, cx_adjust_method method, CxWork work);

/* features.c */
extern const double *CxReadFeatures(struct ArrayType *arr, int32 expect, int32 *d);

/* args.c */
extern void CxRequireArg(FunctionCallInfo fcinfo, int argno, const char *name,
						 const char *hint);
extern void CxRequireNonNegative(int64 v, const char *name, const char *hint);
extern void CxRequireUpdate(const char *objects);
extern void CxRequireSameParams(bool same, const char *params,
								const char *detail);
extern MemoryContext CxAggContext(FunctionCallInfo fcinfo);
extern bool CxCombineStates(FunctionCallInfo fcinfo, MemoryContext *aggcxt,
							void **dst, void **src);

/* pinned.c: settings pinned until the innermost GUC nest level ends */
extern void CxPinSetting(const char *name, const char *value);
extern void CxPinOutputSettings(void);
extern void CxPinStoredSettings(Jsonb *settings);

/* managed.c */
extern bool CxMayActAs(Oid member, Oid role);

/* query_text.c: query text given by users, as one SELECT */
struct SelectStmt;
extern struct SelectStmt *CxParseQueryText(const char *query, const char *what, char **text);
extern char *CxWrapQueryText(const char *query, struct SelectStmt *parsed, const char *what,
							 const char *select_list, const char *tail);

/* result.c */
extern Tuplestorestate *CxMaterializeSRF(FunctionCallInfo fcinfo, TupleDesc *tupdesc);
extern Datum CxResultRow(FunctionCallInfo fcinfo, Datum *values, bool *nulls);
extern TupleDesc CxRowArrayDesc(FunctionCallInfo fcinfo, Oid *rowtype);
extern Datum CxRowArray(Datum *rows, int32 n, Oid rowtype);
extern Datum CxFloat8Array(const double *v, int32 n);
extern Datum CxNamesArray(char *const *names, const uint32 *items, int32 k);
extern Datum CxTextArray(const CxPatterns *p, const uint32 *items, int32 k);

#endif							/* CXSELL_H */
