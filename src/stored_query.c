/*
 * stored_query.c
 *		Running a managed analysis's stored source query as its owner.
 *
 * A rule set or segmentation stores the text of a SELECT, the role that
 * wrote it (its owner) and the search_path it was written under.  Whoever
 * refreshes the analysis, the query runs the way PostgreSQL runs a
 * materialized view's query for REFRESH (see ExecRefreshMatView): as the
 * owner, inside a security-restricted operation, in a GUC nest level of its
 * own.  Inside it PostgreSQL itself refuses SET ROLE, RESET ROLE,
 * set_config('role', ...), SET SESSION AUTHORIZATION, temporary tables,
 * cursors WITH HOLD, PREPARE, LISTEN and deferred triggers (the holes closed
 * by CVE-2020-25695), and every setting the query's code changes is undone
 * on the way out.  Nothing of the owner's code can outlive the call.
 *
 * The text is parsed before it runs, at definition and at every run: it
 * must be exactly one SELECT that writes nothing.  It is then wrapped in a
 * SELECT that picks and casts the columns the caller asked for, and the
 * wrapped text is parsed again to prove that the wrapping kept the query
 * as it was (same parse tree), so no text can splice statements into it.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "executor/tstoreReceiver.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "tcop/cmdtag.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"

#include "cxsell.h"

PG_FUNCTION_INFO_V1(cxsell_source_rows);
PG_FUNCTION_INFO_V1(cxsell_source_columns);

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

/* Undo EnterOwner (an error does the same through transaction abort). */
static void
LeaveOwner(const OwnerContext *cx)
{
	AtEOXact_GUC(false, cx->save_nestlevel);
	SetUserIdAndSecContext(cx->save_userid, cx->save_sec_context);
}

/* Reject a source query. */
static void
RejectQuery(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("a source query must be exactly one SELECT statement"),
			 errdetail("%s", detail),
			 errhint("Store one SELECT (WITH ... SELECT is fine); it must not write, lock rows or use SELECT INTO.")));
}

/*
 * Parse `query`: it must be one SELECT that writes nothing.  *text receives
 * the statement's own text (without a trailing semicolon).
 */
static SelectStmt *
ParseSourceQuery(const char *query, char **text)
{
	List	   *stmts = raw_parser(query, RAW_PARSE_DEFAULT);
	RawStmt    *raw;
	SelectStmt *select;
	ListCell   *lc;

	if (list_length(stmts) != 1)
		RejectQuery(psprintf("The text holds %d statements.", list_length(stmts)));
	raw = linitial_node(RawStmt, stmts);
	Assert(raw->stmt_location >= 0);
	if (!IsA(raw->stmt, SelectStmt))
		RejectQuery(psprintf("Its command is %s.",
							 GetCommandTagName(CreateCommandTag(raw->stmt))));
	select = (SelectStmt *) raw->stmt;
	*text = raw->stmt_len > 0 ? pnstrdup(query + raw->stmt_location, raw->stmt_len)
		: pstrdup(query + raw->stmt_location);
	if (select->intoClause != NULL)
		RejectQuery("It is a SELECT INTO statement, which creates a table.");
	if (select->lockingClause != NIL)
		RejectQuery("It locks the rows it reads (FOR UPDATE or FOR SHARE).");
	if (select->withClause != NULL)
	{
		foreach(lc, select->withClause->ctes)
		{
			CommonTableExpr *cte = lfirst_node(CommonTableExpr, lc);

			if (!IsA(cte->ctequery, SelectStmt))
				RejectQuery(psprintf("Its WITH query \"%s\" runs %s.",
									 cte->ctename,
									 GetCommandTagName(CreateCommandTag(cte->ctequery))));
		}
	}
	return select;
}

/*
 * Wrap the parsed source query `parsed` (text `query`) as
 * "SELECT <select_list> FROM (<query>) AS q <tail>" and prove, by parsing
 * the result, that the source query inside is the one parsed alone.
 */
static char *
WrapSourceQuery(const char *query, SelectStmt *parsed, const char *select_list,
				const char *tail)
{
	StringInfoData buf;
	List	   *stmts;
	SelectStmt *outer = NULL;

	initStringInfo(&buf);
	appendStringInfo(&buf, "SELECT %s FROM (\n%s\n) AS q %s",
					 select_list, query, tail);
	stmts = raw_parser(buf.data, RAW_PARSE_DEFAULT);
	if (list_length(stmts) == 1 && IsA(linitial_node(RawStmt, stmts)->stmt, SelectStmt))
		outer = (SelectStmt *) linitial_node(RawStmt, stmts)->stmt;
	if (outer == NULL || list_length(outer->fromClause) != 1 ||
		!IsA(linitial(outer->fromClause), RangeSubselect) ||
		!equal(((RangeSubselect *) linitial(outer->fromClause))->subquery, parsed))
		RejectQuery("It does not stay one query when read as a subquery.");
	return buf.data;
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
	const char *owner = NameStr(*PG_GETARG_NAME(0));
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
	OwnerContext cx;
	Oid			roleid;
	SelectStmt *parsed;
	char	   *sql;
	DestReceiver *dest;
	SPIExecuteOptions options;
	int			i;

	roleid = CheckOwner(owner);
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

	EnterOwner(roleid, settings, &cx);
	parsed = ParseSourceQuery(query, &query);
	sql = WrapSourceQuery(query, parsed, list.data, "");

	dest = CreateDestReceiver(DestTuplestore);
	SetTuplestoreDestReceiverParams(dest, store,
									((ReturnSetInfo *) fcinfo->resultinfo)->econtext->ecxt_per_query_memory,
									false, NULL, NULL);
	memset(&options, 0, sizeof(options));
	options.dest = dest;
	SPI_connect();
	if (SPI_execute_extended(sql, &options) != SPI_OK_SELECT)
		elog(ERROR, "source_rows: the wrapped query is not a SELECT");
	SPI_finish();
	dest->rDestroy(dest);
	LeaveOwner(&cx);
	return (Datum) 0;
}

/*
 * cxsell_internal.source_columns(owner name, settings jsonb, query text,
 *		OUT name text, OUT type regtype) RETURNS SETOF record
 *
 * Check a source query as its owner (it must parse, plan and pass the
 * owner's privilege checks; no row is read) and return its columns.
 */
Datum
cxsell_source_columns(PG_FUNCTION_ARGS)
{
	const char *owner = NameStr(*PG_GETARG_NAME(0));
	Jsonb	   *settings = PG_GETARG_JSONB_P(1);
	char	   *query = text_to_cstring(PG_GETARG_TEXT_PP(2));
	TupleDesc	tupdesc;
	Tuplestorestate *store;
	OwnerContext cx;
	Oid			roleid;
	SelectStmt *parsed;
	char	   *sql;
	TupleDesc	result;
	int			i;

	roleid = CheckOwner(owner);
	store = CxMaterializeSRF(fcinfo, &tupdesc);

	EnterOwner(roleid, settings, &cx);
	parsed = ParseSourceQuery(query, &query);
	sql = WrapSourceQuery(query, parsed, "*", "LIMIT 0");
	SPI_connect();
	if (SPI_execute(sql, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "source_columns: the wrapped query is not a SELECT");
	result = SPI_tuptable->tupdesc;
	for (i = 0; i < result->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(result, i);
		Datum		values[2];
		bool		nulls[2] = {false, false};

		values[0] = CStringGetTextDatum(NameStr(att->attname));
		values[1] = ObjectIdGetDatum(att->atttypid);
		tuplestore_putvalues(store, tupdesc, values, nulls);
	}
	SPI_finish();
	LeaveOwner(&cx);
	return (Datum) 0;
}
