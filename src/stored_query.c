/*
 * stored_query.c
 *		Running a managed analysis's stored source query as its owner.
 *
 * A rule set or segmentation stores the text of a SELECT, the role that
 * wrote it (its owner) and the settings it was written under.  Whoever
 * refreshes the analysis, the query runs
 *
 *	- in a backend process of its own (a dynamic background worker), in a
 *	  read-only transaction, so nothing the owner's code does to a session
 *	  (advisory locks, temporary objects, prepared statements, settings,
 *	  sequences' lastval, connections of other extensions) can reach the
 *	  session of the role that refreshes: the process exits after the query;
 *	- as the owner, the way PostgreSQL runs a materialized view's query for
 *	  REFRESH (see ExecRefreshMatView): inside a security-restricted
 *	  operation, in a GUC nest level with the stored settings.  PostgreSQL
 *	  itself then refuses SET ROLE, RESET ROLE, set_config('role', ...),
 *	  SET SESSION AUTHORIZATION, temporary tables and deferred triggers (the
 *	  holes closed by CVE-2020-25695), and the read-only transaction refuses
 *	  any write or row lock.
 *
 * The text is parsed before it runs, at definition and at every run: it
 * must be exactly one SELECT that writes nothing.  It is then wrapped in a
 * SELECT that picks and casts the columns the caller asked for, and the
 * wrapped text is parsed again to prove that the wrapping kept the query
 * as it was (same parse tree), so no text can splice statements into it.
 *
 * The worker sends its rows through a tuple queue and its notices and
 * errors through a second queue, as parallel workers do; the caller
 * re-raises them as its own.  The worker connects as the caller's session
 * user and dies when the caller goes away or is cancelled.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "executor/tqueue.h"
#include "executor/tstoreReceiver.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "libpq/pqmq.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/shm_mq.h"
#include "storage/shm_toc.h"
#include "tcop/cmdtag.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "cxsell.h"

PG_FUNCTION_INFO_V1(cxsell_source_rows);
PG_FUNCTION_INFO_V1(cxsell_source_columns);
PGDLLEXPORT void cxsell_source_worker(Datum main_arg);

#define SQ_MAGIC			0x43585351	/* "CXSQ" */
#define SQ_KEY_SHARED		1
#define SQ_KEY_SETTINGS		2
#define SQ_KEY_QUERY		3
#define SQ_KEY_SELECT		4
#define SQ_KEY_ERRORS		5
#define SQ_KEY_ROWS			6
#define SQ_ERROR_QUEUE_SIZE	16384
#define SQ_ROW_QUEUE_SIZE	262144

/* What the caller tells the worker, and the worker's "finished" flag. */
typedef struct SourceShared
{
	Oid			database;
	Oid			session_user;	/* the worker connects as the caller's */
	Oid			owner;			/* and runs the query as the owner */
	bool		columns_only;	/* report the columns, read no row */
	bool		finished;		/* set by the worker after a clean run */
} SourceShared;

/* What to restore when leaving the owner's context. */
typedef struct OwnerContext
{
	Oid			save_userid;
	int			save_sec_context;
	int			save_nestlevel;
} OwnerContext;

/*
 * Become `owner` in a security-restricted operation, with a GUC nest level
 * of its own in which the settings stored with the query (its search_path,
 * date style and time zone) and fixed lexing and output settings apply.
 */
static void
EnterOwner(Oid owner, Jsonb *settings, OwnerContext *cx)
{
	GetUserIdAndSecContext(&cx->save_userid, &cx->save_sec_context);
	SetUserIdAndSecContext(owner,
						   cx->save_sec_context |
						   SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	cx->save_nestlevel = NewGUCNestLevel();
	CxPinOutputSettings();
	CxPinStoredSettings(settings);
	/* the text must lex the same way at definition and at every run */
	CxPinSetting("standard_conforming_strings", "on");
}

/* Undo EnterOwner. */
static void
LeaveOwner(const OwnerContext *cx)
{
	AtEOXact_GUC(false, cx->save_nestlevel);
	SetUserIdAndSecContext(cx->save_userid, cx->save_sec_context);
}

/* Send one row (name, type) per column of `desc` to `dest`. */
static void
SendColumns(TupleDesc desc, DestReceiver *dest)
{
	TupleDesc	out = CreateTemplateTupleDesc(2);
	TupleTableSlot *slot;
	int			i;

	TupleDescInitEntry(out, 1, "name", TEXTOID, -1, 0);
	TupleDescInitEntry(out, 2, "type", REGTYPEOID, -1, 0);
	slot = MakeSingleTupleTableSlot(out, &TTSOpsVirtual);
	dest->rStartup(dest, CMD_SELECT, out);
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		ExecClearTuple(slot);
		slot->tts_values[0] = CStringGetTextDatum(NameStr(att->attname));
		slot->tts_values[1] = ObjectIdGetDatum(att->atttypid);
		slot->tts_isnull[0] = slot->tts_isnull[1] = false;
		ExecStoreVirtualTuple(slot);
		dest->receiveSlot(slot, dest);
	}
	dest->rShutdown(dest);
	ExecDropSingleTupleTableSlot(slot);
}

/*
 * The worker: connect, run the query as its owner in a read-only
 * transaction, send its rows (or its columns), and exit.
 */
void
cxsell_source_worker(Datum main_arg)
{
	dsm_segment *seg;
	shm_toc    *toc;
	shm_mq	   *mq;
	shm_mq_handle *rows;
	SourceShared *shared;
	Jsonb	   *settings;
	char	   *query;
	char	   *select_list;
	SelectStmt *parsed;
	char	   *sql;
	DestReceiver *dest;
	OwnerContext cx;

	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	seg = dsm_attach(DatumGetUInt32(main_arg));
	if (seg == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("could not map the shared memory of a cxsell source query")));
	toc = shm_toc_attach(SQ_MAGIC, dsm_segment_address(seg));
	if (toc == NULL)
		elog(ERROR, "bad magic number in the shared memory of a cxsell source query");

	/* from here on, errors and notices go to the caller */
	mq = shm_toc_lookup(toc, SQ_KEY_ERRORS, false);
	shm_mq_set_sender(mq, MyProc);
	pq_redirect_to_shm_mq(seg, shm_mq_attach(mq, seg, NULL));

	shared = shm_toc_lookup(toc, SQ_KEY_SHARED, false);
	settings = shm_toc_lookup(toc, SQ_KEY_SETTINGS, false);
	query = shm_toc_lookup(toc, SQ_KEY_QUERY, false);
	select_list = shm_toc_lookup(toc, SQ_KEY_SELECT, false);
	mq = shm_toc_lookup(toc, SQ_KEY_ROWS, false);
	shm_mq_set_sender(mq, MyProc);
	rows = shm_mq_attach(mq, seg, NULL);

	/*
	 * Connect as the caller's session user (a role that may log in), then
	 * become the owner for the whole session: session_user, row security
	 * policies on it and the process's statistics entry speak of the owner.
	 */
	BackgroundWorkerInitializeConnectionByOid(shared->database,
											  shared->session_user, 0);
	/* the query may read, nothing else */
	SetConfigOption("default_transaction_read_only", "on", PGC_SUSET,
					PGC_S_OVERRIDE);
	StartTransactionCommand();
	SetSessionAuthorization(shared->owner, superuser_arg(shared->owner));
	PushActiveSnapshot(GetTransactionSnapshot());

	EnterOwner(shared->owner, settings, &cx);
	parsed = CxParseQueryText(query, "a source query", &query);
	sql = CxWrapQueryText(query, parsed, "a source query", select_list,
						  shared->columns_only ? "LIMIT 0" : "");
	pgstat_report_activity(STATE_RUNNING, sql);
	dest = CreateTupleQueueDestReceiver(rows);
	SPI_connect();
	if (shared->columns_only)
	{
		if (SPI_execute(sql, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "the wrapped source query is not a SELECT");
		SendColumns(SPI_tuptable->tupdesc, dest);
	}
	else
	{
		SPIExecuteOptions options;

		memset(&options, 0, sizeof(options));
		options.dest = dest;
		if (SPI_execute_extended(sql, &options) != SPI_OK_SELECT)
			elog(ERROR, "the wrapped source query is not a SELECT");
	}
	SPI_finish();
	/* detaches the row queue: the caller has every row */
	dest->rDestroy(dest);
	LeaveOwner(&cx);

	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
	/* the caller reads this once the error queue is detached, at exit */
	pg_write_barrier();
	shared->finished = true;
	proc_exit(0);
}

/* Stop the worker when the caller lets go of its shared memory. */
static void
StopWorker(dsm_segment *seg pg_attribute_unused(), Datum arg)
{
	TerminateBackgroundWorker((BackgroundWorkerHandle *) DatumGetPointer(arg));
}

/* the longest message, detail, hint or context passed on from a worker */
#define SQ_TEXT_LIMIT 2000

/* `text` cut to SQ_TEXT_LIMIT bytes on a character boundary, marked "..." */
static char *
ClipText(char *text)
{
	int			len;

	if (text == NULL || strlen(text) <= SQ_TEXT_LIMIT)
		return text;
	len = pg_mbcliplen(text, strlen(text), SQ_TEXT_LIMIT);
	return psprintf("%.*s...", len, text);
}

/*
 * Print a notice of the worker, or raise its error as the caller's, working
 * in `cxt`, which the caller resets after each message (the owner's code
 * may send millions).  An error whose SQLSTATE class would make a client
 * retry or think the server is in trouble (connection, transaction
 * rollback, insufficient resources, operator intervention, system or
 * internal error) is raised as an external routine exception that keeps
 * the original code in its detail: the owner's code does not choose how
 * the refreshing session's client reacts.  Long texts are clipped.
 */
static void
RelayMessage(const char *data, Size len, MemoryContext cxt)
{
	MemoryContext old = MemoryContextSwitchTo(cxt);
	StringInfoData msg;
	ErrorData	edata;
	char		msgtype;

	initStringInfo(&msg);
	appendBinaryStringInfo(&msg, data, len);
	msgtype = pq_getmsgbyte(&msg);
	if (msgtype == 'E' || msgtype == 'N')
	{
		pq_parse_errornotice(&msg, &edata);
		edata.message = ClipText(edata.message);
		edata.detail = ClipText(edata.detail);
		edata.hint = ClipText(edata.hint);
		edata.context = ClipText(edata.context);
		/* the worker's death is not the caller's */
		edata.elevel = Min(edata.elevel, ERROR);
		if (edata.elevel >= ERROR)
		{
			const char *class = unpack_sql_state(edata.sqlerrcode);

			if (strncmp(class, "08", 2) == 0 || strncmp(class, "40", 2) == 0 ||
				strncmp(class, "53", 2) == 0 || strncmp(class, "57", 2) == 0 ||
				strncmp(class, "58", 2) == 0 || strncmp(class, "XX", 2) == 0)
			{
				edata.detail = psprintf("The source query raised SQLSTATE %s.%s%s",
										class, edata.detail ? " " : "",
										edata.detail ? edata.detail : "");
				edata.sqlerrcode = ERRCODE_EXTERNAL_ROUTINE_EXCEPTION;
			}
		}
		ThrowErrorData(&edata);
	}
	MemoryContextSwitchTo(old);
}

/* A source query's run: its shared memory, queues and worker. */
typedef struct SourceRun
{
	dsm_segment *seg;
	SourceShared *shared;
	shm_mq_handle *errors;
	shm_mq_handle *rows;
	BackgroundWorkerHandle *handle;
} SourceRun;

/* Copy `len` bytes of `data` into a chunk of `toc` under `key`. */
static void
PutChunk(shm_toc *toc, uint64 key, const void *data, Size len)
{
	char	   *p = shm_toc_allocate(toc, len);

	memcpy(p, data, len);
	shm_toc_insert(toc, key, p);
}

/* A queue of `size` bytes under `key`, read by this backend. */
static shm_mq_handle *
CreateQueue(shm_toc *toc, dsm_segment *seg, uint64 key, Size size)
{
	shm_mq	   *mq = shm_mq_create(shm_toc_allocate(toc, size), size);

	shm_toc_insert(toc, key, mq);
	shm_mq_set_receiver(mq, MyProc);
	return shm_mq_attach(mq, seg, NULL);
}

/* The shared memory of a run: what the worker reads, and both queues. */
static void
CreateSegment(SourceRun *run, Oid owner, Jsonb *settings, const char *query,
			  const char *select_list, bool columns_only)
{
	shm_toc_estimator e;
	Size		size;
	shm_toc    *toc;

	shm_toc_initialize_estimator(&e);
	shm_toc_estimate_chunk(&e, sizeof(SourceShared));
	shm_toc_estimate_chunk(&e, VARSIZE(settings));
	shm_toc_estimate_chunk(&e, strlen(query) + 1);
	shm_toc_estimate_chunk(&e, strlen(select_list) + 1);
	shm_toc_estimate_chunk(&e, SQ_ERROR_QUEUE_SIZE);
	shm_toc_estimate_chunk(&e, SQ_ROW_QUEUE_SIZE);
	shm_toc_estimate_keys(&e, 6);
	size = shm_toc_estimate(&e);

	run->seg = dsm_create(size, 0);
	toc = shm_toc_create(SQ_MAGIC, dsm_segment_address(run->seg), size);
	run->shared = shm_toc_allocate(toc, sizeof(SourceShared));
	run->shared->database = MyDatabaseId;
	run->shared->session_user = GetSessionUserId();
	run->shared->owner = owner;
	run->shared->columns_only = columns_only;
	run->shared->finished = false;
	shm_toc_insert(toc, SQ_KEY_SHARED, run->shared);
	PutChunk(toc, SQ_KEY_SETTINGS, settings, VARSIZE(settings));
	PutChunk(toc, SQ_KEY_QUERY, query, strlen(query) + 1);
	PutChunk(toc, SQ_KEY_SELECT, select_list, strlen(select_list) + 1);
	run->errors = CreateQueue(toc, run->seg, SQ_KEY_ERRORS, SQ_ERROR_QUEUE_SIZE);
	run->rows = CreateQueue(toc, run->seg, SQ_KEY_ROWS, SQ_ROW_QUEUE_SIZE);
}

/* Start the worker of a run; it is stopped when the segment goes. */
static void
LaunchWorker(SourceRun *run)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_ConsistentState;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "cxsell");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "cxsell_source_worker");
	snprintf(worker.bgw_name, BGW_MAXLEN, "cxsell source query for PID %d", MyProcPid);
	snprintf(worker.bgw_type, BGW_MAXLEN, "cxsell source query");
	worker.bgw_main_arg = UInt32GetDatum(dsm_segment_handle(run->seg));
	worker.bgw_notify_pid = MyProcPid;
	if (!RegisterDynamicBackgroundWorker(&worker, &run->handle))
		ereport(ERROR,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("no background worker is free to run a source query"),
				 errdetail("A source query runs in a background worker of its own."),
				 errhint("Raise max_worker_processes, or refresh when fewer parallel queries run.")));
	on_dsm_detach(run->seg, StopWorker, PointerGetDatum(run->handle));
	shm_mq_set_handle(run->errors, run->handle);
	shm_mq_set_handle(run->rows, run->handle);
}

/*
 * Relay the worker's notices and errors while putting its rows (of `desc`)
 * into `store`, until both queues end; stop past
 * cxsell.source_query_timeout.
 */
static void
ReceiveRows(SourceRun *run, Tuplestorestate *store, TupleDesc desc)
{
	TupleQueueReader *reader = CreateTupleQueueReader(run->rows);
	TupleTableSlot *slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
	MemoryContext relay_cxt = AllocSetContextCreate(CurrentMemoryContext,
													"cxsell relayed message",
													ALLOCSET_SMALL_SIZES);
	TimestampTz deadline = cxsell_source_query_timeout_ms > 0 ?
		TimestampTzPlusMilliseconds(GetCurrentTimestamp(), cxsell_source_query_timeout_ms) : 0;
	bool		rows_done = false;
	bool		errors_done = false;

	while (!rows_done || !errors_done)
	{
		bool		progress = false;

		if (!errors_done)
		{
			Size		len;
			void	   *data;
			shm_mq_result res = shm_mq_receive(run->errors, &len, &data, true);

			if (res == SHM_MQ_SUCCESS)
			{
				RelayMessage(data, len, relay_cxt);
				MemoryContextReset(relay_cxt);
				progress = true;
			}
			else if (res == SHM_MQ_DETACHED)
				errors_done = true;
		}
		if (!rows_done)
		{
			MinimalTuple tuple = TupleQueueReaderNext(reader, true, &rows_done);

			if (tuple != NULL)
			{
				ExecStoreMinimalTuple(tuple, slot, false);
				tuplestore_puttupleslot(store, slot);
				progress = true;
			}
		}
		if (deadline != 0 && GetCurrentTimestamp() >= deadline)
			ereport(ERROR,
					(errcode(ERRCODE_QUERY_CANCELED),
					 errmsg("the source query ran longer than cxsell.source_query_timeout (%d ms)",
							cxsell_source_query_timeout_ms),
					 errhint("Make the query faster, or ask a superuser to raise cxsell.source_query_timeout.")));
		if (!progress && (!rows_done || !errors_done))
		{
			long		wait = -1;

			if (deadline != 0)
				wait = (long) ((deadline - GetCurrentTimestamp()) / 1000) + 1;
			(void) WaitLatch(MyLatch,
							 WL_LATCH_SET | WL_EXIT_ON_PM_DEATH | (wait >= 0 ? WL_TIMEOUT : 0),
							 wait, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
		}
		CHECK_FOR_INTERRUPTS();
	}
	ExecDropSingleTupleTableSlot(slot);
	DestroyTupleQueueReader(reader);
	MemoryContextDelete(relay_cxt);
}

/*
 * Run the source query `query` of `owner` under `settings` in a worker and
 * put what it returns into `store` (rows of `desc`): the columns named in
 * `select_list`, or, with `columns_only`, one (name, type) row per column.
 */
static void
RunInWorker(Oid owner, Jsonb *settings, const char *query,
			const char *select_list, bool columns_only,
			Tuplestorestate *store, TupleDesc desc)
{
	SourceRun	run;

	CreateSegment(&run, owner, settings, query, select_list, columns_only);
	LaunchWorker(&run);
	ReceiveRows(&run, store, desc);
	pg_read_barrier();
	if (!run.shared->finished)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("the background worker running a source query exited before it finished")));
	cancel_on_dsm_detach(run.seg, StopWorker, PointerGetDatum(run.handle));
	dsm_detach(run.seg);
}

/* The role named `owner`, which the current user must be able to act as. */
static Oid
CheckOwner(const char *owner)
{
	Oid			roleid = get_role_oid(owner, true);

	if (!OidIsValid(roleid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("role \"%s\" does not exist", owner),
				 errdetail("The source query runs as its owner, role \"%s\".", owner),
				 errhint("Define the analysis again under an existing role.")));
	if (!CxMayActAs(GetUserId(), roleid))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to run a query as role \"%s\"", owner),
				 errdetail("Only roles that may SET ROLE to \"%s\" may run its queries.",
						   owner)));
	return roleid;
}

/*
 * cxsell_internal.source_rows(owner name, settings jsonb, query text,
 *		columns text[], types regtype[]) RETURNS SETOF record
 *
 * Run a source query as its owner and return, for each of its rows, the
 * columns named (NULL where a name is NULL) cast to the types given.
 */
Datum
cxsell_source_rows(PG_FUNCTION_ARGS)
{
	Oid			owner = CheckOwner(NameStr(*PG_GETARG_NAME(0)));
	Jsonb	   *settings = PG_GETARG_JSONB_P(1);
	char	   *query = text_to_cstring(PG_GETARG_TEXT_PP(2));
	ArrayType  *columns = PG_GETARG_ARRAYTYPE_P(3);
	ArrayType  *types = PG_GETARG_ARRAYTYPE_P(4);
	Datum	   *names;
	bool	   *name_nulls;
	Datum	   *type_oids;
	int			ncols;
	int			ntypes;
	TupleDesc	tupdesc;
	Tuplestorestate *store;
	StringInfoData list;
	int			i;

	deconstruct_array(columns, TEXTOID, -1, false, TYPALIGN_INT,
					  &names, &name_nulls, &ncols);
	deconstruct_array(types, REGTYPEOID, sizeof(Oid), true, TYPALIGN_INT,
					  &type_oids, NULL, &ntypes);
	store = CxMaterializeSRF(fcinfo, &tupdesc);
	if (ncols != ntypes || ncols != tupdesc->natts)
		elog(ERROR, "source_rows: %d columns, %d types and %d result columns",
			 ncols, ntypes, tupdesc->natts);

	/* the outer select list: each column named, cast to its type */
	initStringInfo(&list);
	for (i = 0; i < ncols; i++)
	{
		Oid			type = DatumGetObjectId(type_oids[i]);

		if (TupleDescAttr(tupdesc, i)->atttypid != type)
			elog(ERROR, "source_rows: column %d is declared %s, not %s", i + 1,
				 format_type_be(TupleDescAttr(tupdesc, i)->atttypid),
				 format_type_be(type));
		appendStringInfo(&list, "%s%s%s::%s", i > 0 ? ", " : "",
						 name_nulls[i] ? "NULL" : "q.",
						 name_nulls[i] ? "" :
						 quote_identifier(TextDatumGetCString(names[i])),
						 format_type_be_qualified(type));
	}
	RunInWorker(owner, settings, query, list.data, false, store, tupdesc);
	return (Datum) 0;
}

/*
 * cxsell_internal.source_columns(owner name, settings jsonb, query text,
 *		OUT name text, OUT type regtype) RETURNS SETOF record
 *
 * Check a source query as its owner, as source_rows runs it (it must parse,
 * plan and pass the owner's privilege checks; no row is read), and return
 * its columns.
 */
Datum
cxsell_source_columns(PG_FUNCTION_ARGS)
{
	Oid			owner = CheckOwner(NameStr(*PG_GETARG_NAME(0)));
	Jsonb	   *settings = PG_GETARG_JSONB_P(1);
	char	   *query = text_to_cstring(PG_GETARG_TEXT_PP(2));
	TupleDesc	tupdesc;
	Tuplestorestate *store = CxMaterializeSRF(fcinfo, &tupdesc);

	RunInWorker(owner, settings, query, "*", true, store, tupdesc);
	return (Datum) 0;
}
