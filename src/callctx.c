/*
 * callctx.c
 *		An error context that names the SQL function a user called.
 *
 * Helpers shared by several SQL functions (the memory bound, value
 * dictionaries, the miner) raise neutral messages; the SQL-facing function
 * brackets its work with CxEnterCall / CxLeaveCall, so every message also
 * says which function the user called, as core's COPY and PL/pgSQL do.
 */
#include "postgres.h"

#include "nodes/primnodes.h"
#include "utils/lsyscache.h"

#include "cxsell.h"

static void
CallContext(void *arg)
{
	errcontext("%s", (const char *) arg);
}

/* Name the call (such as "aggregate cxsell.mine") in errors raised inside. */
void
CxEnterCall(ErrorContextCallback *cb, const char *what)
{
	cb->callback = CallContext;
	cb->arg = (void *) what;
	cb->previous = error_context_stack;
	error_context_stack = cb;
}

/* End the call's error context (an error unwinds it by itself). */
void
CxLeaveCall(ErrorContextCallback *cb)
{
	error_context_stack = cb->previous;
}

/*
 * Name the aggregate whose transition, combine or final function is running
 * ("aggregate cxsell.gains"), found once per call site from the Aggref and
 * kept in fn_extra, which cxsell's aggregate support functions do not
 * otherwise use: one support function may serve two aggregates.
 */
void
CxEnterAggregate(ErrorContextCallback *cb, FunctionCallInfo fcinfo)
{
	const char *name = (const char *) fcinfo->flinfo->fn_extra;

	if (name == NULL)
	{
		Aggref	   *aggref = AggGetAggref(fcinfo);
		char	   *fname = NULL;

		/* not the aggregate of another extension calling ours (Citus's) */
		if (aggref != NULL &&
			get_func_namespace(aggref->aggfnoid) == get_func_namespace(fcinfo->flinfo->fn_oid))
			fname = get_func_name(aggref->aggfnoid);

		name = MemoryContextStrdup(fcinfo->flinfo->fn_mcxt,
								   fname != NULL ? psprintf("aggregate cxsell.%s", fname)
								   : "a cxsell aggregate");
		fcinfo->flinfo->fn_extra = (void *) name;
	}
	CxEnterCall(cb, name);
}
