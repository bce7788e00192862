/*
 * txn.c
 *		Whether the running procedure may commit.
 *
 * cxsell.refresh() commits its run-log entry before and after the work so
 * that a failed run stays logged; it may do so only when CALLed outside a
 * transaction block (as psql in autocommit mode and pg_cron do).  Inside a
 * transaction block the whole refresh, log included, belongs to the
 * caller's transaction.
 */
#include "postgres.h"

#include "executor/spi.h"
#include "fmgr.h"

PG_FUNCTION_INFO_V1(cxsell_can_commit);

/*
 * True when called from a procedure that runs in a non-atomic context,
 * where COMMIT is allowed (outside any exception block).
 */
Datum
cxsell_can_commit(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(SPI_inside_nonatomic_context());
}
