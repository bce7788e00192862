/*
 * args.c
 *		Checks on the arguments of cxsell's functions and aggregates.
 */
#include "postgres.h"

#include "fmgr.h"

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
				 errhint("%s", hint)));
}
