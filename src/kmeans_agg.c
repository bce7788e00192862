/*
 * kmeans_agg.c
 *		The cxsell.kmeans aggregates: collect feature vectors, then fit a
 *		k-means model in the final function.
 *
 * Serialised state, version 1 (big-endian):
 *	"CXK" u8 version=1
 *	u32 k, u32 k_min, u64 seed, u32 restarts, u32 max_iter, f64 tol,
 *	u8 standardize, u32 d, u64 n, n x d f64 features
 *
 * cxsell.kmeans_sweep shares the state: it fits every k from k_min to k.
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"
#include "funcapi.h"
#include "utils/numeric.h"

#include "bytes.h"
#include "cxsell.h"
#include "kmeans.h"
#include "kmodel.h"

PG_FUNCTION_INFO_V1(kmeans_trans);
PG_FUNCTION_INFO_V1(kmeans_combine);
PG_FUNCTION_INFO_V1(kmeans_serialize);
PG_FUNCTION_INFO_V1(kmeans_deserialize);
PG_FUNCTION_INFO_V1(kmeans_final);
PG_FUNCTION_INFO_V1(kmeans_sweep_trans);
PG_FUNCTION_INFO_V1(kmeans_sweep_final);

/* The largest number of points whose silhouette is computed exactly. */
#define SILHOUETTE_MAX_POINTS 10000

#define KMEANS_STATE_VERSION 1

typedef struct KmeansState
{
	MemoryContext cxt;
	MemoryContext limitcxt;		/* counts against cxsell.max_memory */
	CxKmeansParams params;		/* params.k: the (largest) k */
	int32		k_min;			/* sweep: the smallest k; else params.k */
	Jsonb	   *options;		/* copy of the first row's options, or NULL */
	int32		d;				/* 0 until the first point */
	int64		n;
	int64		capacity;		/* points */
	double	   *x;				/* n x d */
} KmeansState;

static const char *const option_names =
"seed, restarts, max_iter, tol and standardize";

static void
BadOption(const char *key, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid value for k-means option \"%s\"", key),
			 errdetail("%s", detail),
			 errhint("Options are a JSON object with the keys %s.", option_names)));
}

static double
OptionNumber(const char *key, JsonbValue *v)
{
	if (v->type != jbvNumeric)
		BadOption(key, "The value must be a number.");
	return DatumGetFloat8(DirectFunctionCall1(numeric_float8,
											  NumericGetDatum(v->val.numeric)));
}

static int64
OptionInt(const char *key, JsonbValue *v, int64 min, int64 max)
{
	double		x = OptionNumber(key, v);

	if (x != floor(x) || x < (double) min || x > (double) max)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for k-means option \"%s\"", key),
				 errdetail("The value must be an integer from " INT64_FORMAT " to " INT64_FORMAT ".",
						   min, max),
				 errhint("Options are a JSON object with the keys %s.", option_names)));
	return (int64) x;
}

/* Parse the options argument (NULL = defaults) into p. */
void
CxKmeansParseOptions(Jsonb *opts, CxKmeansParams *p)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;

	p->seed = 0;
	p->restarts = 10;
	p->max_iter = 300;
	p->tol = 1e-4;
	p->standardize = false;
	if (opts == NULL)
		return;
	if (!JB_ROOT_IS_OBJECT(opts))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k-means options must be a JSON object"),
				 errhint("For example '{\"seed\": 7, \"restarts\": 10, \"standardize\": true}'.")));
	it = JsonbIteratorInit(&opts->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		char	   *key;

		if (tok != WJB_KEY)
			continue;
		key = pnstrdup(v.val.string.val, v.val.string.len);
		tok = JsonbIteratorNext(&it, &v, true);
		if (strcmp(key, "seed") == 0)
			p->seed = OptionInt(key, &v, PG_INT64_MIN / 2, PG_INT64_MAX / 2);
		else if (strcmp(key, "restarts") == 0)
			p->restarts = (int32) OptionInt(key, &v, 1, 1000);
		else if (strcmp(key, "max_iter") == 0)
			p->max_iter = (int32) OptionInt(key, &v, 1, 1000000);
		else if (strcmp(key, "tol") == 0)
		{
			p->tol = OptionNumber(key, &v);
			if (!(p->tol >= 0.0) || !isfinite(p->tol))
				BadOption(key, "The value must be a finite number of at least 0.");
		}
		else if (strcmp(key, "standardize") == 0)
		{
			if (v.type != jbvBool)
				BadOption(key, "The value must be true or false.");
			p->standardize = v.val.boolean;
		}
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unrecognized k-means option \"%s\"", key),
					 errhint("Options are a JSON object with the keys %s.", option_names)));
	}
}

void
CxKmeansCheckK(int32 k)
{
	if (k < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k %d is out of range", k),
				 errhint("k is the number of clusters: use 1 or more.")));
}

static KmeansState *
KmeansStateCreate(MemoryContext parent, const CxKmeansParams *params)
{
	MemoryContext cxt = AllocSetContextCreate(parent, "cxsell.kmeans state",
											  ALLOCSET_SMALL_SIZES);
	KmeansState *st = MemoryContextAllocZero(cxt, sizeof(KmeansState));

	st->cxt = cxt;
	st->limitcxt = parent;
	st->params = *params;
	st->k_min = params->k;
	return st;
}

static bool
SameParams(const CxKmeansParams *a, const CxKmeansParams *b)
{
	return a->k == b->k && a->seed == b->seed && a->restarts == b->restarts &&
		a->max_iter == b->max_iter && a->tol == b->tol &&
		a->standardize == b->standardize;
}

static void
RequireSameParams(const KmeansState *a, const KmeansState *b)
{
	CxRequireSameParams(SameParams(&a->params, &b->params) && a->k_min == b->k_min,
						"k and the k-means options", NULL);
}

/* Append m points of st->d features. */
static void
AddPoints(KmeansState *st, const double *v, int64 m)
{
	st->x = CxGrowArray(st->x, &st->capacity, st->n + m, st->d * sizeof(double),
						st->cxt, st->limitcxt, CX_WORK_CLUSTERING);
	memcpy(st->x + (Size) st->n * st->d, v, (Size) m * st->d * sizeof(double));
	st->n += m;
}

/*
 * Shared transition: features in argument 1, k_min and k_max in arguments
 * kmin_arg and kmax_arg, options (if present) after them.
 */
static Datum
Transition(FunctionCallInfo fcinfo, int kmin_arg, int kmax_arg)
{
	MemoryContext aggcxt = CxAggContext(fcinfo);
	KmeansState *st = PG_ARGISNULL(0) ? NULL : (KmeansState *) PG_GETARG_POINTER(0);
	Jsonb	   *opts;
	int			opt_arg = kmax_arg + 1;
	int32		d;
	const double *v;
	ErrorContextCallback call;

	CxEnterAggregate(&call, fcinfo);
	CxRequireArg(fcinfo, kmin_arg, "k", "k is the number of clusters: use 1 or more.");
	CxRequireArg(fcinfo, kmax_arg, "k", "k is the number of clusters: use 1 or more.");

	opts = (PG_NARGS() > opt_arg && !PG_ARGISNULL(opt_arg)) ? PG_GETARG_JSONB_P(opt_arg) : NULL;
	if (st == NULL)
	{
		CxKmeansParams params;
		int32		k_min = PG_GETARG_INT32(kmin_arg);

		params.k = PG_GETARG_INT32(kmax_arg);
		CxKmeansCheckK(k_min);
		CxKmeansCheckK(params.k);
		if (k_min > params.k)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("k_min %d exceeds k_max %d", k_min, params.k),
					 errhint("Give the range of k as k_min <= k_max.")));
		CxKmeansParseOptions(opts, &params);
		st = KmeansStateCreate(aggcxt, &params);
		st->k_min = k_min;
		if (opts != NULL)
		{
			st->options = (Jsonb *) MemoryContextAlloc(st->cxt, VARSIZE(opts));
			memcpy(st->options, opts, VARSIZE(opts));
		}
	}
	else
		CxRequireSameParams(PG_GETARG_INT32(kmax_arg) == st->params.k &&
							PG_GETARG_INT32(kmin_arg) == st->k_min &&
							(opts == NULL) == (st->options == NULL) &&
							(opts == NULL || (VARSIZE(opts) == VARSIZE(st->options) &&
											  memcmp(opts, st->options, VARSIZE(opts)) == 0)),
							"k and the k-means options", NULL);

	if (!PG_ARGISNULL(1))
	{
		v = CxReadFeatures(PG_GETARG_ARRAYTYPE_P(1), st->d, &d);
		st->d = d;
		AddPoints(st, v, 1);
	}
	CxLeaveCall(&call);
	PG_RETURN_POINTER(st);
}

/* Transition of cxsell.kmeans(features, k [, options]). */
Datum
kmeans_trans(PG_FUNCTION_ARGS)
{
	return Transition(fcinfo, 2, 2);
}

/* Transition of cxsell.kmeans_sweep(features, k_min, k_max [, options]). */
Datum
kmeans_sweep_trans(PG_FUNCTION_ARGS)
{
	return Transition(fcinfo, 2, 3);
}

/* Combine two partial states: the points of both. */
Datum
kmeans_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	KmeansState *dst;
	KmeansState *src;

	if (!CxCombineStates(fcinfo, &aggcxt, (void **) &dst, (void **) &src))
	{
		if (dst == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(dst);
	}
	/* the source may live in per-call memory: its points are copied */
	if (dst == NULL)
	{
		dst = KmeansStateCreate(aggcxt, &src->params);
		dst->k_min = src->k_min;
	}
	RequireSameParams(dst, src);
	if (src->n > 0)
	{
		if (dst->d != 0 && dst->d != src->d)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("feature array has %d elements, expected %d", src->d, dst->d),
					 errhint("Every row must have the same number of features in the same order.")));
		dst->d = src->d;
		AddPoints(dst, src->x, src->n);
	}
	PG_RETURN_POINTER(dst);
}

/* Serialise a state (see the top of this file). */
Datum
kmeans_serialize(PG_FUNCTION_ARGS)
{
	KmeansState *st = (KmeansState *) PG_GETARG_POINTER(0);
	StringInfoData buf;
	int64		i;

	CxStateBegin(&buf, "CXK", KMEANS_STATE_VERSION);
	cx_put_u32(&buf, (uint32) st->params.k);
	cx_put_u32(&buf, (uint32) st->k_min);
	cx_put_u64(&buf, (uint64) st->params.seed);
	cx_put_u32(&buf, (uint32) st->params.restarts);
	cx_put_u32(&buf, (uint32) st->params.max_iter);
	cx_put_f64(&buf, st->params.tol);
	appendStringInfoChar(&buf, st->params.standardize ? 1 : 0);
	cx_put_u32(&buf, (uint32) st->d);
	cx_put_u64(&buf, (uint64) st->n);
	CxStateReserve(&buf, (Size) st->n * st->d * 8);
	for (i = 0; i < st->n * st->d; i++)
		cx_put_f64(&buf, st->x[i]);
	PG_RETURN_BYTEA_P(CxStateEnd(&buf));
}

/*
 * Rebuild a state from its serialised form, rejecting malformed bytes, in
 * the current (per-call) memory: the combine function copies it.
 */
Datum
kmeans_deserialize(PG_FUNCTION_ARGS)
{
	bytea	   *bytes = PG_GETARG_BYTEA_PP(0);
	CxReader	r;
	CxKmeansParams params;
	KmeansState *st;
	uint8		flag;
	int32		k_min;
	int32		d;
	uint64		n;
	uint64		i;

	CxStateOpen(&r, bytes, "CXK", KMEANS_STATE_VERSION, "cxsell.kmeans state",
				ERRCODE_DATA_CORRUPTED);
	params.k = (int32) cx_get_u32(&r);
	k_min = (int32) cx_get_u32(&r);
	params.seed = (int64) cx_get_u64(&r);
	params.restarts = (int32) cx_get_u32(&r);
	params.max_iter = (int32) cx_get_u32(&r);
	params.tol = cx_get_f64(&r);
	flag = cx_get_u8(&r);
	params.standardize = (flag == 1);
	d = (int32) cx_get_u32(&r);
	n = cx_get_u64(&r);
	if (params.k < 1 || k_min < 1 || k_min > params.k || params.restarts < 1 || params.max_iter < 1 || flag > 1 ||
		!(params.tol >= 0.0) || d < 0 || (n > 0 && d == 0) ||
		(d > 0 && n > (r.len - r.pos) / 8 / (uint64) d))
		CxReaderFail(&r, "The state's parameters are out of range");
	st = KmeansStateCreate(CurrentMemoryContext, &params);
	st->k_min = k_min;
	st->d = d;
	if (n > 0)
	{
		st->x = CxGrowArray(NULL, &st->capacity, (int64) n, d * sizeof(double),
							st->cxt, st->limitcxt, CX_WORK_CLUSTERING);
		for (i = 0; i < n * (uint64) d; i++)
		{
			if ((i & 0xFFFFF) == 0)
				CHECK_FOR_INTERRUPTS();
			st->x[i] = cx_get_f64(&r);
		}
		st->n = (int64) n;
	}
	CxReaderEnd(&r);
	PG_RETURN_POINTER(st);
}

/* qsort_arg comparator: rows of *(int32 *) arg doubles, lexicographically. */
int
CxCompareRows(const void *a, const void *b, void *arg)
{
	const double *x = (const double *) a;
	const double *y = (const double *) b;
	int32		d = *(const int32 *) arg;
	int32		j;

	for (j = 0; j < d; j++)
		if (x[j] != y[j])
			return x[j] < y[j] ? -1 : 1;
	return 0;
}

typedef struct ClusterOrder
{
	const CxKmeansResult *res;
	int32		d;
} ClusterOrder;

/* Clusters by size, largest first, then by centre. */
static int
CompareClusters(const void *a, const void *b, void *arg)
{
	const ClusterOrder *o = (const ClusterOrder *) arg;
	int32		x = *(const int32 *) a;
	int32		y = *(const int32 *) b;

	if (o->res->sizes[x] != o->res->sizes[y])
		return o->res->sizes[x] > o->res->sizes[y] ? -1 : 1;
	return CxCompareRows(o->res->centroids + (Size) x * o->d,
					   o->res->centroids + (Size) y * o->d, (void *) &o->d);
}

/*
 * Refuse points so large that a sum of squared distances between them could
 * overflow double precision (which standardised points never are): the fit
 * would store infinities.
 */
static void
CheckMagnitude(const double *x, int64 n, int32 d)
{
	double		limit = sqrt(DBL_MAX / (8.0 * (double) n * (double) d));
	double		top = 0.0;
	int64		i;

	for (i = 0; i < n * d; i++)
		top = Max(top, fabs(x[i]));
	if (top > limit)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("features of magnitude %g are too large for k-means", top),
				 errdetail("Sums of squared distances between %lld points of %d features could exceed double precision; the largest magnitude that is safe is %g.",
						   (long long) n, d, limit),
				 errhint("Rescale the features (divide them by a constant), or use the option {\"standardize\": true}.")));
}

/* A point to sort: its first feature, and its row. */
typedef struct RowKey
{
	double		first;
	int64		row;
} RowKey;

typedef struct RowSortArg
{
	const double *x;
	int32		d;
} RowSortArg;

/*
 * Points in CxCompareRows's order (feature by feature); points of equal
 * values (+0 and -0 apart) by their bits, so that the order is canonical.
 */
static inline int
CompareRowKeys(const RowKey *a, const RowKey *b, RowSortArg *arg)
{
	const double *x;
	const double *y;
	int32		j;

	if (a->first != b->first)
		return a->first < b->first ? -1 : 1;
	x = arg->x + a->row * arg->d;
	y = arg->x + b->row * arg->d;
	for (j = 1; j < arg->d; j++)
		if (x[j] != y[j])
			return x[j] < y[j] ? -1 : 1;
	return memcmp(x, y, arg->d * sizeof(double));
}

#define ST_SORT sort_row_keys
#define ST_ELEMENT_TYPE RowKey
#define ST_COMPARE_ARG_TYPE RowSortArg
#define ST_COMPARE(a, b, arg) CompareRowKeys(a, b, arg)
#define ST_SCOPE static
#define ST_DEFINE
#include "lib/sort_template.h"

/*
 * Copy the n points of d features in src to dst in canonical order: a sort
 * of (first feature, row) keys, then one gather.
 */
static void
SortPoints(double *dst, const double *src, int64 n, int32 d)
{
	RowKey	   *keys = MemoryContextAllocHuge(CurrentMemoryContext, Max(n, 1) * sizeof(RowKey));
	RowSortArg	arg = {src, d};
	int64		i;

	for (i = 0; i < n; i++)
	{
		keys[i].first = src[i * d];
		keys[i].row = i;
	}
	sort_row_keys(keys, n, &arg);
	for (i = 0; i < n; i++)
	{
		if ((i & 65535) == 0)
			CHECK_FOR_INTERRUPTS();
		memcpy(dst + i * d, src + keys[i].row * d, d * sizeof(double));
	}
	pfree(keys);
}

/*
 * The points of a state ready to cluster, in fit context `cxt`: in a
 * canonical order (so that the result does not depend on the plan), and
 * standardised when asked (z-scores with the population standard deviation;
 * a constant feature keeps scale 1).  mean and scale receive d values.
 */
static double *
PreparePoints(KmeansState *st, int32 k_max, double *mean, double *scale)
{
	int32		d = st->d;
	int64		n = st->n;
	double	   *x;
	int32		j;
	int64		i;

	if (k_max > n)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("k %d exceeds the number of points (" INT64_FORMAT ")", k_max, n),
				 errhint("Use a k of at most the number of rows with features.")));

	/* estimate the memory the fit needs before starting it */
	CxCheckMemory(st->limitcxt, (Size) n * d * sizeof(double) + CxKmeansWorkMemory(n, d, k_max),
				  CX_WORK_CLUSTERING);
	x = MemoryContextAllocHuge(CurrentMemoryContext, (Size) n * d * sizeof(double));
	SortPoints(x, st->x, n, d);

	for (j = 0; j < d; j++)
	{
		double		top = 0.0;
		double		s = 0.0;
		double		ss = 0.0;
		double		m;

		mean[j] = 0.0;
		scale[j] = 1.0;
		if (!st->params.standardize)
			continue;
		/*
		 * Features so large that their sums or sums of squares could
		 * overflow: the mean and standard deviation of x / top, whose
		 * elements lie in [-1, 1], scaled back.
		 */
		for (i = 0; i < n; i++)
			top = Max(top, fabs(x[i * d + j]));
		if (top <= sqrt(DBL_MAX / (4.0 * (double) n)))
		{
			/* no sum below can overflow */
			for (i = 0; i < n; i++)
				s += x[i * d + j];
			mean[j] = s / (double) n;
			for (i = 0; i < n; i++)
				ss += (x[i * d + j] - mean[j]) * (x[i * d + j] - mean[j]);
			if (ss > 0.0)
				scale[j] = sqrt(ss / (double) n);
			for (i = 0; i < n; i++)
				x[i * d + j] = (x[i * d + j] - mean[j]) / scale[j];
			continue;
		}
		for (i = 0; i < n; i++)
			s += x[i * d + j] / top;
		m = s / (double) n;
		for (i = 0; i < n; i++)
			ss += (x[i * d + j] / top - m) * (x[i * d + j] / top - m);
		mean[j] = m * top;
		if (ss > 0.0)
			scale[j] = sqrt(ss / (double) n) * top;
		for (i = 0; i < n; i++)
			x[i * d + j] = (x[i * d + j] / top - m) / (scale[j] / top);
	}
	CheckMagnitude(x, n, d);
	return x;
}

/* Fit k clusters to the prepared points x (n x d). */
static void
Fit(const double *x, int64 n, int32 d, int32 k, const CxKmeansParams *base,
	CxKmeansResult *res, bool with_labels)
{
	CxKmeansParams params = *base;

	params.k = k;
	res->centroids = palloc((Size) k * d * sizeof(double));
	res->sizes = palloc(k * sizeof(int64));
	res->wss = palloc(k * sizeof(double));
	res->labels = with_labels ?
		MemoryContextAllocHuge(CurrentMemoryContext, Max(n, 1) * sizeof(int32)) : NULL;
	CxKmeansRun(x, n, d, &params, res);
}

/*
 * The cxsell.kmodel of a fit `res` of n points (k clusters of d features,
 * centres in the space clustered, which is the original one shifted by
 * mean and divided by scale), in the current memory context.  Clusters
 * are numbered by size, largest first, then by centre.
 */
KModel *
CxKModelBuild(const CxKmeansResult *res, int32 k, int32 d, int64 n, const double *mean,
			  const double *scale, const CxKmeansParams *params)
{
	int32	   *order = palloc(k * sizeof(int32));
	ClusterOrder o = {res, d};
	KModel	   *m;
	int32		c;
	int32		j;

	for (c = 0; c < k; c++)
		order[c] = c;
	qsort_arg(order, k, sizeof(int32), CompareClusters, &o);

	m = KModelCreate(k, d);
	m->n = n;
	m->flags = (params->standardize ? KMODEL_STANDARDIZED : 0) |
		(res->converged ? KMODEL_CONVERGED : 0);
	m->iterations = res->iterations;
	m->restarts = params->restarts;
	m->max_iter = params->max_iter;
	m->seed = params->seed;
	m->tol = params->tol;
	m->inertia = 0.0;
	memcpy(KM_MEANS(m), mean, d * sizeof(double));
	memcpy(KM_SCALES(m), scale, d * sizeof(double));
	for (c = 0; c < k; c++)
	{
		int32		src = order[c];

		for (j = 0; j < d; j++)
			KM_CENTROIDS(m)[(Size) c * d + j] =
				res->centroids[(Size) src * d + j] * scale[j] + mean[j];
		KM_SIZES(m)[c] = res->sizes[src];
		KM_WSS(m)[c] = res->wss[src];
		m->inertia += res->wss[src];
	}
	/* a stored model must read back: every number in it is finite */
	for (j = 0; j < 2 * d + k * d + k; j++)
		if (!isfinite(m->data[j]) || !isfinite(m->inertia))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("the k-means model of these features does not fit in double precision"),
					 errhint("Rescale the features (divide them by a constant).")));
	pfree(order);
	return m;
}

/* Fit the model. */
Datum
kmeans_final(PG_FUNCTION_ARGS)
{
	KmeansState *st;
	MemoryContext outcxt = CurrentMemoryContext;
	MemoryContext cxt;
	int32		k;
	int32		d;
	double	   *x;
	double	   *mean;
	double	   *scale;
	CxKmeansResult res;
	KModel	   *m;
	ErrorContextCallback call;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = (KmeansState *) PG_GETARG_POINTER(0);
	if (st->n == 0)
		PG_RETURN_NULL();
	CxEnterAggregate(&call, fcinfo);
	k = st->params.k;
	d = st->d;

	cxt = AllocSetContextCreate(st->cxt, "cxsell.kmeans fit", ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(cxt);
	mean = palloc(d * sizeof(double));
	scale = palloc(d * sizeof(double));
	x = PreparePoints(st, k, mean, scale);
	Fit(x, st->n, d, k, &st->params, &res, false);

	MemoryContextSwitchTo(outcxt);
	m = CxKModelBuild(&res, k, d, st->n, mean, scale, &st->params);
	MemoryContextDelete(cxt);
	CxLeaveCall(&call);
	PG_RETURN_POINTER(m);
}

/*
 * Fit every k from k_min to k_max; return one cxsell.kmeans_sweep row per k:
 * k, inertia, silhouette, iterations, converged.
 */
Datum
kmeans_sweep_final(PG_FUNCTION_ARGS)
{
	KmeansState *st;
	MemoryContext outcxt = CurrentMemoryContext;
	MemoryContext cxt;
	Oid			rowtype;
	TupleDesc	tupdesc;
	Datum	   *rows;
	int32		nrows;
	int32		d;
	int32		k;
	double	   *x;
	double	   *mean;
	double	   *scale;
	Datum		result;
	ErrorContextCallback call;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = (KmeansState *) PG_GETARG_POINTER(0);
	if (st->n == 0)
		PG_RETURN_NULL();
	CxEnterAggregate(&call, fcinfo);
	d = st->d;
	tupdesc = CxRowArrayDesc(fcinfo, &rowtype);

	cxt = AllocSetContextCreate(st->cxt, "cxsell.kmeans sweep", ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(cxt);
	mean = palloc(d * sizeof(double));
	scale = palloc(d * sizeof(double));
	/* checks k_max against the number of points, which bounds what follows */
	x = PreparePoints(st, st->params.k, mean, scale);
	nrows = st->params.k - st->k_min + 1;
	rows = MemoryContextAlloc(outcxt, nrows * sizeof(Datum));
	for (k = st->k_min; k <= st->params.k; k++)
	{
		MemoryContext fitcxt = AllocSetContextCreate(cxt, "cxsell.kmeans sweep fit",
													 ALLOCSET_DEFAULT_SIZES);
		CxKmeansResult res;
		double		sil;
		Datum		values[5];
		bool		nulls[5] = {0};

		MemoryContextSwitchTo(fitcxt);
		Fit(x, st->n, d, k, &st->params, &res, true);
		sil = CxSilhouette(x, res.labels, st->n, d, k, SILHOUETTE_MAX_POINTS,
						   (uint64) st->params.seed);
		values[0] = Int32GetDatum(k);
		values[1] = Float8GetDatum(res.inertia);
		values[2] = Float8GetDatum(sil);
		nulls[2] = isnan(sil);
		values[3] = Int32GetDatum(res.iterations);
		values[4] = BoolGetDatum(res.converged);
		MemoryContextSwitchTo(outcxt);
		rows[k - st->k_min] = HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls));
		MemoryContextDelete(fitcxt);
	}
	MemoryContextSwitchTo(outcxt);
	MemoryContextDelete(cxt);
	result = CxRowArray(rows, nrows, rowtype);
	CxLeaveCall(&call);
	PG_RETURN_DATUM(result);
}
