/*
 * srf.c
 *		Helpers for cxsell's set-returning functions.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "cxsell.h"

/*
 * Set up materialize mode for a set-returning function and return the
 * tuplestore to fill; *tupdesc receives the result row type.  Works on every
 * supported PostgreSQL version.
 */
Tuplestorestate *
CxMaterializeSRF(FunctionCallInfo fcinfo, TupleDesc *tupdesc)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext old;
	Tuplestorestate *store;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("set-valued function called in context that cannot accept a set")));
	if (!(rsinfo->allowedModes & SFRM_Materialize))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("materialize mode required, but it is not allowed in this context")));
	if (get_call_result_type(fcinfo, NULL, tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	*tupdesc = CreateTupleDescCopy(*tupdesc);
	store = tuplestore_begin_heap(true, false, work_mem);
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = store;
	rsinfo->setDesc = *tupdesc;
	MemoryContextSwitchTo(old);
	return store;
}

/* A text[] of the names of `k` items. */
Datum
CxTextArray(const CxPatterns *p, const uint32 *items, int32 k)
{
	Datum	   *elems = palloc(Max(k, 1) * sizeof(Datum));
	int32		i;
	ArrayType  *arr;

	for (i = 0; i < k; i++)
		elems[i] = CStringGetTextDatum(p->item_name[items[i]]);
	arr = construct_array(elems, k, TEXTOID, -1, false, TYPALIGN_INT);
	for (i = 0; i < k; i++)
		pfree(DatumGetPointer(elems[i]));
	pfree(elems);
	return PointerGetDatum(arr);
}
