/*
 * datum_cache.c
 *		A stored value decoded once per call site.
 *
 * A function applied row by row to one stored value (recommend() over each
 * customer, cluster() over each row, through a join or LATERAL) keeps the
 * decoded value in fn_extra and recognises the same value again without
 * detoasting it: an out-of-line value by its TOAST pointer (a TOAST value
 * never changes; a new one gets a new value OID), an inline one (short, or
 * held in memory) by its bytes.  Per-call work then does not grow with the
 * stored value while it stays the same.
 */
#include "postgres.h"

#include "access/detoast.h"
#if PG_VERSION_NUM >= 160000
#include "varatt.h"
#endif

#include "cxsell.h"

typedef struct DatumCache
{
	MemoryContext cxt;
	bool		ondisk;			/* keyed by TOAST pointer, else by bytes */
	Oid			toastrelid;
	Oid			valueid;
	Size		len;			/* bytes of the raw datum (inline key) */
	char	   *raw;
	void	   *decoded;
} DatumCache;

/* Is `d` the value `cache` was made from? */
static bool
SameValue(const DatumCache *cache, Datum d)
{
	struct varlena *v = (struct varlena *) DatumGetPointer(d);

	if (VARATT_IS_EXTERNAL_ONDISK(v))
	{
		struct varatt_external ptr;

		VARATT_EXTERNAL_GET_POINTER(ptr, v);
		return cache->ondisk && cache->toastrelid == ptr.va_toastrelid &&
			cache->valueid == ptr.va_valueid;
	}
	return !cache->ondisk && !VARATT_IS_EXTERNAL(v) &&
		cache->len == VARSIZE_ANY(v) && memcmp(cache->raw, v, cache->len) == 0;
}

/*
 * The value `d` decoded by `decode` (which receives the detoasted value and
 * the memory context to decode into), from the call site's cache when `d`
 * is the value decoded last.
 */
void *
CxCachedDecode(FmgrInfo *flinfo, Datum d, CxDecodeFn decode)
{
	DatumCache *old = (DatumCache *) flinfo->fn_extra;
	struct varlena *v = (struct varlena *) DatumGetPointer(d);
	DatumCache *cache;
	MemoryContext cxt;
	MemoryContext prev;

	if (old != NULL && SameValue(old, d))
		return old->decoded;

	elog(DEBUG1, "cxsell: decoding a stored value of %zu bytes",
		 (Size) VARSIZE_ANY(v));
	cxt = AllocSetContextCreate(flinfo->fn_mcxt, "cxsell decoded value",
								ALLOCSET_DEFAULT_SIZES);
	prev = MemoryContextSwitchTo(cxt);
	cache = palloc0(sizeof(DatumCache));
	cache->cxt = cxt;
	if (VARATT_IS_EXTERNAL_ONDISK(v))
	{
		struct varatt_external ptr;

		VARATT_EXTERNAL_GET_POINTER(ptr, v);
		cache->ondisk = true;
		cache->toastrelid = ptr.va_toastrelid;
		cache->valueid = ptr.va_valueid;
	}
	else if (!VARATT_IS_EXTERNAL(v))
	{
		cache->len = VARSIZE_ANY(v);
		cache->raw = palloc(cache->len);
		memcpy(cache->raw, v, cache->len);
	}
	/* (an expanded or indirect value gets no key: it is decoded each call) */
	cache->decoded = decode(PointerGetDatum(detoast_attr(v)), cxt);
	MemoryContextSwitchTo(prev);

	if (old != NULL)
		MemoryContextDelete(old->cxt);
	flinfo->fn_extra = cache;
	return cache->decoded;
}
