/*
 * chisq.c
 *		cxsell.chi_square(row_label, column_label): Pearson's chi-square test
 *		of independence over the contingency table of two labels, such as
 *		channel x responded.
 *
 * The state is the table itself: a dictionary of row labels, one of column
 * labels, and the count of each (row, column) cell that occurs.  The final
 * function sums over the labels in their type's order, so the statistic
 * does not depend on the order of the rows or on the plan.
 *
 * Two aggregates share the table: cxsell.chi_square(anyelement,
 * anycompatible), whose state is internal, and its overloads for text and
 * boolean labels, whose state is of type cxsell.contingency_table (see
 * expanded_state.h): Citus aggregates those on the workers and ships each
 * worker's table, not its rows.  Their label types are the declared types
 * of the transition function, which Citus calls without an expression
 * tree; text labels compare byte for byte (collation "C").
 *
 * Serialised state, version 1 (big-endian, framing of bytes.h):
 *	"CXC" u8 version=1, u32 collation, u32 row type, u32 column type,
 *	u32 nrows, nrows values, u32 ncols, ncols values,
 *	u64 ncells, ncells x (u32 row, u32 column, u64 count)
 * with values written as in mine_state.c.
 */
#include "postgres.h"

#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "bytes.h"
#include "cxsell.h"
#include "expanded_state.h"
#include "pair_counts.h"
#include "stats.h"
#include "value_io.h"

PG_FUNCTION_INFO_V1(chisq_table_trans);
PG_FUNCTION_INFO_V1(chisq_table_combine);
PG_FUNCTION_INFO_V1(chisq_table_serialize);
PG_FUNCTION_INFO_V1(chisq_table_deserialize);
PG_FUNCTION_INFO_V1(chisq_table_final);
PG_FUNCTION_INFO_V1(contingency_trans);
PG_FUNCTION_INFO_V1(contingency_combine);
PG_FUNCTION_INFO_V1(contingency_final);
PG_FUNCTION_INFO_V1(chisq_trans);
PG_FUNCTION_INFO_V1(chisq_final);

#define CHISQ_STATE_VERSION 1

typedef struct ChisqState
{
	MemoryContext cxt;
	CxTypeInfo	row_ti;
	CxTypeInfo	col_ti;
	CxValueSet	rows;
	CxValueSet	cols;
	cx_pair_counts_hash *cells;
	int64		n;				/* observations */
} ChisqState;

static bytea *ChisqWrite(void *state);
static void *ContingencyRead(bytea *bytes, MemoryContext parent, MemoryContext limit,
							 int errcode);
static void *ChisqEmptyLike(const void *state, MemoryContext parent, MemoryContext limit);

static const CxStateKind contingency_kind = {
	"cxsell.contingency_table", ChisqWrite, ContingencyRead, ChisqEmptyLike
};

CX_STATE_TYPE_IO(contingency_table, contingency_kind)

static ChisqState *
ChisqStateCreate(MemoryContext parent, MemoryContext limit, Oid row_type, Oid col_type,
				 Oid collation)
{
	MemoryContext cxt = AllocSetContextCreate(parent, "cxsell.chi_square state",
											  ALLOCSET_SMALL_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	ChisqState *st = palloc0(sizeof(ChisqState));

	st->cxt = cxt;
	CxTypeInfoInit(&st->row_ti, row_type, collation, "row label");
	CxTypeInfoInit(&st->col_ti, col_type, collation, "column label");
	CxValueSetInit(&st->rows, &st->row_ti, cxt, limit, CX_WORK_COUNTING);
	CxValueSetInit(&st->cols, &st->col_ti, cxt, limit, CX_WORK_COUNTING);
	st->cells = cx_pair_counts_create(cxt, 16, NULL);
	MemoryContextSwitchTo(old);
	return st;
}

static void *
ChisqEmptyLike(const void *state, MemoryContext parent, MemoryContext limit)
{
	const ChisqState *st = (const ChisqState *) state;

	return ChisqStateCreate(parent, limit, st->row_ti.type, st->col_ti.type,
							st->row_ti.collation);
}

/* Add `count` observations of cell (row, col). */
static void
AddCell(ChisqState *st, uint32 row, uint32 col, int64 count)
{
	bool		found;
	CxPairCount  *cell = cx_pair_counts_insert(st->cells, (uint64) row << 32 | col, &found);

	cell->count = found ? cell->count + count : count;
	st->n += count;
}

/* Transition: one row per observation; NULL labels are skipped. */
Datum
chisq_table_trans(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt = CxAggContext(fcinfo);
	ChisqState *st = PG_ARGISNULL(0) ? NULL : (ChisqState *) PG_GETARG_POINTER(0);
	ErrorContextCallback call;

	CxEnterAggregate(&call, fcinfo);
	if (st == NULL)
		st = ChisqStateCreate(aggcxt, aggcxt, get_fn_expr_argtype(fcinfo->flinfo, 1),
							  get_fn_expr_argtype(fcinfo->flinfo, 2),
							  PG_GET_COLLATION());
	if (!PG_ARGISNULL(1) && !PG_ARGISNULL(2))
		AddCell(st, CxValueSetId(&st->rows, PG_GETARG_DATUM(1)),
				CxValueSetId(&st->cols, PG_GETARG_DATUM(2)), 1);
	CxLeaveCall(&call);
	PG_RETURN_POINTER(st);
}

/* Add the cells of table src to table dst, renumbering its labels. */
static void
MergeTables(ChisqState *dst, ChisqState *src)
{
	uint32	   *row_map;
	uint32	   *col_map;
	cx_pair_counts_iterator it;
	CxPairCount  *cell;
	uint32		i;

	if (dst->row_ti.type != src->row_ti.type || dst->col_ti.type != src->col_ti.type ||
		dst->row_ti.collation != src->row_ti.collation)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("cannot combine contingency tables of different label types or collations")));
	row_map = palloc(Max(src->rows.nvalues, 1) * sizeof(uint32));
	col_map = palloc(Max(src->cols.nvalues, 1) * sizeof(uint32));
	for (i = 0; i < src->rows.nvalues; i++)
		row_map[i] = CxValueSetId(&dst->rows, src->rows.values[i]);
	for (i = 0; i < src->cols.nvalues; i++)
		col_map[i] = CxValueSetId(&dst->cols, src->cols.values[i]);
	cx_pair_counts_start_iterate(src->cells, &it);
	while ((cell = cx_pair_counts_iterate(src->cells, &it)) != NULL)
	{
		CHECK_FOR_INTERRUPTS();
		if (cell->count > PG_INT64_MAX - dst->n)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("too many observations for one contingency table")));
		AddCell(dst, row_map[cell->key >> 32], col_map[cell->key & PG_UINT32_MAX],
				cell->count);
	}
	pfree(row_map);
	pfree(col_map);
}

/* Combine two partial tables: the source's cells renumbered and added. */
Datum
chisq_table_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	ChisqState *dst;
	ChisqState *src;
	ErrorContextCallback call;

	if (!CxCombineStates(fcinfo, &aggcxt, (void **) &dst, (void **) &src))
	{
		if (dst == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(dst);
	}
	CxEnterAggregate(&call, fcinfo);
	if (dst == NULL)
		dst = ChisqEmptyLike(src, aggcxt, aggcxt);
	MergeTables(dst, src);
	CxLeaveCall(&call);
	PG_RETURN_POINTER(dst);
}

/* Serialise a table (see the top of this file). */
static bytea *
ChisqWrite(void *state)
{
	ChisqState *st = (ChisqState *) state;
	StringInfoData buf;
	cx_pair_counts_iterator it;
	CxPairCount  *cell;
	uint32		i;

	CxStateBegin(&buf, "CXC", CHISQ_STATE_VERSION);
	cx_put_u32(&buf, st->row_ti.collation);
	cx_put_u32(&buf, st->row_ti.type);
	cx_put_u32(&buf, st->col_ti.type);
	cx_put_u32(&buf, st->rows.nvalues);
	for (i = 0; i < st->rows.nvalues; i++)
		CxWriteValue(&buf, &st->row_ti, st->rows.values[i]);
	cx_put_u32(&buf, st->cols.nvalues);
	for (i = 0; i < st->cols.nvalues; i++)
		CxWriteValue(&buf, &st->col_ti, st->cols.values[i]);
	cx_put_u64(&buf, st->cells->members);
	CxStateReserve(&buf, (Size) st->cells->members * 16);
	cx_pair_counts_start_iterate(st->cells, &it);
	while ((cell = cx_pair_counts_iterate(st->cells, &it)) != NULL)
	{
		cx_put_u32(&buf, (uint32) (cell->key >> 32));
		cx_put_u32(&buf, (uint32) (cell->key & PG_UINT32_MAX));
		cx_put_u64(&buf, (uint64) cell->count);
	}
	return CxStateEnd(&buf);
}

Datum
chisq_table_serialize(PG_FUNCTION_ARGS)
{
	PG_RETURN_BYTEA_P(ChisqWrite(PG_GETARG_POINTER(0)));
}

/* Read `n` labels into `set`, each of which must be new. */
static void
ReadLabels(CxReader *r, CxValueSet *set, uint32 n)
{
	StringInfoData scratch;
	uint32		i;

	if (n > (r->len - r->pos) / 4)
		CxReaderFail(r, "The label count exceeds the bytes present");
	initStringInfo(&scratch);
	for (i = 0; i < n; i++)
	{
		CHECK_FOR_INTERRUPTS();
		if (CxValueSetId(set, CxReadValue(r, set->ti, &scratch)) != i)
			CxReaderFail(r, "A label appears twice");
	}
	pfree(scratch.data);
}

/* Read a type OID, insisting that the type exists. */
static Oid
ReadType(CxReader *r)
{
	Oid			type = cx_get_u32(r);

	if (!SearchSysCacheExists1(TYPEOID, ObjectIdGetDatum(type)))
		CxReaderFail(r, "The state names a type that does not exist");
	return type;
}

/*
 * Rebuild a table from its serialised form, rejecting malformed bytes; with
 * `text_or_bool`, labels of other types too (a cxsell.contingency_table).
 */
static ChisqState *
ChisqRead(bytea *bytes, MemoryContext parent, MemoryContext limit, int errcode,
		  bool text_or_bool)
{
	CxReader	r;
	ChisqState *st;
	Oid			collation;
	Oid			row_type;
	Oid			col_type;
	uint64		ncells;
	uint64		k;

	CxStateOpen(&r, bytes, "CXC", CHISQ_STATE_VERSION,
				text_or_bool ? "cxsell.contingency_table" : "cxsell.chi_square state", errcode);
	collation = cx_get_u32(&r);
	row_type = ReadType(&r);
	col_type = ReadType(&r);
	if (text_or_bool &&
		((row_type != TEXTOID && row_type != BOOLOID) ||
		 (col_type != TEXTOID && col_type != BOOLOID)))
		CxReaderFail(&r, "The labels of a contingency table are text or boolean");
	if (text_or_bool &&
		collation != ((row_type == TEXTOID || col_type == TEXTOID) ? C_COLLATION_OID : InvalidOid))
		CxReaderFail(&r, "A contingency table's text labels compare in collation \"C\"");
	if (OidIsValid(collation) &&
		!SearchSysCacheExists1(COLLOID, ObjectIdGetDatum(collation)))
		CxReaderFail(&r, "The state names a collation that does not exist");
	st = ChisqStateCreate(parent, limit, row_type, col_type, collation);
	ReadLabels(&r, &st->rows, cx_get_u32(&r));
	ReadLabels(&r, &st->cols, cx_get_u32(&r));
	ncells = cx_get_u64(&r);
	if (ncells > (r.len - r.pos) / 16)
		CxReaderFail(&r, "The cell count exceeds the bytes present");
	for (k = 0; k < ncells; k++)
	{
		uint32		row = cx_get_u32(&r);
		uint32		col = cx_get_u32(&r);
		int64		count = (int64) cx_get_u64(&r);
		bool		found;
		CxPairCount  *cell;

		CHECK_FOR_INTERRUPTS();
		if (row >= st->rows.nvalues || col >= st->cols.nvalues || count < 1 ||
			count > PG_INT64_MAX - st->n)
			CxReaderFail(&r, "A cell of the state is malformed");
		cell = cx_pair_counts_insert(st->cells, (uint64) row << 32 | col, &found);
		if (found)
			CxReaderFail(&r, "A cell of the state appears twice");
		cell->count = count;
		st->n += count;
	}
	CxReaderEnd(&r);
	return st;
}

static void *
ContingencyRead(bytea *bytes, MemoryContext parent, MemoryContext limit, int errcode)
{
	return ChisqRead(bytes, parent, limit, errcode, true);
}

/*
 * The internal state from its serialised form, in the current (per-call)
 * memory: the combine function copies it.
 */
Datum
chisq_table_deserialize(PG_FUNCTION_ARGS)
{
	PG_RETURN_POINTER(ChisqRead(PG_GETARG_BYTEA_PP(0), CurrentMemoryContext, CurrentMemoryContext,
								ERRCODE_DATA_CORRUPTED, false));
}

/* qsort_arg comparator: label numbers by their values' order. */
static int
CompareLabels(const void *a, const void *b, void *arg)
{
	CxValueSet *set = (CxValueSet *) arg;

	return CxCompareValues(set->ti, set->values[*(const uint32 *) a],
						   set->values[*(const uint32 *) b]);
}

/* The numbers of a dictionary's labels in their type's order. */
static uint32 *
SortedLabels(CxValueSet *set)
{
	uint32	   *order = palloc(Max(set->nvalues, 1) * sizeof(uint32));
	uint32		i;

	for (i = 0; i < set->nvalues; i++)
		order[i] = i;
	qsort_arg(order, set->nvalues, sizeof(uint32), CompareLabels, set);
	return order;
}

/*
 * The test: statistic sum (O - E)^2 / E with E = row total x column total /
 * n over every cell, df = (rows - 1)(columns - 1), and its chi-square
 * p-value (NULL when either label has a single value).
 */
static Datum
TestResult(FunctionCallInfo fcinfo, ChisqState *st)
{
	int64	   *rowsum;
	int64	   *colsum;
	uint32	   *rorder;
	uint32	   *corder;
	cx_pair_counts_iterator it;
	CxPairCount  *cell;
	uint32		nr;
	uint32		nc;
	uint32		r;
	uint32		c;
	double		stat = 0.0;
	int64		df;
	Datum		values[6];
	bool		nulls[6] = {0};
	ErrorContextCallback call;

	if (st == NULL || st->n == 0)
		PG_RETURN_NULL();
	CxEnterAggregate(&call, fcinfo);
	nr = st->rows.nvalues;
	nc = st->cols.nvalues;
	rowsum = palloc0(nr * sizeof(int64));
	colsum = palloc0(nc * sizeof(int64));
	cx_pair_counts_start_iterate(st->cells, &it);
	while ((cell = cx_pair_counts_iterate(st->cells, &it)) != NULL)
	{
		rowsum[cell->key >> 32] += cell->count;
		colsum[cell->key & PG_UINT32_MAX] += cell->count;
	}
	rorder = SortedLabels(&st->rows);
	corder = SortedLabels(&st->cols);
	for (r = 0; r < nr; r++)
	{
		CHECK_FOR_INTERRUPTS();
		for (c = 0; c < nc; c++)
		{
			uint32		ri = rorder[r];
			uint32		ci = corder[c];
			double		e = (double) rowsum[ri] * (double) colsum[ci] / (double) st->n;
			CxPairCount  *o = cx_pair_counts_lookup(st->cells, (uint64) ri << 32 | ci);
			double		d = (double) (o != NULL ? o->count : 0) - e;

			stat += d * d / e;
		}
	}
	df = (int64) (nr - 1) * (int64) (nc - 1);
	values[0] = Float8GetDatum(stat);
	values[1] = Int64GetDatum(df);
	values[2] = Float8GetDatum(df > 0 ? cx_chi2_sf(stat, (double) df) : 0.0);
	nulls[2] = (df == 0);
	values[3] = Int32GetDatum((int32) nr);
	values[4] = Int32GetDatum((int32) nc);
	values[5] = Int64GetDatum(st->n);
	CxLeaveCall(&call);
	PG_RETURN_DATUM(CxResultRow(fcinfo, values, nulls));
}

Datum
chisq_table_final(PG_FUNCTION_ARGS)
{
	return TestResult(fcinfo, PG_ARGISNULL(0) ? NULL : (ChisqState *) PG_GETARG_POINTER(0));
}

/*
 * Transition of the overloads of cxsell.chi_square for text and boolean
 * labels: the label types are the function's declared argument types.
 */
Datum
contingency_trans(PG_FUNCTION_ARGS)
{
	bool		read;
	CxExpandedState *e = CxExpandedOwnArg(fcinfo, 0, &contingency_kind, &read);
	ChisqState *st;
	ErrorContextCallback call;

	CxEnterAggregate(&call, fcinfo);
	if (e == NULL || read)
	{
		Oid		   *argtypes;
		int			nargs;
		Oid			collation = InvalidOid;

		(void) get_func_signature(fcinfo->flinfo->fn_oid, &argtypes, &nargs);
		if (nargs != 3)
			elog(ERROR, "contingency table transition function must take three arguments");
		/* a state from elsewhere (an INITCOND) must hold labels of our types */
		if (read)
		{
			st = (ChisqState *) e->state;
			if (st->row_ti.type != argtypes[1] || st->col_ti.type != argtypes[2])
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("contingency table of %s and %s labels given to a transition of %s and %s labels",
								format_type_be(st->row_ti.type), format_type_be(st->col_ti.type),
								format_type_be(argtypes[1]), format_type_be(argtypes[2]))));
		}
		else
		{
			/*
			 * Text labels compare byte for byte, whatever the call's
			 * collation: Citus's workers call this function without one,
			 * and the table must sum in the same order on one node and on
			 * many.
			 */
			if (type_is_collatable(argtypes[1]) || type_is_collatable(argtypes[2]))
				collation = C_COLLATION_OID;
			e = CxExpandedCreate(CxAggContext(fcinfo), &contingency_kind);
			e->state = ChisqStateCreate(e->hdr.eoh_context, CxAggContext(fcinfo),
										argtypes[1], argtypes[2], collation);
		}
	}
	st = (ChisqState *) e->state;
	if (!PG_ARGISNULL(1) && !PG_ARGISNULL(2))
	{
		if (st->n == PG_INT64_MAX)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("too many observations for one contingency table")));
		AddCell(st, CxValueSetId(&st->rows, PG_GETARG_DATUM(1)),
				CxValueSetId(&st->cols, PG_GETARG_DATUM(2)), 1);
	}
	CxLeaveCall(&call);
	PG_RETURN_DATUM(CxExpandedReturn(e));
}

/* Combine two contingency tables. */
Datum
contingency_combine(PG_FUNCTION_ARGS)
{
	CxExpandedState *e;
	ChisqState *src;
	ErrorContextCallback call;

	if (!CxExpandedCombineArgs(fcinfo, &contingency_kind, &e, (void **) &src))
		return CxExpandedReturnOrNull(fcinfo, e);
	CxEnterAggregate(&call, fcinfo);
	MergeTables((ChisqState *) e->state, src);
	CxLeaveCall(&call);
	PG_RETURN_DATUM(CxExpandedReturn(e));
}

Datum
contingency_final(PG_FUNCTION_ARGS)
{
	return TestResult(fcinfo, (ChisqState *) CxExpandedReadArg(fcinfo, 0, &contingency_kind));
}





/*
 * The support functions of cxsell.chi_square before 0.3, whose state was
 * cxsell.mine's: a database still on 0.2 must update before using it with
 * this library.
 */
Datum
chisq_trans(PG_FUNCTION_ARGS)
{
	CxRequireUpdate("the support functions of cxsell.chi_square");
	PG_RETURN_NULL();
}

Datum
chisq_final(PG_FUNCTION_ARGS)
{
	CxRequireUpdate("the support functions of cxsell.chi_square");
	PG_RETURN_NULL();
}
