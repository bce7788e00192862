/*
 * query_text.c
 *		Query text that users give cxsell: parsed as exactly one SELECT that
 *		writes nothing, and wrapped as a subquery with proof that it stays
 *		the query parsed alone.
 *
 * One mechanism for the stored source queries of managed analyses (run by
 * stored_query.c) and for the query-text arguments of segment_profiles,
 * segment_propensity, channel_report and backtest, which cxsell._query_text
 * checks before they run: a table name, a syntax error, too few columns or
 * a column of the wrong type is reported in one line naming the argument,
 * instead of as an error inside the function's own SQL.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "nodes/parsenodes.h"
#include "parser/parse_coerce.h"
#include "parser/parser.h"
#include "tcop/cmdtag.h"
#include "tcop/utility.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/plancache.h"

#include "cxsell.h"

PG_FUNCTION_INFO_V1(cxsell_query_text);

/* Reject query text `what` names ("a source query", "segments_query"). */
static void
RejectQuery(const char *what, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s must be exactly one SELECT statement", what),
			 errdetail("%s", detail),
			 errhint("Give one SELECT (WITH ... SELECT is fine); it must not write, lock rows or use SELECT INTO.")));
}

/*
 * Parse `query`: it must be one SELECT that writes nothing.  *text receives
 * the statement's own text (without a trailing semicolon).
 */
SelectStmt *
CxParseQueryText(const char *query, const char *what, char **text)
{
	List	   *stmts = raw_parser(query, RAW_PARSE_DEFAULT);
	RawStmt    *raw;
	SelectStmt *select;
	ListCell   *lc;

	if (list_length(stmts) != 1)
		RejectQuery(what, psprintf("The text holds %d statements.", list_length(stmts)));
	raw = linitial_node(RawStmt, stmts);
	Assert(raw->stmt_location >= 0);
	if (!IsA(raw->stmt, SelectStmt))
		RejectQuery(what, psprintf("Its command is %s.",
								   GetCommandTagName(CreateCommandTag(raw->stmt))));
	select = (SelectStmt *) raw->stmt;
	*text = raw->stmt_len > 0 ? pnstrdup(query + raw->stmt_location, raw->stmt_len)
		: pstrdup(query + raw->stmt_location);
	if (select->intoClause != NULL)
		RejectQuery(what, "It is a SELECT INTO statement, which creates a table.");
	if (select->lockingClause != NIL)
		RejectQuery(what, "It locks the rows it reads (FOR UPDATE or FOR SHARE).");
	if (select->withClause != NULL)
	{
		foreach(lc, select->withClause->ctes)
		{
			CommonTableExpr *cte = lfirst_node(CommonTableExpr, lc);

			if (!IsA(cte->ctequery, SelectStmt))
				RejectQuery(what, psprintf("Its WITH query \"%s\" runs %s.",
										   cte->ctename,
										   GetCommandTagName(CreateCommandTag(cte->ctequery))));
		}
	}
	return select;
}

/*
 * Wrap the parsed query `parsed` (text `query`) as
 * "SELECT <select_list> FROM (<query>) AS q <tail>" and prove, by parsing
 * the result, that the query inside is the one parsed alone.
 */
char *
CxWrapQueryText(const char *query, SelectStmt *parsed, const char *what,
				const char *select_list, const char *tail)
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
		RejectQuery(what, "It does not stay one query when read as a subquery.");
	return buf.data;
}

/* Whether `s` is a bare (possibly qualified) name, as a table name would be. */
static bool
LooksLikeName(const char *s)
{
	bool		start = true;

	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	if (*s == '\0')
		return false;
	for (; *s != '\0' && *s != ';' && *s != ' ' && *s != '\t' && *s != '\n' && *s != '\r'; s++)
	{
		if (*s == '.' && !start)
			start = true;
		else if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_' ||
				 (unsigned char) *s >= 0x80 ||
				 (!start && ((*s >= '0' && *s <= '9') || *s == '$')))
			start = false;
		else
			return false;
	}
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == ';')
		s++;
	return *s == '\0' && !start;
}

/* The name LooksLikeName accepted, without the spaces and semicolons around it. */
static char *
BareName(const char *s)
{
	const char *end;

	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	for (end = s; *end != '\0' && *end != ';' && *end != ' ' && *end != '\t' &&
		 *end != '\n' && *end != '\r'; end++)
		;
	return pnstrdup(s, end - s);
}

/* Parse `query`, reporting a syntax error as a mistake in argument `what`. */
static SelectStmt *
ParseArgument(const char *query, const char *what, const char *columns, char **text)
{
	MemoryContext cxt = CurrentMemoryContext;
	SelectStmt *parsed = NULL;

	PG_TRY();
	{
		parsed = CxParseQueryText(query, what, text);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		if (edata->sqlerrcode != ERRCODE_SYNTAX_ERROR)
			PG_RE_THROW();
		FlushErrorState();
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("%s is not a valid query: %s", what, edata->message),
				 errhint("Give the text of one SELECT returning (%s).", columns)));
	}
	PG_END_TRY();
	return parsed;
}

/*
 * The result columns of `text`, analysed as the caller would run it (its
 * rights, its search_path), without running it.
 */
static TupleDesc
DescribeQuery(const char *text)
{
	MemoryContext caller = CurrentMemoryContext;
	SPIPlanPtr	plan;
	CachedPlanSource *source;
	TupleDesc	desc;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	plan = SPI_prepare(text, 0, NULL);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	source = linitial(SPI_plan_get_plan_sources(plan));
	/* SPI_finish frees SPI's memory: the copy goes to the caller's */
	MemoryContextSwitchTo(caller);
	desc = CreateTupleDescCopy(source->resultDesc);
	SPI_finish();
	return desc;
}

/*
 * cxsell._query_text(argument, query, columns, types): the text of `query`,
 * one SELECT (a trailing semicolon dropped), after checking that it returns
 * at least the columns named in `columns`, in that order, each readable as
 * its type in `types` (NULL: any type).  `argument` names the query in
 * errors.
 */
Datum
cxsell_query_text(PG_FUNCTION_ARGS)
{
	char	   *what;
	char	   *query;
	Datum	   *names;
	Datum	   *types;
	bool	   *type_nulls;
	int			ncols;
	int			ntypes;
	StringInfoData list;
	char	   *sql;
	SelectStmt *parsed;
	TupleDesc	desc;
	int			i;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
		elog(ERROR, "cxsell._query_text needs an argument name, columns and types");
	what = text_to_cstring(PG_GETARG_TEXT_PP(0));
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(2), TEXTOID, -1, false, TYPALIGN_INT,
					  &names, NULL, &ncols);
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(3), REGTYPEOID, sizeof(Oid), true,
					  TYPALIGN_INT, &types, &type_nulls, &ntypes);
	if (ntypes != ncols)
		elog(ERROR, "cxsell._query_text needs one type per column");
	initStringInfo(&list);
	for (i = 0; i < ncols; i++)
		appendStringInfo(&list, "%s%s", i > 0 ? ", " : "", TextDatumGetCString(names[i]));

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", what),
				 errhint("Give the text of a query returning (%s).", list.data)));
	query = text_to_cstring(PG_GETARG_TEXT_PP(1));
	if (LooksLikeName(query))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be the text of a query, not a table name", what),
				 errhint("Give a query such as 'SELECT %s FROM %s', naming the columns in that order.",
						 list.data, BareName(query))));
	parsed = ParseArgument(query, what, list.data, &sql);
	(void) CxWrapQueryText(sql, parsed, what, "*", "");

	desc = DescribeQuery(sql);
	if (desc->natts < ncols)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s returns %d column%s; it must return %d: %s",
						what, desc->natts, desc->natts == 1 ? "" : "s", ncols, list.data),
				 errhint("Select the columns in this order: %s.", list.data)));
	for (i = 0; i < ncols; i++)
	{
		Oid			source = TupleDescAttr(desc, i)->atttypid;
		Oid			target = type_nulls[i] ? InvalidOid : DatumGetObjectId(types[i]);
		Oid			funcid;

		if (!OidIsValid(target) || source == target)
			continue;
		if (find_coercion_pathway(target, source, COERCION_EXPLICIT, &funcid) ==
			COERCION_PATH_NONE)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column %d of %s (%s) is of type %s, not %s",
							i + 1, what, TextDatumGetCString(names[i]),
							format_type_be(source), format_type_be(target)),
					 errhint("Return %s as a %s.", TextDatumGetCString(names[i]),
							 format_type_be(target))));
	}
	PG_RETURN_TEXT_P(cstring_to_text(sql));
}
