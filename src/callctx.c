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
 * The error context of an aggregate support function: the aggregate that
 * runs it ("aggregate cxsell.gains"), found only when a message is raised,
 * from the Aggref; an aggregate of another extension calling ours (Citus's
 * worker_partial_agg) is not named.
 */
static void
AggregateContext(void *arg)
{
	FunctionCallInfo fcinfo = (FunctionCallInfo) arg;
	Aggref	   *aggref = AggGetAggref(fcinfo);
	char	   *fname = NULL;

	if (aggref != NULL &&
		get_func_namespace(aggref->aggfnoid) == get_func_namespace(fcinfo->flinfo->fn_oid))
		fname = get_func_name(aggref->aggfnoid);
	if (fname != NULL)
		errcontext("aggregate cxsell.%s", fname);
	else
		errcontext("a cxsell aggregate");
}

/*
 * Bracket the work of an aggregate support function: messages raised
 * inside name the aggregate.  Costs nothing until a message is raised, so
 * that every row may pay it.
 */
void
CxEnterAggregate(ErrorContextCallback *cb, FunctionCallInfo fcinfo)
{
	cb->callback = AggregateContext;
	cb->arg = (void *) fcinfo;
	cb->previous = error_context_stack;
	error_context_stack = cb;
}
