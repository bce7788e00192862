/*
 * kmeans_dist.c
 *		The steps of cxsell.kmeans_distributed: k-means over a table Citus
 *		distributes, where every pass over the rows is an aggregate the
 *		workers compute and the coordinator only combines small vectors.
 *
 * Passes over the rows (each a pushed-down aggregate or filter):
 *	cxsell._km_moments(features)	count, means and squared deviations per
 *									feature (Welford; combined by Chan's rule)
 *	cxsell._km_cost / _km_pick		k-means|| seeding (Bahmani et al. 2012):
 *									the cost of the centres so far, and each
 *									point kept with probability
 *									min(1, factor x its cost)
 *	cxsell._km_step(features, centres, space, k)
 *									per centre: the sum of the points nearest
 *									to it, their count and their squared
 *									distances (k x (d + 2) numbers per set)
 * and on the coordinator, over those vectors only: _km_space (the
 * standardisation), _km_recluster (weighted k-means++ and Lloyd over the
 * sampled candidates, once per restart), _km_next and _km_converged (a Lloyd
 * update of every restart at once) and _km_model (the best restart as a
 * cxsell.kmodel).
 *
 * Centres travel in the space clustered: features minus `mean`, divided by
 * `scale` (0 and 1 unless standardised); `space` is the float8[] of the d
 * means followed by the d scales.  The aggregates' states are plain float8[]
 * that Citus ships between nodes; every one read is checked for its layout.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/itemptr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "cxsell.h"
#include "kmeans.h"
#include "kmodel.h"

PG_FUNCTION_INFO_V1(km_params);
PG_FUNCTION_INFO_V1(km_moments_trans);
PG_FUNCTION_INFO_V1(km_moments_combine);
PG_FUNCTION_INFO_V1(km_step_trans);
PG_FUNCTION_INFO_V1(km_add);
PG_FUNCTION_INFO_V1(km_space);
PG_FUNCTION_INFO_V1(km_tolerance);
PG_FUNCTION_INFO_V1(km_standardize);
PG_FUNCTION_INFO_V1(km_uniform);
PG_FUNCTION_INFO_V1(km_cost);
PG_FUNCTION_INFO_V1(km_pick);
PG_FUNCTION_INFO_V1(km_recluster);
PG_FUNCTION_INFO_V1(km_next);
PG_FUNCTION_INFO_V1(km_converged);
PG_FUNCTION_INFO_V1(km_model);

#define LLOYD_CANDIDATE_ITERATIONS 100

/* A float8[] of n zeros. */
static ArrayType *
ZeroVector(int64 n)
{
	Size		size = ARR_OVERHEAD_NONULLS(1) + (Size) n * sizeof(double);
	ArrayType  *a;

	if (n < 1 || n > (int64) (MaxAllocSize / sizeof(double)) - 64)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("k-means state of " INT64_FORMAT " numbers is too large", n)));
	a = (ArrayType *) palloc0(size);
	SET_VARSIZE(a, size);
	a->ndim = 1;
	a->dataoffset = 0;
	a->elemtype = FLOAT8OID;
	ARR_DIMS(a)[0] = (int) n;
	ARR_LBOUND(a)[0] = 1;
	return a;
}

/*
 * The numbers of a float8[] argument (any number of dimensions, no NULL);
 * *n receives their count.
 */
static double *
Numbers(FunctionCallInfo fcinfo, int argno, const char *what, int64 *n)
{
	ArrayType  *a = PG_GETARG_ARRAYTYPE_P(argno);

	if (ARR_ELEMTYPE(a) != FLOAT8OID || ARR_HASNULL(a))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a float8[] without NULL elements", what)));
	*n = ArrayGetNItems(ARR_NDIM(a), ARR_DIMS(a));
	return (double *) ARR_DATA_PTR(a);
}

/* Numbers of argument argno, which must count exactly n. */
static double *
NumbersOf(FunctionCallInfo fcinfo, int argno, const char *what, int64 n)
{
	int64		have;
	double	   *v = Numbers(fcinfo, argno, what, &have);

	if (have != n)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s has " INT64_FORMAT " numbers, expected " INT64_FORMAT, what, have, n)));
	return v;
}

/* The standardisation `space` argument: 2d numbers, scales positive. */
static const double *
Space(FunctionCallInfo fcinfo, int argno, int32 *d)
{
	int64		n;
	const double *s = Numbers(fcinfo, argno, "space", &n);
	int64		j;

	if (n < 2 || n % 2 != 0 || n / 2 > PG_INT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("space must hold a mean and a scale per feature")));
	*d = (int32) (n / 2);
	for (j = 0; j < *d; j++)
		if (!isfinite(s[j]) || !(s[*d + j] > 0.0) || !isfinite(s[*d + j]))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("space must hold finite means and positive scales")));
	return s;
}

/* A row's features in the space clustered, into z (d numbers). */
static void
ReadPoint(FunctionCallInfo fcinfo, int argno, const double *space, int32 d, double *z)
{
	int32		have;
	const double *x = CxReadFeatures(PG_GETARG_ARRAYTYPE_P(argno), d, &have);
	int32		j;

	for (j = 0; j < d; j++)
		z[j] = (x[j] - space[j]) / space[d + j];
}

/* The centres argument: a multiple of d numbers, at least one centre. */
static const double *
Centres(FunctionCallInfo fcinfo, int argno, int32 d, int64 *count)
{
	int64		n;
	const double *c = Numbers(fcinfo, argno, "centres", &n);

	if (n == 0 || n % d != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("centres must hold a multiple of %d numbers", d)));
	*count = n / d;
	return c;
}

/* The nearest of `count` centres to z, and its squared distance. */
static int64
Nearest(const double *z, const double *centres, int64 count, int32 d, double *best)
{
	int64		c;
	int64		arg = 0;

	*best = get_float8_infinity();
	for (c = 0; c < count; c++)
	{
		double		s = CxSquaredDistance(z, centres + c * d, d);

		if (s < *best)
		{
			*best = s;
			arg = c;
		}
	}
	return arg;
}

/*
 * cxsell._km_params(k, options): k and the options checked as cxsell.kmeans
 * checks them, and the options' values.
 */
Datum
km_params(PG_FUNCTION_ARGS)
{
	CxKmeansParams p;
	TupleDesc	tupdesc;
	Datum		values[5];
	bool		nulls[5] = {0};

	CxRequireArg(fcinfo, 0, "k", "k is the number of clusters: use 1 or more.");
	CxKmeansCheckK(PG_GETARG_INT32(0));
	CxKmeansParseOptions(PG_ARGISNULL(1) ? NULL : PG_GETARG_JSONB_P(1), &p);
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	values[0] = Int64GetDatum(p.seed);
	values[1] = Int32GetDatum(p.restarts);
	values[2] = Int32GetDatum(p.max_iter);
	values[3] = Float8GetDatum(p.tol);
	values[4] = BoolGetDatum(p.standardize);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}

/*
 * The state of an aggregate whose state is a float8[] of `n` numbers
 * changed in place: the argument itself (the aggregate owns it), or zeros
 * in the aggregate's memory.
 */
static double *
OwnState(FunctionCallInfo fcinfo, int64 n, ArrayType **state)
{
	MemoryContext aggcxt = CxAggContext(fcinfo);

	if (PG_ARGISNULL(0))
	{
		MemoryContext old = MemoryContextSwitchTo(aggcxt);

		*state = ZeroVector(n);
		MemoryContextSwitchTo(old);
	}
	else
	{
		*state = PG_GETARG_ARRAYTYPE_P(0);
		(void) NumbersOf(fcinfo, 0, "k-means state", n);
	}
	return (double *) ARR_DATA_PTR(*state);
}

/* A transition or combine function's state when its argument 1 is NULL. */
static Datum
StateUnchanged(FunctionCallInfo fcinfo)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	PG_RETURN_DATUM(PG_GETARG_DATUM(0));
}

/*
 * Transition of cxsell._km_moments(features): [n, mean_1..d, m2_1..d], one
 * point added by Welford's update.
 */
Datum
km_moments_trans(PG_FUNCTION_ARGS)
{
	ArrayType  *state;
	double	   *s;
	const double *x;
	int32		d;
	int64		have = 0;
	int32		j;

	if (PG_ARGISNULL(1))
		return StateUnchanged(fcinfo);
	if (!PG_ARGISNULL(0))
	{
		(void) Numbers(fcinfo, 0, "k-means state", &have);
		if (have < 3 || have % 2 != 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("malformed k-means moments state")));
	}
	/* the first row sets the number of features (have = 0: any) */
	x = CxReadFeatures(PG_GETARG_ARRAYTYPE_P(1), (int32) (have / 2), &d);
	s = OwnState(fcinfo, 1 + 2 * (int64) d, &state);
	s[0] += 1.0;
	for (j = 0; j < d; j++)
	{
		double		delta = x[j] - s[1 + j];

		s[1 + j] += delta / s[0];
		s[1 + d + j] += delta * (x[j] - s[1 + j]);
	}
	PG_RETURN_POINTER(state);
}

/* Combine two moment states (Chan, Golub and LeVeque). */
Datum
km_moments_combine(PG_FUNCTION_ARGS)
{
	ArrayType  *state;
	double	   *a;
	const double *b;
	int64		n;
	int32		d;
	int32		j;
	double		na;
	double		nb;

	if (PG_ARGISNULL(1))
		return StateUnchanged(fcinfo);
	b = Numbers(fcinfo, 1, "k-means state", &n);
	if (n < 3 || n % 2 != 1 || !(b[0] >= 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("malformed k-means moments state")));
	d = (int32) ((n - 1) / 2);
	a = OwnState(fcinfo, n, &state);
	na = a[0];
	nb = b[0];
	for (j = 0; j < d; j++)
	{
		double		delta = b[1 + j] - a[1 + j];

		a[1 + j] += delta * nb / (na + nb);
		a[1 + d + j] += b[1 + d + j] + delta * delta * na * nb / (na + nb);
	}
	a[0] = na + nb;
	PG_RETURN_POINTER(state);
}

/*
 * Transition of cxsell._km_step(features, centres, space, k): the centres
 * are sets of k (one per restart); per centre, the sum of the points
 * nearest to it within its set, their count and their squared distances.
 */
Datum
km_step_trans(PG_FUNCTION_ARGS)
{
	ArrayType  *state;
	double	   *s;
	const double *space;
	const double *centres;
	int64		count;
	int64		sets;
	int32		d;
	int32		k;
	double	   *z;
	int64		r;

	if (PG_ARGISNULL(1))
		return StateUnchanged(fcinfo);
	CxRequireArg(fcinfo, 2, "centres", NULL);
	CxRequireArg(fcinfo, 3, "space", NULL);
	CxRequireArg(fcinfo, 4, "k", NULL);
	space = Space(fcinfo, 3, &d);
	centres = Centres(fcinfo, 2, d, &count);
	k = PG_GETARG_INT32(4);
	if (k < 1 || count % k != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("centres must hold sets of k centres")));
	sets = count / k;
	s = OwnState(fcinfo, count * (d + 2), &state);
	z = palloc(d * sizeof(double));
	ReadPoint(fcinfo, 1, space, d, z);
	for (r = 0; r < sets; r++)
	{
		double		best;
		int64		c = r * k + Nearest(z, centres + r * k * d, k, d, &best);
		double	   *acc = s + c * (d + 2);
		int32		j;

		for (j = 0; j < d; j++)
			acc[j] += z[j];
		acc[d] += 1.0;
		acc[d + 1] += best;
	}
	pfree(z);
	PG_RETURN_POINTER(state);
}

/* Combine two step states: their sum. */
Datum
km_add(PG_FUNCTION_ARGS)
{
	ArrayType  *state;
	double	   *a;
	const double *b;
	int64		n;
	int64		i;

	if (PG_ARGISNULL(1))
		return StateUnchanged(fcinfo);
	b = Numbers(fcinfo, 1, "k-means state", &n);
	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("malformed k-means step state")));
	a = OwnState(fcinfo, n, &state);
	for (i = 0; i < n; i++)
		a[i] += b[i];
	PG_RETURN_POINTER(state);
}

/* The moments state argument: n >= 1 points of d features. */
static const double *
Moments(FunctionCallInfo fcinfo, int argno, int32 *d)
{
	int64		n;
	const double *m = Numbers(fcinfo, argno, "moments", &n);

	if (n < 3 || n % 2 != 1 || !(m[0] >= 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("malformed k-means moments")));
	*d = (int32) ((n - 1) / 2);
	return m;
}

/*
 * cxsell._km_space(moments, standardize): the means and scales of the
 * space clustered (population standard deviations; 1 for a constant
 * feature), or zeros and ones.
 */
Datum
km_space(PG_FUNCTION_ARGS)
{
	int32		d;
	const double *m = Moments(fcinfo, 0, &d);
	bool		standardize = PG_GETARG_BOOL(1);
	double	   *out = palloc(2 * (Size) d * sizeof(double));
	int32		j;

	for (j = 0; j < d; j++)
	{
		double		var = Max(m[1 + d + j], 0.0) / m[0];

		out[j] = standardize ? m[1 + j] : 0.0;
		out[d + j] = (standardize && var > 0.0) ? sqrt(var) : 1.0;
	}
	PG_RETURN_DATUM(CxFloat8Array(out, 2 * d));
}

/*
 * cxsell._km_tolerance(moments, space, tol): the absolute tolerance of a
 * Lloyd update, tol times the mean variance of the features in the space
 * clustered, as cxsell.kmeans uses.
 */
Datum
km_tolerance(PG_FUNCTION_ARGS)
{
	int32		d;
	int32		d2;
	const double *m = Moments(fcinfo, 0, &d);
	const double *space = Space(fcinfo, 1, &d2);
	double		sum = 0.0;
	int32		j;

	if (d2 != d)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("moments and space differ in their features")));
	for (j = 0; j < d; j++)
		sum += Max(m[1 + d + j], 0.0) / m[0] / (space[d + j] * space[d + j]);
	PG_RETURN_FLOAT8(PG_GETARG_FLOAT8(2) * sum / (double) d);
}

/* cxsell._km_standardize(points, space): points (any shape) in the space. */
Datum
km_standardize(PG_FUNCTION_ARGS)
{
	int32		d;
	const double *space = Space(fcinfo, 1, &d);
	int64		n;
	const double *x = Numbers(fcinfo, 0, "points", &n);
	double	   *out;
	int64		i;

	if (n % d != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("points must hold a multiple of %d numbers", d)));
	out = palloc(Max(n, 1) * sizeof(double));
	for (i = 0; i < n; i++)
		out[i] = (x[i] - space[i % d]) / space[d + i % d];
	PG_RETURN_DATUM(CxFloat8Array(out, (int32) n));
}

/*
 * A uniform number in [0, 1) drawn from a row: its values, its place in its
 * shard (so that equal points on different rows draw apart), a seed and a
 * round.
 */
static double
Uniform(ArrayType *features, ItemPointer tid, int64 seed, int32 round)
{
	uint64		h;
	uint64		place = ((uint64) ItemPointerGetBlockNumberNoCheck(tid) << 16) |
		ItemPointerGetOffsetNumberNoCheck(tid);

	h = hash_bytes_extended((const unsigned char *) ARR_DATA_PTR(features),
							(int) (ARR_SIZE(features) - ARR_DATA_OFFSET(features)),
							(uint64) seed * UINT64CONST(0x9E3779B97F4A7C15) +
							(uint64) round * UINT64CONST(0xC2B2AE3D27D4EB4F) + place);
	/* splitmix64's finaliser spreads the hash's bits */
	h = CxMix64(h);
	return (double) (h >> 11) * (1.0 / 9007199254740992.0);
}

/* cxsell._km_uniform(features, row, seed, round): the draw of a row. */
Datum
km_uniform(PG_FUNCTION_ARGS)
{
	int32		d;

	(void) CxReadFeatures(PG_GETARG_ARRAYTYPE_P(0), 0, &d);
	PG_RETURN_FLOAT8(Uniform(PG_GETARG_ARRAYTYPE_P(0), (ItemPointer) PG_GETARG_POINTER(1),
							 PG_GETARG_INT64(2), PG_GETARG_INT32(3)));
}

/*
 * The squared distance from the point in argument 0 to the nearest of the
 * centres in argument 1, in the space of argument 2.
 */
static double
PointCost(FunctionCallInfo fcinfo)
{
	int32		d;
	const double *space = Space(fcinfo, 2, &d);
	int64		count;
	const double *centres = Centres(fcinfo, 1, d, &count);
	double	   *z = palloc(d * sizeof(double));
	double		best;

	ReadPoint(fcinfo, 0, space, d, z);
	(void) Nearest(z, centres, count, d, &best);
	pfree(z);
	return best;
}

/* cxsell._km_cost(features, centres, space): the squared distance to the nearest centre. */
Datum
km_cost(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(PointCost(fcinfo));
}

/*
 * cxsell._km_pick(features, centres, space, factor, row, seed, round):
 * whether k-means|| keeps the row in this round, with probability
 * min(1, factor x cost).
 */
Datum
km_pick(PG_FUNCTION_ARGS)
{
	double		cost = PointCost(fcinfo);

	PG_RETURN_BOOL(Uniform(PG_GETARG_ARRAYTYPE_P(0), (ItemPointer) PG_GETARG_POINTER(4),
						   PG_GETARG_INT64(5), PG_GETARG_INT32(6))
				   < PG_GETARG_FLOAT8(3) * cost);
}

/* A draw in [0, total) by weights w (m of them): the index drawn. */
static int64
DrawWeighted(CxRandom *rng, const double *w, int64 m, double total)
{
	double		u = (double) (CxRandomNext(rng) >> 11) * (1.0 / 9007199254740992.0) * total;
	int64		i;

	for (i = 0; i < m; i++)
	{
		if (u < w[i])
			return i;
		u -= w[i];
	}
	/* rounding: the last candidate of positive weight */
	for (i = m - 1; i > 0 && w[i] <= 0.0; i--)
		;
	return i;
}

/*
 * Weighted k-means++ then Lloyd over the m candidates cand (m x d), weights
 * w: k centres into out (k x d).
 */
static void
WeightedKmeans(const double *cand, const double *w, int64 m, int32 d, int32 k,
			   uint64 seed, double *out)
{
	CxRandom	rng;
	double	   *dist = palloc(m * sizeof(double));
	double	   *pw = palloc(m * sizeof(double));
	double	   *sums = palloc((Size) k * d * sizeof(double));
	double	   *cnt = palloc(k * sizeof(double));
	double		total = 0.0;
	int64		i;
	int32		c;
	int32		it;

	CxRandomSeed(&rng, seed);
	for (i = 0; i < m; i++)
		total += w[i];
	if (total <= 0.0)
		for (i = 0; i < m; i++)
			pw[i] = 1.0;
	else
		memcpy(pw, w, m * sizeof(double));
	i = DrawWeighted(&rng, pw, m, total > 0.0 ? total : (double) m);
	memcpy(out, cand + i * d, d * sizeof(double));
	for (i = 0; i < m; i++)
		dist[i] = CxSquaredDistance(cand + i * d, out, d);
	for (c = 1; c < k; c++)
	{
		double		mass = 0.0;
		int64		pick;

		CHECK_FOR_INTERRUPTS();
		for (i = 0; i < m; i++)
		{
			pw[i] = (total > 0.0 ? w[i] : 1.0) * dist[i];
			mass += pw[i];
		}
		if (mass > 0.0)
			pick = DrawWeighted(&rng, pw, m, mass);
		else
			pick = (int64) (CxRandomNext(&rng) % (uint64) m);
		memcpy(out + (Size) c * d, cand + pick * d, d * sizeof(double));
		for (i = 0; i < m; i++)
			dist[i] = Min(dist[i], CxSquaredDistance(cand + i * d, out + (Size) c * d, d));
	}
	for (it = 0; it < LLOYD_CANDIDATE_ITERATIONS; it++)
	{
		bool		moved = false;

		CHECK_FOR_INTERRUPTS();
		memset(sums, 0, (Size) k * d * sizeof(double));
		memset(cnt, 0, k * sizeof(double));
		for (i = 0; i < m; i++)
		{
			double		best;
			int64		near;
			int32		j;

			CHECK_FOR_INTERRUPTS();
			near = Nearest(cand + i * d, out, k, d, &best);

			for (j = 0; j < d; j++)
				sums[near * d + j] += w[i] * cand[i * d + j];
			cnt[near] += w[i];
		}
		for (c = 0; c < k; c++)
		{
			int32		j;

			if (cnt[c] <= 0.0)
				continue;
			for (j = 0; j < d; j++)
			{
				double		v = sums[(Size) c * d + j] / cnt[c];

				if (v != out[(Size) c * d + j])
					moved = true;
				out[(Size) c * d + j] = v;
			}
		}
		if (!moved)
			break;
	}
	pfree(dist);
	pfree(pw);
	pfree(sums);
	pfree(cnt);
}

/*
 * cxsell._km_recluster(candidates, step, k, seed, restarts): the candidates
 * of k-means|| (in the space clustered) weighted by the points nearest to
 * them (the counts of a step over them), reclustered into k centres once
 * per restart: restarts x k centres.
 */
Datum
km_recluster(PG_FUNCTION_ARGS)
{
	int64		ncand;
	const double *cand = Numbers(fcinfo, 0, "candidates", &ncand);
	int64		nstep;
	const double *step = Numbers(fcinfo, 1, "step", &nstep);
	int32		k = PG_GETARG_INT32(2);
	int64		seed = PG_GETARG_INT64(3);
	int32		restarts = PG_GETARG_INT32(4);
	int64		m;
	int32		d;
	int32		width;
	double	   *rows;
	double	   *sorted;
	double	   *w;
	double	   *out;
	int64		i;
	int32		r;

	/* a step over m candidates of d features holds m (d + 2) numbers */
	if (ncand == 0 || nstep <= ncand || (nstep - ncand) % 2 != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("candidates and step do not match")));
	m = (nstep - ncand) / 2;
	if (ncand % m != 0 || k < 1 || restarts < 1 || restarts > 1000 || m < k)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("candidates and step do not match")));
	d = (int32) (ncand / m);
	if ((Size) restarts * k * d > MaxAllocSize / sizeof(double))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%d restarts of %d centres of %d features are too many", restarts, k, d)));
	/*
	 * The candidates in a canonical order, whatever order the workers sent
	 * them in: rows of d values then the weight, sorted.
	 */
	rows = palloc(m * (d + 1) * sizeof(double));
	for (i = 0; i < m; i++)
	{
		memcpy(rows + i * (d + 1), cand + i * d, d * sizeof(double));
		rows[i * (d + 1) + d] = step[i * (d + 2) + d];
	}
	width = d + 1;
	qsort_arg(rows, m, (d + 1) * sizeof(double), CxCompareRows, &width);
	sorted = palloc(ncand * sizeof(double));
	w = palloc(m * sizeof(double));
	for (i = 0; i < m; i++)
	{
		memcpy(sorted + i * d, rows + i * (d + 1), d * sizeof(double));
		w[i] = rows[i * (d + 1) + d];
	}
	out = palloc((Size) restarts * k * d * sizeof(double));
	for (r = 0; r < restarts; r++)
		WeightedKmeans(sorted, w, m, d, k, (uint64) seed + (uint64) r,
					   out + (Size) r * k * d);
	PG_RETURN_DATUM(CxFloat8Array(out, restarts * k * d));
}

/*
 * cxsell._km_next(centres, step, k): the Lloyd update of every set of
 * centres (a centre nearest to no point stays).
 */
Datum
km_next(PG_FUNCTION_ARGS)
{
	int64		n;
	const double *c = Numbers(fcinfo, 0, "centres", &n);
	int64		nstep;
	const double *step = Numbers(fcinfo, 1, "step", &nstep);
	int32		k = PG_GETARG_INT32(2);
	int64		count;
	int64		d;
	double	   *out;
	int64		i;

	if (k < 1 || nstep <= n || (nstep - n) % 2 != 0 || n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("centres and step do not match")));
	count = (nstep - n) / 2;
	d = n / count;
	if (n % count != 0 || count % k != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("centres and step do not match")));
	out = palloc(n * sizeof(double));
	for (i = 0; i < count; i++)
	{
		const double *acc = step + i * (d + 2);
		int64		j;

		for (j = 0; j < d; j++)
			out[i * d + j] = acc[d] > 0.0 ? acc[j] / acc[d] : c[i * d + j];
	}
	PG_RETURN_DATUM(CxFloat8Array(out, (int32) n));
}

/*
 * cxsell._km_converged(old, new, sets, tolerance): whether the total
 * squared shift of the centres of every set is at most the tolerance.
 */
Datum
km_converged(PG_FUNCTION_ARGS)
{
	int64		n;
	const double *a = Numbers(fcinfo, 0, "centres", &n);
	const double *b = NumbersOf(fcinfo, 1, "centres", n);
	int32		sets = PG_GETARG_INT32(2);
	double		tol = PG_GETARG_FLOAT8(3);
	int64		len;
	int32		r;

	if (sets < 1 || n == 0 || n % sets != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("centres must hold the given number of sets")));
	len = n / sets;
	for (r = 0; r < sets; r++)
	{
		double		shift = 0.0;
		int64		i;

		for (i = r * len; i < (r + 1) * len; i++)
			shift += (a[i] - b[i]) * (a[i] - b[i]);
		if (!(shift <= tol))
			PG_RETURN_BOOL(false);
	}
	PG_RETURN_BOOL(true);
}

/*
 * cxsell._km_model(centres, step, space, k, options, iterations, converged):
 * the restart whose points lie closest to their centres, as a cxsell.kmodel
 * (sizes and within-cluster sums of squares from the step over these
 * centres).
 */
Datum
km_model(PG_FUNCTION_ARGS)
{
	int32		d;
	const double *space;
	int32		k;
	int64		count;
	const double *centres;
	const double *step;
	CxKmeansParams params;
	CxKmeansResult res;
	KModel	   *model;
	int64		sets;
	int64		best_set = 0;
	double		best = get_float8_infinity();
	int64		n = 0;
	int64		r;
	int32		c;

	/* every argument but the options is required */
	CxRequireArg(fcinfo, 0, "centres", NULL);
	CxRequireArg(fcinfo, 1, "step", NULL);
	CxRequireArg(fcinfo, 2, "space", NULL);
	CxRequireArg(fcinfo, 3, "k", NULL);
	CxRequireArg(fcinfo, 5, "iterations", NULL);
	CxRequireArg(fcinfo, 6, "converged", NULL);
	space = Space(fcinfo, 2, &d);
	k = PG_GETARG_INT32(3);
	centres = Centres(fcinfo, 0, d, &count);
	CxKmeansCheckK(k);
	if (count % k != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("centres must hold sets of k centres")));
	sets = count / k;
	step = NumbersOf(fcinfo, 1, "step", count * (d + 2));
	CxKmeansParseOptions(PG_ARGISNULL(4) ? NULL : PG_GETARG_JSONB_P(4), &params);
	params.k = k;
	for (r = 0; r < sets; r++)
	{
		double		sse = 0.0;

		for (c = 0; c < k; c++)
			sse += step[(r * k + c) * (d + 2) + d + 1];
		if (sse < best)
		{
			best = sse;
			best_set = r;
		}
	}
	res.centroids = palloc((Size) k * d * sizeof(double));
	res.sizes = palloc(k * sizeof(int64));
	res.wss = palloc(k * sizeof(double));
	res.labels = NULL;
	res.inertia = 0.0;
	res.iterations = PG_GETARG_INT32(5);
	res.converged = PG_GETARG_BOOL(6);
	memcpy(res.centroids, centres + best_set * k * d, (Size) k * d * sizeof(double));
	for (c = 0; c < k; c++)
	{
		const double *acc = step + (best_set * k + c) * (d + 2);

		if (!(acc[d] >= 0.0 && acc[d] <= 9.0e15) || acc[d] != floor(acc[d]))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("malformed k-means step")));
		res.sizes[c] = (int64) acc[d];
		res.wss[c] = acc[d + 1];
		res.inertia += acc[d + 1];
		if (res.sizes[c] > PG_INT64_MAX / 2 - n)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("malformed k-means step")));
		n += res.sizes[c];
	}
	model = CxKModelBuild(&res, k, d, n, space, space + d, &params);
	/* a model must read back: checked as its input checks it */
	CxKModelValidate(model, ERRCODE_INVALID_PARAMETER_VALUE);
	PG_RETURN_POINTER(model);
}
