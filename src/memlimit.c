/*
 * memlimit.c
 *		The memory bound of one mining call (cxsell.max_memory).
 */
#include "postgres.h"

#include "utils/memutils.h"

#include "cxsell.h"

/* What to change when `what` runs out of memory. */
static const char *
MemoryHint(const char *what)
{
	if (strncmp(what, "cxsell.kmeans", 13) == 0)
		return "Raise cxsell.max_memory, or cluster a sample of the rows.";
	if (strcmp(what, "cxsell.rules") == 0)
		return "Raise cxsell.max_memory, or narrow the rules with min_confidence, min_lift, max_antecedent or consequents.";
	return "Raise cxsell.max_memory, raise min_support, or bound the itemset size with max_len.";
}

/*
 * Stop with an error if a call that already uses `used` bytes would exceed
 * cxsell.max_memory.
 */
void
CxCheckSize(Size used, const char *what)
{
	Size		limit = (Size) cxsell_max_memory_kb * 1024;

	if (used > limit)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s needs more memory than cxsell.max_memory allows",
						what),
				 errdetail("About %zu kB would be needed; the limit is %d kB.",
						   used / 1024, cxsell_max_memory_kb),
				 errhint("%s", MemoryHint(what))));
}

/*
 * Check the memory held by `cxt` (and its children) plus `extra` bytes about
 * to be allocated against cxsell.max_memory.
 */
void
CxCheckMemory(MemoryContext cxt, Size extra, const char *what)
{
	CxCheckSize(MemoryContextMemAllocated(cxt, true) + extra, what);
}

/*
 * Grow the array `ptr` of `elem`-byte elements (capacity *cap; NULL when not
 * allocated yet) to hold at least `want` elements, doubling, in `cxt`.  The
 * growth counts against cxsell.max_memory as held by `limitcxt`.
 */
void *
CxGrowArray(void *ptr, int64 *cap, int64 want, Size elem, MemoryContext cxt,
			MemoryContext limitcxt, const char *what)
{
	int64		newcap = Max(*cap, 64);

	if (ptr != NULL && want <= *cap)
		return ptr;
	while (newcap < want)
		newcap *= 2;
	CxCheckMemory(limitcxt, (Size) (newcap - *cap) * elem, what);
	if (ptr == NULL)
		ptr = MemoryContextAllocHuge(cxt, (Size) newcap * elem);
	else
		ptr = repalloc_huge(ptr, (Size) newcap * elem);
	*cap = newcap;
	return ptr;
}
