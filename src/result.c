/*
 * result.c
 *		Building what cxsell's functions return: sets of rows, single rows,
 *		arrays of rows, of numbers and of item names.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"

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

/* One row of the function's composite result type. */
Datum
CxResultRow(FunctionCallInfo fcinfo, Datum *values, bool *nulls)
{
	TupleDesc	tupdesc;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	return HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls));
}

/*
 * The row descriptor of the elements of the function's array result (an
 * aggregate final function returning cxsell.gains_bucket[], say); *rowtype
 * receives the element type, for CxRowArray.
 */
TupleDesc
CxRowArrayDesc(FunctionCallInfo fcinfo, Oid *rowtype)
{
	*rowtype = get_element_type(get_func_rettype(fcinfo->flinfo->fn_oid));
	if (!OidIsValid(*rowtype))
		elog(ERROR, "return type must be an array of a row type");
	return lookup_rowtype_tupdesc_copy(*rowtype, -1);
}

/* The array of `n` rows (heap tuple datums) of type `rowtype`. */
Datum
CxRowArray(Datum *rows, int32 n, Oid rowtype)
{
	return PointerGetDatum(construct_array(rows, n, rowtype, -1, false, TYPALIGN_DOUBLE));
}

/* A float8[] of `n` numbers. */
Datum
CxFloat8Array(const double *v, int32 n)
{
	Datum	   *elems = palloc(Max(n, 1) * sizeof(Datum));
	ArrayType  *arr;
	int32		i;

	for (i = 0; i < n; i++)
		elems[i] = Float8GetDatum(v[i]);
	arr = construct_array(elems, n, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL,
						  TYPALIGN_DOUBLE);
	pfree(elems);
	return PointerGetDatum(arr);
}

/*
 * A text[] of the names of `k` items, built in place: the array header and
 * each name as a 4-byte-header text, int-aligned, as construct_array lays
 * them out (no items: the empty array, of no dimensions).
 */
Datum
CxNamesArray(char *const *names, const uint32 *items, int32 k)
{
	Size		nbytes = ARR_OVERHEAD_NONULLS(1);
	ArrayType  *arr;
	char	   *at;
	int32		i;

	if (k == 0)
		return PointerGetDatum(construct_empty_array(TEXTOID));
	for (i = 0; i < k; i++)
		nbytes += INTALIGN(VARHDRSZ + strlen(names[items[i]]));
	arr = (ArrayType *) palloc0(nbytes);
	SET_VARSIZE(arr, nbytes);
	arr->ndim = 1;
	arr->dataoffset = 0;
	arr->elemtype = TEXTOID;
	ARR_DIMS(arr)[0] = k;
	ARR_LBOUND(arr)[0] = 1;
	at = ARR_DATA_PTR(arr);
	for (i = 0; i < k; i++)
	{
		const char *name = names[items[i]];
		Size		len = strlen(name);

		SET_VARSIZE(at, VARHDRSZ + len);
		memcpy(VARDATA(at), name, len);
		at += INTALIGN(VARHDRSZ + len);
	}
	return PointerGetDatum(arr);
}

/* The names of the items items[0 .. k) of p, as a text[]. */
Datum
CxTextArray(const CxPatterns *p, const uint32 *items, int32 k)
{
	return CxNamesArray(p->item_name, items, k);
}
