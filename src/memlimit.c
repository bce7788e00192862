/*
 * memlimit.c
 *		The memory bound of cxsell's work (cxsell.max_memory).
 *
 * The bound applies to what one aggregation step (or one set-returning
 * call) holds in one backend: the states of every group of a GROUP BY
 * included, as they share the aggregate's memory context.  A parallel plan
 * with W workers may therefore use up to (W + 1) times the bound.
 *
 * Messages here name no SQL function: the function the user called says
 * who it is through an error context (CxEnterCall).
 */
#include "postgres.h"

#include "utils/memutils.h"

#include "cxsell.h"

/* What to change when a kind of work runs out of memory. */
static const char *
MemoryHint(CxWork work)
{
	switch (work)
	{
		case CX_WORK_MINING:
			return "Raise cxsell.max_memory, raise min_support, or bound the itemset size with max_len.";
		case CX_WORK_MINING_WIDE:
			return "There are more frequent items than baskets: check the argument order, cxsell.mine(basket, item, min_support). Otherwise raise cxsell.max_memory or min_support, or bound the itemset size with max_len.";
		case CX_WORK_CLUSTERING:
			return "Raise cxsell.max_memory, or cluster a sample of the rows.";
		case CX_WORK_RULES:
			return "Raise cxsell.max_memory, or narrow the rules with min_confidence, min_lift, max_antecedent or consequents.";
		case CX_WORK_COUNTING:
			break;
	}
	return "Raise cxsell.max_memory, or aggregate fewer rows or fewer distinct values per group.";
}

/*
 * Stop with an error if work that already uses `used` bytes would exceed
 * cxsell.max_memory.
 */
static void
CxCheckSize(Size used, CxWork work)
{
	Size		limit = (Size) cxsell_max_memory_kb * 1024;

	if (used > limit)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the work needs more memory than cxsell.max_memory allows"),
				 errdetail("About %zu kB would be needed; the limit is %d kB.",
						   used / 1024, cxsell_max_memory_kb),
				 errhint("%s", MemoryHint(work))));
}

/*
 * Check the memory held by `cxt` (and its children) plus `extra` bytes about
 * to be allocated against cxsell.max_memory.
 */
void
CxCheckMemory(MemoryContext cxt, Size extra, CxWork work)
{
	CxCheckSize(MemoryContextMemAllocated(cxt, true) + extra, work);
}

/*
 * Whether `extra` more bytes fit beside the memory held by `cxt` (and its
 * children) under cxsell.max_memory.
 */
bool
CxMemoryFits(MemoryContext cxt, Size extra)
{
	return MemoryContextMemAllocated(cxt, true) + extra <=
		(Size) cxsell_max_memory_kb * 1024;
}

/* The capacity CxGrowArray gives an array of capacity `cap` to hold `want`. */
int64
CxGrowCapacity(int64 cap, int64 want)
{
	int64		newcap = Max(cap, 64);

	while (newcap < want)
		newcap *= 2;
	return newcap;
}

/*
 * Grow the array `ptr` of `elem`-byte elements (capacity *cap; NULL when not
 * allocated yet) to hold at least `want` elements, doubling, in `cxt`.  The
 * growth counts against cxsell.max_memory as held by `limitcxt`.
 */
void *
CxGrowArray(void *ptr, int64 *cap, int64 want, Size elem, MemoryContext cxt,
			MemoryContext limitcxt, CxWork work)
{
	int64		newcap;

	if (ptr != NULL && want <= *cap)
		return ptr;
	newcap = CxGrowCapacity(*cap, want);
	CxCheckMemory(limitcxt, (Size) (newcap - *cap) * elem, work);
	if (ptr == NULL)
		ptr = MemoryContextAllocHuge(cxt, (Size) newcap * elem);
	else
		ptr = repalloc_huge(ptr, (Size) newcap * elem);
	*cap = newcap;
	return ptr;
}
