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
 * Serialised state, version 1 (big-endian, framing of bytes.h):
 *	"CXC" u8 version=1, u32 collation, u32 row type, u32 column type,
 *	u32 nrows, nrows values, u32 ncols, ncols values,
 *	u64 ncells, ncells x (u32 row, u32 column, u64 count)
 * with values written as in mine_state.c.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "bytes.h"
#include "cxsell.h"
#include "pair_counts.h"
#include "stats.h"
#include "value_io.h"

PG_FUNCTION_INFO_V1(chisq_table_trans);
PG_FUNCTION_INFO_V1(chisq_table_combine);
PG_FUNCTION_INFO_V1(chisq_table_serialize);
PG_FUNCTION_INFO_V1(chisq_table_deserialize);
PG_FUNCTION_INFO_V1(chisq_table_final);
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

static ChisqState *
ChisqStateCreate(MemoryContext parent, Oid row_type, Oid col_type, Oid collation)
{
	MemoryContext cxt = AllocSetContextCreate(parent, "cxsell.chi_square state",
											  ALLOCSET_SMALL_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	ChisqState *st = palloc0(sizeof(ChisqState));

	st->cxt = cxt;
	CxTypeInfoInit(&st->row_ti, row_type, collation, "row label");
	CxTypeInfoInit(&st->col_ti, col_type, collation, "column label");
	CxValueSetInit(&st->rows, &st->row_ti, cxt, parent, CX_WORK_COUNTING);
	CxValueSetInit(&st->cols, &st->col_ti, cxt, parent, CX_WORK_COUNTING);
	st->cells = cx_pair_counts_create(cxt, 16, NULL);
	MemoryContextSwitchTo(old);
	return st;
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
		st = ChisqStateCreate(aggcxt, get_fn_expr_argtype(fcinfo->flinfo, 1),
							  get_fn_expr_argtype(fcinfo->flinfo, 2),
							  PG_GET_COLLATION());
	if (!PG_ARGISNULL(1) && !PG_ARGISNULL(2))
		AddCell(st, CxValueSetId(&st->rows, PG_GETARG_DATUM(1)),
				CxValueSetId(&st->cols, PG_GETARG_DATUM(2)), 1);
	CxLeaveCall(&call);
	PG_RETURN_POINTER(st);
}

/* Combine two partial tables: the source's cells renumbered and added. */
Datum
chisq_table_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	ChisqState *dst;
	ChisqState *src;
	uint32	   *row_map;
	uint32	   *col_map;
	cx_pair_counts_iterator it;
	CxPairCount  *cell;
	uint32		i;
	ErrorContextCallback call;

	if (!CxCombineStates(fcinfo, &aggcxt, (void **) &dst, (void **) &src))
	{
		if (dst == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(dst);
	}
	CxEnterAggregate(&call, fcinfo);
	if (dst == NULL)
		dst = ChisqStateCreate(aggcxt, src->row_ti.type, src->col_ti.type,
							   src->row_ti.collation);
	if (dst->row_ti.type != src->row_ti.type || dst->col_ti.type != src->col_ti.type)
		elog(ERROR, "cannot combine cxsell.chi_square states of different types");
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
		AddCell(dst, row_map[cell->key >> 32], col_map[cell->key & PG_UINT32_MAX],
				cell->count);
	}
	pfree(row_map);
	pfree(col_map);
	CxLeaveCall(&call);
	PG_RETURN_POINTER(dst);
}

/* Serialise a table (see the top of this file). */
Datum
chisq_table_serialize(PG_FUNCTION_ARGS)
{
	ChisqState *st = (ChisqState *) PG_GETARG_POINTER(0);
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
	PG_RETURN_BYTEA_P(CxStateEnd(&buf));
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
 * Rebuild a table from its serialised form, rejecting malformed bytes, in
 * the current (per-call) memory: the combine function copies it.
 */
Datum
chisq_table_deserialize(PG_FUNCTION_ARGS)
{
	bytea	   *bytes = PG_GETARG_BYTEA_PP(0);
	CxReader	r;
	ChisqState *st;
	Oid			collation;
	Oid			row_type;
	Oid			col_type;
	uint64		ncells;
	uint64		k;

	CxStateOpen(&r, bytes, "CXC", CHISQ_STATE_VERSION, "cxsell.chi_square state",
				ERRCODE_DATA_CORRUPTED);
	collation = cx_get_u32(&r);
	row_type = ReadType(&r);
	col_type = ReadType(&r);
	st = ChisqStateCreate(CurrentMemoryContext, row_type, col_type, collation);
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
	PG_RETURN_POINTER(st);
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
Datum
chisq_table_final(PG_FUNCTION_ARGS)
{
	ChisqState *st;
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

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = (ChisqState *) PG_GETARG_POINTER(0);
	if (st->n == 0)
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

/*
 * The support functions of cxsell.chi_square before 0.3, whose state was
 * cxsell.mine's: a database still on 0.2 must update before using it with
 * this library.
 */
static void
OldChiSquare(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("cxsell.chi_square of this database's cxsell version does not match the installed library"),
			 errhint("Run ALTER EXTENSION cxsell UPDATE.")));
}

Datum
chisq_trans(PG_FUNCTION_ARGS)
{
	OldChiSquare();
	PG_RETURN_NULL();
}

Datum
chisq_final(PG_FUNCTION_ARGS)
{
	OldChiSquare();
	PG_RETURN_NULL();
}
