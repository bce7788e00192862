/*
 * gains.c
 *		Gains / lift tables and AUC of a targeting score: the aggregates
 *		cxsell.gains(score, responded [, buckets]) and
 *		cxsell.auc(score, responded).
 *
 * Customers are ranked by score, highest first, and cut into `buckets`
 * groups of (nearly) equal size.  Customers with equal scores are never
 * split: a tie group belongs to the bucket in which its first member falls,
 * so results do not depend on row order (bucket sizes may then differ).
 * Rows with a NULL score or outcome are skipped.
 *
 * Serialised state, version 1 (big-endian): "CXG" u8 version=1,
 * u32 buckets, u64 n, n x (f64 score, u8 responded).
 */
#include "postgres.h"

#include <math.h>

#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"

#include "bytes.h"
#include "cxsell.h"

PG_FUNCTION_INFO_V1(gains_trans);
PG_FUNCTION_INFO_V1(gains_combine);
PG_FUNCTION_INFO_V1(gains_serialize);
PG_FUNCTION_INFO_V1(gains_deserialize);
PG_FUNCTION_INFO_V1(gains_final);
PG_FUNCTION_INFO_V1(auc_final);

#define GAINS_STATE_VERSION 1

typedef struct Scored
{
	double		score;
	bool		responded;
} Scored;

typedef struct GainsState
{
	MemoryContext cxt;
	MemoryContext limitcxt;		/* counts against cxsell.max_memory */
	int32		buckets;
	int64		n;
	int64		capacity;
	Scored	   *rows;
} GainsState;

static GainsState *
GainsStateCreate(MemoryContext parent, int32 buckets)
{
	MemoryContext cxt = AllocSetContextCreate(parent, "cxsell.gains state",
											  ALLOCSET_SMALL_SIZES);
	GainsState *st = MemoryContextAllocZero(cxt, sizeof(GainsState));

	st->cxt = cxt;
	st->limitcxt = parent;
	st->buckets = buckets;
	return st;
}

static void
AddRows(GainsState *st, const Scored *rows, int64 m)
{
	st->rows = CxGrowArray(st->rows, &st->capacity, st->n + m, sizeof(Scored),
						   st->cxt, st->limitcxt, CX_WORK_COUNTING);
	memcpy(st->rows + st->n, rows, m * sizeof(Scored));
	st->n += m;
}

/* Transition of cxsell.gains(score, responded [, buckets]) and cxsell.auc. */
Datum
gains_trans(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt = CxAggContext(fcinfo);
	GainsState *st = PG_ARGISNULL(0) ? NULL : (GainsState *) PG_GETARG_POINTER(0);
	int32		buckets = 10;
	Scored		row;
	ErrorContextCallback call;

	CxEnterAggregate(&call, fcinfo);
	if (PG_NARGS() > 3)
	{
		CxRequireArg(fcinfo, 3, "buckets", "Use 10 for deciles.");
		buckets = PG_GETARG_INT32(3);
	}
	if (st == NULL)
	{
		if (buckets < 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("buckets %d is out of range", buckets),
					 errhint("Use 1 or more buckets, such as 10 for deciles.")));
		st = GainsStateCreate(aggcxt, buckets);
	}
	else
		CxRequireSameParams(buckets == st->buckets, "buckets", NULL);
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		CxLeaveCall(&call);
		PG_RETURN_POINTER(st);
	}
	row.score = PG_GETARG_FLOAT8(1);
	if (isnan(row.score))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("score must not be NaN"),
				 errhint("Leave out rows without a score, or give them NULL.")));
	row.responded = PG_GETARG_BOOL(2);
	AddRows(st, &row, 1);
	CxLeaveCall(&call);
	PG_RETURN_POINTER(st);
}

/* Combine two partial states: the rows of both. */
Datum
gains_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	GainsState *dst;
	GainsState *src;

	if (!CxCombineStates(fcinfo, &aggcxt, (void **) &dst, (void **) &src))
	{
		if (dst == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(dst);
	}
	/* the source may live in per-call memory: its rows are copied */
	if (dst == NULL)
		dst = GainsStateCreate(aggcxt, src->buckets);
	CxRequireSameParams(dst->buckets == src->buckets, "buckets", NULL);
	if (src->n > 0)
		AddRows(dst, src->rows, src->n);
	PG_RETURN_POINTER(dst);
}

/* Serialise a state (see the top of this file). */
Datum
gains_serialize(PG_FUNCTION_ARGS)
{
	GainsState *st = (GainsState *) PG_GETARG_POINTER(0);
	StringInfoData buf;
	int64		i;

	CxStateBegin(&buf, "CXG", GAINS_STATE_VERSION);
	cx_put_u32(&buf, (uint32) st->buckets);
	cx_put_u64(&buf, (uint64) st->n);
	CxStateReserve(&buf, (Size) st->n * 9);
	for (i = 0; i < st->n; i++)
	{
		cx_put_f64(&buf, st->rows[i].score);
		appendStringInfoChar(&buf, st->rows[i].responded ? 1 : 0);
	}
	PG_RETURN_BYTEA_P(CxStateEnd(&buf));
}

/*
 * Rebuild a state from its serialised form, rejecting malformed bytes, in
 * the current (per-call) memory: the combine function copies it.
 */
Datum
gains_deserialize(PG_FUNCTION_ARGS)
{
	bytea	   *bytes = PG_GETARG_BYTEA_PP(0);
	CxReader	r;
	GainsState *st;
	int32		buckets;
	uint64		n;
	uint64		i;

	CxStateOpen(&r, bytes, "CXG", GAINS_STATE_VERSION, "cxsell.gains state",
				ERRCODE_DATA_CORRUPTED);
	buckets = (int32) cx_get_u32(&r);
	n = cx_get_u64(&r);
	if (buckets < 1 || n > (r.len - r.pos) / 9)
		CxReaderFail(&r, "The state's parameters are out of range");
	st = GainsStateCreate(CurrentMemoryContext, buckets);
	for (i = 0; i < n; i++)
	{
		Scored		row;
		uint8		flag;

		if ((i & 0xFFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		row.score = cx_get_f64(&r);
		flag = cx_get_u8(&r);
		if (flag > 1 || isnan(row.score))
			CxReaderFail(&r, "A row of the state is malformed");
		row.responded = (flag == 1);
		AddRows(st, &row, 1);
	}
	CxReaderEnd(&r);
	PG_RETURN_POINTER(st);
}

/* Highest score first; responders first among equal scores (any fixed order). */
static int
CompareScored(const void *a, const void *b)
{
	const Scored *x = (const Scored *) a;
	const Scored *y = (const Scored *) b;

	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	return (int) y->responded - (int) x->responded;
}

/* The state's rows sorted by score, highest first (a copy). */
static Scored *
SortedRows(GainsState *st)
{
	Scored	   *rows;

	CxCheckMemory(st->limitcxt, (Size) st->n * sizeof(Scored), CX_WORK_COUNTING);
	rows = MemoryContextAllocHuge(CurrentMemoryContext, Max(st->n, 1) * sizeof(Scored));
	memcpy(rows, st->rows, st->n * sizeof(Scored));
	qsort(rows, st->n, sizeof(Scored), CompareScored);
	return rows;
}

/* The nominal end of bucket b of `buckets` over n rows: floor(n b / buckets). */
static int64
BucketEnd(int64 n, int32 buckets, int32 b)
{
	/* (n % buckets) * b < 2^62: no overflow */
	return (n / buckets) * b + ((n % buckets) * b) / buckets;
}

/* The first bucket whose nominal end lies past row `start`. */
static int32
FirstBucketPast(int64 n, int32 buckets, int64 start)
{
	int32		lo = 1;
	int32		hi = buckets;

	/* BucketEnd is nondecreasing in b and BucketEnd(buckets) = n > start */
	while (lo < hi)
	{
		int32		mid = lo + (hi - lo) / 2;

		if (BucketEnd(n, buckets, mid) > start)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/*
 * The gains table: one cxsell.gains_bucket row per non-empty bucket.
 */
Datum
gains_final(PG_FUNCTION_ARGS)
{
	GainsState *st;
	Oid			rowtype;
	TupleDesc	tupdesc;
	Scored	   *rows;
	int64		total_resp = 0;
	int64		cum_n = 0;
	int64		cum_resp = 0;
	Datum	   *out;
	int32		nout = 0;
	int64		i;
	int64		start;
	int64		b;
	double		overall;
	ErrorContextCallback call;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = (GainsState *) PG_GETARG_POINTER(0);
	if (st->n == 0)
		PG_RETURN_NULL();
	CxEnterAggregate(&call, fcinfo);
	tupdesc = CxRowArrayDesc(fcinfo, &rowtype);

	rows = SortedRows(st);
	for (i = 0; i < st->n; i++)
		total_resp += rows[i].responded ? 1 : 0;
	overall = (double) total_resp / (double) st->n;
	/* a bucket holds at least one row: no more buckets than rows */
	out = palloc(Min(st->buckets, st->n) * sizeof(Datum));

	start = 0;
	for (b = 1; b <= st->buckets && start < st->n; b++)
	{
		int64		end;
		int64		n = 0;
		int64		resp = 0;
		Datum		values[8];
		bool		nulls[8] = {0};

		CHECK_FOR_INTERRUPTS();
		/* buckets emptied by an earlier tie group are absent: skip them */
		b = Max(b, (int64) FirstBucketPast(st->n, st->buckets, start));
		/* nominal end of bucket b, moved past the rest of a tie group */
		end = BucketEnd(st->n, st->buckets, (int32) b);
		while (end < st->n && rows[end].score == rows[end - 1].score)
			end++;
		for (i = start; i < end; i++)
		{
			n++;
			resp += rows[i].responded ? 1 : 0;
		}
		start = end;
		cum_n += n;
		cum_resp += resp;
		values[0] = Int32GetDatum((int32) b);
		values[1] = Int64GetDatum(n);
		values[2] = Int64GetDatum(resp);
		values[3] = Float8GetDatum((double) resp / (double) n);
		values[4] = Float8GetDatum(100.0 * (double) cum_n / (double) st->n);
		values[5] = Float8GetDatum(total_resp > 0 ? 100.0 * (double) cum_resp / (double) total_resp : 0.0);
		nulls[5] = (total_resp == 0);
		values[6] = Float8GetDatum(((double) resp / (double) n) / overall);
		nulls[6] = (total_resp == 0);
		values[7] = Float8GetDatum(((double) cum_resp / (double) cum_n) / overall);
		nulls[7] = (total_resp == 0);
		out[nout++] = HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls));
	}
	CxLeaveCall(&call);
	PG_RETURN_DATUM(CxRowArray(out, nout, rowtype));
}

/*
 * Area under the ROC curve: the probability that a random responder scores
 * higher than a random non-responder, ties counting one half
 * (Mann-Whitney).  NULL when either class is empty.
 */
Datum
auc_final(PG_FUNCTION_ARGS)
{
	GainsState *st;
	Scored	   *rows;
	double		pos = 0.0;
	double		neg = 0.0;
	double		wins = 0.0;
	double		neg_below;
	int64		i;
	int64		j;
	ErrorContextCallback call;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = (GainsState *) PG_GETARG_POINTER(0);
	if (st->n == 0)
		PG_RETURN_NULL();
	CxEnterAggregate(&call, fcinfo);
	rows = SortedRows(st);
	for (i = 0; i < st->n; i++)
	{
		if (rows[i].responded)
			pos += 1.0;
		else
			neg += 1.0;
	}
	CxLeaveCall(&call);
	if (pos == 0.0 || neg == 0.0)
		PG_RETURN_NULL();

	/* walk tie groups from the highest score; count negatives below each */
	neg_below = neg;
	for (i = 0; i < st->n; i = j)
	{
		double		p = 0.0;
		double		q = 0.0;

		for (j = i; j < st->n && rows[j].score == rows[i].score; j++)
		{
			if (rows[j].responded)
				p += 1.0;
			else
				q += 1.0;
		}
		neg_below -= q;
		wins += p * (neg_below + 0.5 * q);
		if (((i + 1) & 65535) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	PG_RETURN_FLOAT8(wins / (pos * neg));
}
