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
 * The state counts responders and non-responders per distinct score: exact,
 * and small when scores repeat.  Its SQL type is cxsell.score_counts (see
 * expanded_state.h), so Citus aggregates it on the workers and ships the
 * counts, not the rows.  Serialised state, version 2 (big-endian):
 * "CXG" u8 version=2, u32 buckets, u64 n, n x (f64 score, varint
 * responders, varint others), scores strictly decreasing, every score
 * counting at least one row.
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
#include "expanded_state.h"

PG_FUNCTION_INFO_V1(score_counts_trans);
PG_FUNCTION_INFO_V1(score_counts_combine);
PG_FUNCTION_INFO_V1(gains_counts_final);
PG_FUNCTION_INFO_V1(auc_counts_final);
PG_FUNCTION_INFO_V1(gains_trans);
PG_FUNCTION_INFO_V1(gains_combine);
PG_FUNCTION_INFO_V1(gains_serialize);
PG_FUNCTION_INFO_V1(gains_deserialize);
PG_FUNCTION_INFO_V1(gains_final);
PG_FUNCTION_INFO_V1(auc_final);

#define GAINS_STATE_VERSION 2

/* The rows of one score: responders (pos) and the others (neg). */
typedef struct ScoreCount
{
	double		score;
	int64		pos;
	int64		neg;
} ScoreCount;

typedef struct GainsState
{
	MemoryContext cxt;
	MemoryContext limitcxt;		/* counts against cxsell.max_memory */
	int32		buckets;
	int64		n;				/* entries in use */
	int64		capacity;
	int64		sorted;			/* groups[0 .. sorted) are distinct, highest first */
	int64		rows;			/* rows counted */
	ScoreCount *groups;
} GainsState;

static bytea *GainsWrite(void *state);
static void *GainsRead(bytea *bytes, MemoryContext parent, MemoryContext limit, int errcode);
static void *GainsEmptyLike(const void *state, MemoryContext parent, MemoryContext limit);

static const CxStateKind score_counts_kind = {
	"cxsell.score_counts", GainsWrite, GainsRead, GainsEmptyLike
};

CX_STATE_TYPE_IO(score_counts, score_counts_kind)

/* A state in a new child context of parent, bounded with all of limit. */
static GainsState *
GainsStateCreate(MemoryContext parent, MemoryContext limit, int32 buckets)
{
	MemoryContext cxt = AllocSetContextCreate(parent, "cxsell.gains state",
											  ALLOCSET_SMALL_SIZES);
	GainsState *st = MemoryContextAllocZero(cxt, sizeof(GainsState));

	st->cxt = cxt;
	st->limitcxt = limit;
	st->buckets = buckets;
	return st;
}

static void *
GainsEmptyLike(const void *state, MemoryContext parent, MemoryContext limit)
{
	return GainsStateCreate(parent, limit, ((const GainsState *) state)->buckets);
}

/* Highest score first. */
static int
CompareScores(const void *a, const void *b)
{
	double		x = ((const ScoreCount *) a)->score;
	double		y = ((const ScoreCount *) b)->score;

	return (x > y) ? -1 : (x < y) ? 1 : 0;
}

/* Sort the entries and merge those of equal scores. */
static void
Compact(GainsState *st)
{
	int64		i;
	int64		out = 0;

	if (st->sorted == st->n)
		return;
	/*
	 * Sort the entries added since the last merge and merge them into the
	 * sorted ones from the back: a few new entries (a growing window frame)
	 * cost one pass, not a sort of all.
	 */
	{
		int64		tail = st->n - st->sorted;
		ScoreCount *add = palloc(tail * sizeof(ScoreCount));
		int64		a = st->sorted - 1;
		int64		b = tail - 1;
		int64		w = st->n - 1;

		memcpy(add, st->groups + st->sorted, tail * sizeof(ScoreCount));
		qsort(add, tail, sizeof(ScoreCount), CompareScores);
		/* highest first: the lowest of the two ends goes last */
		while (b >= 0)
		{
			if (a >= 0 && st->groups[a].score < add[b].score)
				st->groups[w--] = st->groups[a--];
			else
				st->groups[w--] = add[b--];
		}
		pfree(add);
	}
	for (i = 0; i < st->n; i++)
	{
		if (out > 0 && st->groups[out - 1].score == st->groups[i].score)
		{
			st->groups[out - 1].pos += st->groups[i].pos;
			st->groups[out - 1].neg += st->groups[i].neg;
		}
		else
			st->groups[out++] = st->groups[i];
	}
	st->n = st->sorted = out;
}

/*
 * Count `pos` responders and `neg` others at `score`.  Entries are appended
 * and merged when they have doubled since the last merge, so the state holds
 * at most about twice as many entries as distinct scores.
 */
static void
AddScore(GainsState *st, double score, int64 pos, int64 neg)
{
	if (pos > PG_INT64_MAX - st->rows - neg)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many rows for one gains table")));
	st->rows += pos + neg;
	if (st->n > st->sorted && st->groups[st->n - 1].score == score)
	{
		st->groups[st->n - 1].pos += pos;
		st->groups[st->n - 1].neg += neg;
		return;
	}
	if (st->n >= 2 * st->sorted + 4096)
		Compact(st);
	st->groups = CxGrowArray(st->groups, &st->capacity, st->n + 1, sizeof(ScoreCount),
							 st->cxt, st->limitcxt, CX_WORK_COUNTING);
	st->groups[st->n].score = score;
	st->groups[st->n].pos = pos;
	st->groups[st->n].neg = neg;
	st->n++;
}

/* Transition of cxsell.gains(score, responded [, buckets]) and cxsell.auc. */
Datum
score_counts_trans(PG_FUNCTION_ARGS)
{
	bool		read;
	CxExpandedState *e = CxExpandedOwnArg(fcinfo, 0, &score_counts_kind, &read);
	GainsState *st;
	int32		buckets = 10;
	double		score;
	ErrorContextCallback call;

	CxEnterAggregate(&call, fcinfo);
	if (PG_NARGS() > 3)
	{
		CxRequireArg(fcinfo, 3, "buckets", "Use 10 for deciles.");
		buckets = PG_GETARG_INT32(3);
	}
	if (e == NULL)
	{
		if (buckets < 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("buckets %d is out of range", buckets),
					 errhint("Use 1 or more buckets, such as 10 for deciles.")));
		e = CxExpandedCreate(CxAggContext(fcinfo), &score_counts_kind);
		e->state = GainsStateCreate(e->hdr.eoh_context, CxAggContext(fcinfo), buckets);
	}
	st = (GainsState *) e->state;
	CxRequireSameParams(buckets == st->buckets, "buckets", NULL);
	if (!PG_ARGISNULL(1) && !PG_ARGISNULL(2))
	{
		score = PG_GETARG_FLOAT8(1);
		if (isnan(score))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("score must not be NaN"),
					 errhint("Leave out rows without a score, or give them NULL.")));
		if (PG_GETARG_BOOL(2))
			AddScore(st, score, 1, 0);
		else
			AddScore(st, score, 0, 1);
	}
	CxLeaveCall(&call);
	PG_RETURN_DATUM(CxExpandedReturn(e));
}

/* Combine two partial states: the counts of both. */
Datum
score_counts_combine(PG_FUNCTION_ARGS)
{
	CxExpandedState *e;
	GainsState *src;
	GainsState *dst;
	int64		i;
	ErrorContextCallback call;

	if (!CxExpandedCombineArgs(fcinfo, &score_counts_kind, &e, (void **) &src))
		return CxExpandedReturnOrNull(fcinfo, e);
	CxEnterAggregate(&call, fcinfo);
	dst = (GainsState *) e->state;
	CxRequireSameParams(dst->buckets == src->buckets, "buckets", NULL);
	for (i = 0; i < src->n; i++)
	{
		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		AddScore(dst, src->groups[i].score, src->groups[i].pos, src->groups[i].neg);
	}
	CxLeaveCall(&call);
	PG_RETURN_DATUM(CxExpandedReturn(e));
}

/* Serialise a state (see the top of this file). */
static bytea *
GainsWrite(void *state)
{
	GainsState *st = (GainsState *) state;
	StringInfoData buf;
	int64		i;

	Compact(st);
	CxStateBegin(&buf, "CXG", GAINS_STATE_VERSION);
	cx_put_u32(&buf, (uint32) st->buckets);
	cx_put_u64(&buf, (uint64) st->n);
	CxStateReserve(&buf, (Size) st->n * 10);
	for (i = 0; i < st->n; i++)
	{
		cx_put_f64(&buf, st->groups[i].score);
		cx_put_varint(&buf, (uint64) st->groups[i].pos);
		cx_put_varint(&buf, (uint64) st->groups[i].neg);
	}
	return CxStateEnd(&buf);
}

/* Rebuild a state from its serialised form, rejecting malformed bytes. */
static void *
GainsRead(bytea *bytes, MemoryContext parent, MemoryContext limit, int errcode)
{
	CxReader	r;
	GainsState *st;
	int32		buckets;
	uint64		n;
	uint64		i;

	CxStateOpen(&r, bytes, "CXG", GAINS_STATE_VERSION, "cxsell.score_counts", errcode);
	buckets = (int32) cx_get_u32(&r);
	n = cx_get_u64(&r);
	if (buckets < 1 || n > (r.len - r.pos) / 10)
		CxReaderFail(&r, "The state's parameters are out of range");
	st = GainsStateCreate(parent, limit, buckets);
	st->groups = CxGrowArray(NULL, &st->capacity, Max((int64) n, 1), sizeof(ScoreCount),
							 st->cxt, st->limitcxt, CX_WORK_COUNTING);
	for (i = 0; i < n; i++)
	{
		ScoreCount *g = &st->groups[i];
		uint64		pos;
		uint64		neg;

		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		g->score = cx_get_f64(&r);
		pos = cx_get_varint(&r);
		neg = cx_get_varint(&r);
		if (isnan(g->score))
			CxReaderFail(&r, "A score is NaN");
		if (i > 0 && !(g->score < st->groups[i - 1].score))
			CxReaderFail(&r, "The scores are not distinct and in decreasing order");
		if (pos + neg == 0 || pos > (uint64) (PG_INT64_MAX - st->rows) ||
			neg > (uint64) (PG_INT64_MAX - st->rows) - pos)
			CxReaderFail(&r, "A score's counts are out of range");
		g->pos = (int64) pos;
		g->neg = (int64) neg;
		st->rows += g->pos + g->neg;
	}
	st->n = st->sorted = (int64) n;
	CxReaderEnd(&r);
	return st;
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
gains_counts_final(PG_FUNCTION_ARGS)
{
	GainsState *st = (GainsState *) CxExpandedReadArg(fcinfo, 0, &score_counts_kind);
	Oid			rowtype;
	TupleDesc	tupdesc;
	int64		total_resp = 0;
	int64		cum_n = 0;
	int64		cum_resp = 0;
	Datum	   *out;
	int32		nout = 0;
	int64		g = 0;
	int64		i;
	int64		start;
	int64		b;
	double		overall;
	ErrorContextCallback call;

	if (st == NULL || st->rows == 0)
		PG_RETURN_NULL();
	CxEnterAggregate(&call, fcinfo);
	tupdesc = CxRowArrayDesc(fcinfo, &rowtype);
	Compact(st);
	for (i = 0; i < st->n; i++)
		total_resp += st->groups[i].pos;
	overall = (double) total_resp / (double) st->rows;
	/* a bucket holds at least one score: no more buckets than scores */
	out = palloc(Min(st->buckets, st->n) * sizeof(Datum));

	start = 0;					/* the rank of the first row of score group g */
	for (b = 1; b <= st->buckets && g < st->n; b++)
	{
		int64		end;
		int64		n = 0;
		int64		resp = 0;
		Datum		values[8];
		bool		nulls[8] = {0};

		CHECK_FOR_INTERRUPTS();
		/* buckets emptied by an earlier tie group are absent: skip them */
		b = Max(b, (int64) FirstBucketPast(st->rows, st->buckets, start));
		/* the bucket takes every score group that starts before its nominal end */
		end = BucketEnd(st->rows, st->buckets, (int32) b);
		for (; g < st->n && start < end; g++)
		{
			n += st->groups[g].pos + st->groups[g].neg;
			resp += st->groups[g].pos;
			start += st->groups[g].pos + st->groups[g].neg;
		}
		cum_n += n;
		cum_resp += resp;
		values[0] = Int32GetDatum((int32) b);
		values[1] = Int64GetDatum(n);
		values[2] = Int64GetDatum(resp);
		values[3] = Float8GetDatum((double) resp / (double) n);
		values[4] = Float8GetDatum(100.0 * (double) cum_n / (double) st->rows);
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
auc_counts_final(PG_FUNCTION_ARGS)
{
	GainsState *st = (GainsState *) CxExpandedReadArg(fcinfo, 0, &score_counts_kind);
	double		pos = 0.0;
	double		neg = 0.0;
	double		wins = 0.0;
	double		neg_below;
	int64		i;
	ErrorContextCallback call;

	if (st == NULL || st->rows == 0)
		PG_RETURN_NULL();
	CxEnterAggregate(&call, fcinfo);
	Compact(st);
	for (i = 0; i < st->n; i++)
	{
		pos += (double) st->groups[i].pos;
		neg += (double) st->groups[i].neg;
	}
	CxLeaveCall(&call);
	if (pos == 0.0 || neg == 0.0)
		PG_RETURN_NULL();

	/* walk the scores from the highest; count the non-responders below each */
	neg_below = neg;
	for (i = 0; i < st->n; i++)
	{
		double		p = (double) st->groups[i].pos;
		double		q = (double) st->groups[i].neg;

		neg_below -= q;
		wins += p * (neg_below + 0.5 * q);
		if (((i + 1) & 65535) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	PG_RETURN_FLOAT8(wins / (pos * neg));
}

/*
 * The support functions of cxsell.gains and cxsell.auc before 0.3, whose
 * state held every row: a database still on an older version must update
 * before using them with this library.
 */
Datum
gains_trans(PG_FUNCTION_ARGS)
{
	CxRequireUpdate("cxsell.gains and cxsell.auc");
	PG_RETURN_NULL();
}

Datum
gains_combine(PG_FUNCTION_ARGS)
{
	CxRequireUpdate("cxsell.gains and cxsell.auc");
	PG_RETURN_NULL();
}

Datum
gains_serialize(PG_FUNCTION_ARGS)
{
	CxRequireUpdate("cxsell.gains and cxsell.auc");
	PG_RETURN_NULL();
}

Datum
gains_deserialize(PG_FUNCTION_ARGS)
{
	CxRequireUpdate("cxsell.gains and cxsell.auc");
	PG_RETURN_NULL();
}

Datum
gains_final(PG_FUNCTION_ARGS)
{
	CxRequireUpdate("cxsell.gains and cxsell.auc");
	PG_RETURN_NULL();
}

Datum
auc_final(PG_FUNCTION_ARGS)
{
	CxRequireUpdate("cxsell.gains and cxsell.auc");
	PG_RETURN_NULL();
}
