/*
 * args.c
 *		Checks on the arguments of cxsell's functions and aggregates, and
 *		the common steps of their support functions.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/regproc.h"

#include "cxsell.h"

/* Fail when a parameter that has no meaning as NULL is NULL. */
void
CxRequireArg(FunctionCallInfo fcinfo, int argno, const char *name,
			 const char *hint)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", name),
				 hint != NULL ? errhint("%s", hint) : 0));
}

/*
 * Fail when a row of a group gives an aggregate other parameters (`params`,
 * such as "min_support and max_len") than the group's first row did;
 * `detail` (or NULL) says what they were.
 */
void
CxRequireSameParams(bool same, const char *params, const char *detail)
{
	if (!same)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be the same for every row of a group", params),
				 detail ? errdetail("%s", detail) : 0,
				 errhint("Pass constants, not per-row expressions.")));
}

/* Refuse a negative count argument (a limit, where 0 means none). */
void
CxRequireNonNegative(int64 v, const char *name, const char *hint)
{
	if (v < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s %lld is out of range", name, (long long) v),
				 errhint("%s", hint)));
}

/* The memory context of the aggregate calling a support function. */
MemoryContext
CxAggContext(FunctionCallInfo fcinfo)
{
	MemoryContext aggcxt;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s is an aggregate support function",
						format_procedure(fcinfo->flinfo->fn_oid)),
				 errhint("Call the aggregate it belongs to.")));
	return aggcxt;
}

/*
 * The prologue of a combine function: fetch the two states (NULL when
 * absent).  Returns false when there is nothing to merge (no source state):
 * the caller then returns *dst, which may be NULL.
 */
bool
CxCombineStates(FunctionCallInfo fcinfo, MemoryContext *aggcxt, void **dst,
				void **src)
{
	*aggcxt = CxAggContext(fcinfo);
	*dst = PG_ARGISNULL(0) ? NULL : PG_GETARG_POINTER(0);
	*src = PG_ARGISNULL(1) ? NULL : PG_GETARG_POINTER(1);
	return *src != NULL;
}

/*
 * A support function of an older version of the extension's SQL objects,
 * kept in the library so that the older scripts load: refuse to run it.
 */
void
CxRequireUpdate(const char *objects)
{
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("%s of this database's cxsell version do not match the installed library",
					objects),
			 errhint("Run ALTER EXTENSION cxsell UPDATE.")));
}
