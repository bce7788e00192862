/*
 * kmodel.c
 *		The cxsell.kmodel type and the functions that use a model:
 *		cluster(), cluster_distance(), centroids() and summary().
 *
 * Text form: a JSON object (readable, and what pg_dump writes); binary form:
 * the same fields, big-endian.  Both inputs validate the model in full.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "cxsell.h"
#include "kmeans.h"
#include "kmodel.h"

PG_FUNCTION_INFO_V1(kmodel_in);
PG_FUNCTION_INFO_V1(kmodel_out);
PG_FUNCTION_INFO_V1(kmodel_recv);
PG_FUNCTION_INFO_V1(kmodel_send);
PG_FUNCTION_INFO_V1(kmodel_cluster);
PG_FUNCTION_INFO_V1(kmodel_cluster_distance);
PG_FUNCTION_INFO_V1(kmodel_centroids);
PG_FUNCTION_INFO_V1(kmodel_summary);
PG_FUNCTION_INFO_V1(kmodel_standardize);

/* The largest k and number of features a model may have. */
#define KMODEL_MAX_K 100000
#define KMODEL_MAX_D 100000

/* Allocate an empty model of k clusters and d features. */
KModel *
KModelCreate(int32 k, int32 d)
{
	KModel	   *m = palloc0(KMODEL_SIZE(k, d));

	SET_VARSIZE(m, KMODEL_SIZE(k, d));
	m->version = KMODEL_VERSION;
	m->k = k;
	m->d = d;
	return m;
}

static void
Reject(int sqlstate, const char *detail)
{
	ereport(ERROR,
			(errcode(sqlstate),
			 errmsg("invalid cxsell.kmodel value"),
			 errdetail("%s", detail),
			 errhint("Build models with cxsell.kmeans() rather than by hand.")));
}

/* Check every field of a model; reject it with `errcode` when inconsistent. */
void
CxKModelValidate(const KModel *m, int sqlstate)
{
	int64		total = 0;
	double		wss = 0.0;
	int32		i;

	if (m->version != KMODEL_VERSION)
		Reject(sqlstate, "The model has an unknown version.");
	if (m->k < 1 || m->k > KMODEL_MAX_K || m->d < 1 || m->d > KMODEL_MAX_D)
		Reject(sqlstate, "The number of clusters or features is out of range.");
	if (VARSIZE(m) != KMODEL_SIZE(m->k, m->d))
		Reject(sqlstate, "The model's size does not match its clusters and features.");
	if ((m->flags & ~(KMODEL_STANDARDIZED | KMODEL_CONVERGED)) != 0 ||
		m->n < m->k || m->iterations < 0 || m->restarts < 1 || m->max_iter < 1 ||
		!(m->tol >= 0.0) || !isfinite(m->tol) || !(m->inertia >= 0.0) || !isfinite(m->inertia))
		Reject(sqlstate, "A model parameter is out of range.");
	for (i = 0; i < 2 * m->d + m->k * m->d + m->k; i++)
		if (!isfinite(m->data[i]))
			Reject(sqlstate, "The model holds a non-finite number.");
	for (i = 0; i < m->d; i++)
		if (!(KM_SCALES(m)[i] > 0.0) ||
			(!(m->flags & KMODEL_STANDARDIZED) &&
			 (KM_MEANS(m)[i] != 0.0 || KM_SCALES(m)[i] != 1.0)))
			Reject(sqlstate, "The standardisation is inconsistent.");
	for (i = 0; i < m->k; i++)
	{
		if (KM_SIZES(m)[i] < 0 || !(KM_WSS(m)[i] >= 0.0))
			Reject(sqlstate, "A cluster size or sum of squares is negative.");
		total += KM_SIZES(m)[i];
		wss += KM_WSS(m)[i];
	}
	if (total != m->n)
		Reject(sqlstate, "The cluster sizes do not add up to the number of points.");
	if (fabs(wss - m->inertia) > 1e-9 * Max(1.0, m->inertia))
		Reject(sqlstate, "The inertia is not the sum of the clusters' sums of squares.");
}

/*
 * Read a feature array for model m, standardised as the model was trained,
 * into buf (d values); returns buf.
 */
static double *
KModelReadFeatures(KModel *m, ArrayType *arr, double *buf)
{
	int32		d;
	const double *v = CxReadFeatures(arr, m->d, &d);
	int32		j;

	for (j = 0; j < m->d; j++)
		buf[j] = (v[j] - KM_MEANS(m)[j]) / KM_SCALES(m)[j];
	return buf;
}

static void
AppendDoubles(StringInfo buf, const double *v, int32 n)
{
	int32		i;

	appendStringInfoChar(buf, '[');
	for (i = 0; i < n; i++)
	{
		char	   *s = float8out_internal(v[i]);

		if (i > 0)
			appendStringInfoString(buf, ", ");
		appendStringInfoString(buf, s);
		pfree(s);
	}
	appendStringInfoChar(buf, ']');
}

/* Text output: a JSON object. */
Datum
kmodel_out(PG_FUNCTION_ARGS)
{
	KModel	   *m = PG_GETARG_KMODEL_P(0);
	StringInfoData buf;
	int32		c;

	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"version\": %d, \"k\": %d, \"features\": %d, \"points\": " INT64_FORMAT,
					 m->version, m->k, m->d, m->n);
	appendStringInfo(&buf, ", \"standardized\": %s, \"seed\": " INT64_FORMAT
					 ", \"restarts\": %d, \"max_iter\": %d, \"tol\": %s",
					 (m->flags & KMODEL_STANDARDIZED) ? "true" : "false",
					 m->seed, m->restarts, m->max_iter, float8out_internal(m->tol));
	appendStringInfo(&buf, ", \"iterations\": %d, \"converged\": %s, \"inertia\": %s",
					 m->iterations, (m->flags & KMODEL_CONVERGED) ? "true" : "false",
					 float8out_internal(m->inertia));
	appendStringInfoString(&buf, ", \"means\": ");
	AppendDoubles(&buf, KM_MEANS(m), m->d);
	appendStringInfoString(&buf, ", \"scales\": ");
	AppendDoubles(&buf, KM_SCALES(m), m->d);
	appendStringInfoString(&buf, ", \"clusters\": [");
	for (c = 0; c < m->k; c++)
	{
		appendStringInfo(&buf, "%s{\"cluster\": %d, \"size\": " INT64_FORMAT ", \"within_ss\": %s, \"centroid\": ",
						 c > 0 ? ", " : "", c + 1, KM_SIZES(m)[c],
						 float8out_internal(KM_WSS(m)[c]));
		AppendDoubles(&buf, KM_CENTROIDS(m) + (Size) c * m->d, m->d);
		appendStringInfoChar(&buf, '}');
	}
	appendStringInfoString(&buf, "]}");
	PG_RETURN_CSTRING(buf.data);
}

/* A JSON value of the model's text form, or NULL when the key is absent. */
static JsonbValue *
Field(JsonbContainer *obj, const char *key)
{
	JsonbValue	k;

	k.type = jbvString;
	k.val.string.val = (char *) key;
	k.val.string.len = strlen(key);
	return findJsonbValueFromContainer(obj, JB_FOBJECT, &k);
}

static double
NumberField(JsonbContainer *obj, const char *key)
{
	JsonbValue *v = Field(obj, key);

	if (v == NULL || v->type != jbvNumeric)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type cxsell.kmodel"),
				 errdetail("The key \"%s\" is missing or not a number.", key)));
	return DatumGetFloat8(DirectFunctionCall1(numeric_float8,
											  NumericGetDatum(v->val.numeric)));
}

static int64
IntField(JsonbContainer *obj, const char *key)
{
	double		v = NumberField(obj, key);

	if (v != floor(v) || fabs(v) > 9.0e15)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type cxsell.kmodel"),
				 errdetail("The key \"%s\" must be an integer.", key)));
	return (int64) v;
}

static bool
BoolField(JsonbContainer *obj, const char *key)
{
	JsonbValue *v = Field(obj, key);

	if (v == NULL || v->type != jbvBool)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type cxsell.kmodel"),
				 errdetail("The key \"%s\" is missing or not a boolean.", key)));
	return v->val.boolean;
}

/* Insist that a JSON value (from a container) is an array of n elements. */
static void
RequireArray(JsonbValue *v, const char *key, int32 n, const char *what)
{
	if (v == NULL || v->type != jbvBinary || !JsonContainerIsArray(v->val.binary.data) ||
		JsonContainerSize(v->val.binary.data) != (uint32) n)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type cxsell.kmodel"),
				 errdetail("The key \"%s\" must be an array of %d %s.", key, n, what)));
}

/* Read a JSON array of n numbers (from a container value) into out. */
static void
ArrayField(JsonbValue *v, const char *key, int32 n, double *out)
{
	JsonbIterator *it;
	JsonbValue	elem;
	JsonbIteratorToken tok;
	int32		i = 0;

	RequireArray(v, key, n, "numbers");
	it = JsonbIteratorInit(v->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &elem, true)) != WJB_DONE)
	{
		if (tok != WJB_ELEM)
			continue;
		if (elem.type != jbvNumeric)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid input syntax for type cxsell.kmodel"),
					 errdetail("The key \"%s\" must hold numbers only.", key)));
		out[i++] = DatumGetFloat8(DirectFunctionCall1(numeric_float8,
													  NumericGetDatum(elem.val.numeric)));
	}
}

/* Text input: the JSON object of kmodel_out, validated in full. */
Datum
kmodel_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	Jsonb	   *jb = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(str)));
	JsonbContainer *obj = &jb->root;
	KModel	   *m;
	int64		k;
	int64		d;
	JsonbValue *clusters;
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	int32		c = 0;

	if (!JB_ROOT_IS_OBJECT(jb))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type cxsell.kmodel"),
				 errdetail("The text form is a JSON object.")));
	k = IntField(obj, "k");
	d = IntField(obj, "features");
	if (k < 1 || k > KMODEL_MAX_K || d < 1 || d > KMODEL_MAX_D ||
		KMODEL_SIZE(k, d) > MaxAllocSize)
		Reject(ERRCODE_INVALID_TEXT_REPRESENTATION,
			   "The number of clusters or features is out of range.");
	/* the text must hold what k and d promise before memory is set aside */
	clusters = Field(obj, "clusters");
	RequireArray(Field(obj, "means"), "means", (int32) d, "numbers");
	RequireArray(clusters, "clusters", (int32) k, "objects");
	m = KModelCreate((int32) k, (int32) d);
	m->version = (int32) IntField(obj, "version");
	m->n = IntField(obj, "points");
	m->flags = (BoolField(obj, "standardized") ? KMODEL_STANDARDIZED : 0) |
		(BoolField(obj, "converged") ? KMODEL_CONVERGED : 0);
	m->seed = IntField(obj, "seed");
	m->restarts = (int32) Min(Max(IntField(obj, "restarts"), -1), PG_INT32_MAX);
	m->max_iter = (int32) Min(Max(IntField(obj, "max_iter"), -1), PG_INT32_MAX);
	m->iterations = (int32) Min(Max(IntField(obj, "iterations"), -1), PG_INT32_MAX);
	m->tol = NumberField(obj, "tol");
	m->inertia = NumberField(obj, "inertia");
	ArrayField(Field(obj, "means"), "means", m->d, KM_MEANS(m));
	ArrayField(Field(obj, "scales"), "scales", m->d, KM_SCALES(m));

	it = JsonbIteratorInit(clusters->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		JsonbContainer *cl;

		if (tok != WJB_ELEM)
			continue;
		if (v.type != jbvBinary || !JsonContainerIsObject(v.val.binary.data))
			Reject(ERRCODE_INVALID_TEXT_REPRESENTATION,
				   "Each cluster must be a JSON object.");
		cl = v.val.binary.data;
		if (IntField(cl, "cluster") != c + 1)
			Reject(ERRCODE_INVALID_TEXT_REPRESENTATION,
				   "The clusters must be numbered 1..k in order.");
		KM_SIZES(m)[c] = IntField(cl, "size");
		KM_WSS(m)[c] = NumberField(cl, "within_ss");
		ArrayField(Field(cl, "centroid"), "centroid", m->d,
				   KM_CENTROIDS(m) + (Size) c * m->d);
		c++;
	}
	CxKModelValidate(m, ERRCODE_INVALID_TEXT_REPRESENTATION);
	PG_RETURN_POINTER(m);
}

/* Binary output: the fields in a fixed order, big-endian. */
Datum
kmodel_send(PG_FUNCTION_ARGS)
{
	KModel	   *m = PG_GETARG_KMODEL_P(0);
	StringInfoData buf;
	int32		i;

	pq_begintypsend(&buf);
	pq_sendint32(&buf, m->version);
	pq_sendint32(&buf, m->k);
	pq_sendint32(&buf, m->d);
	pq_sendint64(&buf, m->n);
	pq_sendint32(&buf, m->flags);
	pq_sendint32(&buf, m->iterations);
	pq_sendint32(&buf, m->restarts);
	pq_sendint32(&buf, m->max_iter);
	pq_sendint64(&buf, m->seed);
	pq_sendfloat8(&buf, m->tol);
	pq_sendfloat8(&buf, m->inertia);
	for (i = 0; i < 2 * m->d + m->k * m->d + m->k; i++)
		pq_sendfloat8(&buf, m->data[i]);
	for (i = 0; i < m->k; i++)
		pq_sendint64(&buf, KM_SIZES(m)[i]);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* Binary input, validated in full. */
Datum
kmodel_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int32		version = pq_getmsgint(buf, 4);
	int32		k = pq_getmsgint(buf, 4);
	int32		d = pq_getmsgint(buf, 4);
	KModel	   *m;
	int32		i;

	if (k < 1 || k > KMODEL_MAX_K || d < 1 || d > KMODEL_MAX_D ||
		KMODEL_SIZE(k, d) > MaxAllocSize ||
		(Size) (buf->len - buf->cursor) != KMODEL_SIZE(k, d) - offsetof(KModel, n))
		Reject(ERRCODE_INVALID_BINARY_REPRESENTATION,
			   "The number of clusters or features does not match the bytes present.");
	m = KModelCreate(k, d);
	m->version = version;
	m->n = pq_getmsgint64(buf);
	m->flags = pq_getmsgint(buf, 4);
	m->iterations = pq_getmsgint(buf, 4);
	m->restarts = pq_getmsgint(buf, 4);
	m->max_iter = pq_getmsgint(buf, 4);
	m->seed = pq_getmsgint64(buf);
	m->tol = pq_getmsgfloat8(buf);
	m->inertia = pq_getmsgfloat8(buf);
	for (i = 0; i < 2 * d + k * d + k; i++)
		m->data[i] = pq_getmsgfloat8(buf);
	for (i = 0; i < k; i++)
		KM_SIZES(m)[i] = pq_getmsgint64(buf);
	CxKModelValidate(m, ERRCODE_INVALID_BINARY_REPRESENTATION);
	PG_RETURN_POINTER(m);
}

/* A model ready for assigning points: its centres in the clustering space. */
typedef struct ModelView
{
	KModel	   *m;
	double	   *centres;		/* k x d, standardised as the model was trained */
} ModelView;

/* Copy a detoasted model into `cxt` with its centres standardised (a CxDecodeFn). */
static void *
DecodeModel(Datum d, MemoryContext cxt)
{
	KModel	   *src = (KModel *) DatumGetPointer(d);
	ModelView  *v = MemoryContextAlloc(cxt, sizeof(ModelView));
	KModel	   *m = MemoryContextAlloc(cxt, VARSIZE(src));
	int32		c;
	int32		j;

	memcpy(m, src, VARSIZE(src));
	v->m = m;
	v->centres = MemoryContextAlloc(cxt, (Size) m->k * m->d * sizeof(double));
	for (c = 0; c < m->k; c++)
	{
		const double *cen = KM_CENTROIDS(m) + (Size) c * m->d;

		for (j = 0; j < m->d; j++)
			v->centres[(Size) c * m->d + j] = (cen[j] - KM_MEANS(m)[j]) / KM_SCALES(m)[j];
	}
	return v;
}

/*
 * The model argument, decoded once per call site: cluster() applied to every
 * row with one stored model reads it once (see datum_cache.c).
 */
static ModelView *
ModelArg(FunctionCallInfo fcinfo)
{
	return (ModelView *) CxCachedDecode(fcinfo->flinfo, PG_GETARG_DATUM(0), DecodeModel);
}

/* cxsell.cluster(model, features): the number (1..k) of the nearest cluster. */
Datum
kmodel_cluster(PG_FUNCTION_ARGS)
{
	ModelView  *v = ModelArg(fcinfo);
	double	   *z = palloc(v->m->d * sizeof(double));
	double		dist2;

	KModelReadFeatures(v->m, PG_GETARG_ARRAYTYPE_P(1), z);
	PG_RETURN_INT32(CxNearest(z, v->centres, v->m->k, v->m->d, &dist2) + 1);
}

/*
 * cxsell.cluster_distance(model, features): Euclidean distance to the
 * nearest cluster centre, in the space the model clustered in.
 */
Datum
kmodel_cluster_distance(PG_FUNCTION_ARGS)
{
	ModelView  *v = ModelArg(fcinfo);
	double	   *z = palloc(v->m->d * sizeof(double));
	double		dist2;

	KModelReadFeatures(v->m, PG_GETARG_ARRAYTYPE_P(1), z);
	(void) CxNearest(z, v->centres, v->m->k, v->m->d, &dist2);
	PG_RETURN_FLOAT8(sqrt(dist2));
}

/* cxsell.centroids(model): one row per cluster. */
Datum
kmodel_centroids(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Tuplestorestate *store = CxMaterializeSRF(fcinfo, &tupdesc);
	KModel	   *m = PG_GETARG_KMODEL_P(0);
	int32		c;

	for (c = 0; c < m->k; c++)
	{
		Datum		values[4];
		bool		nulls[4] = {0};

		values[0] = Int32GetDatum(c + 1);
		values[1] = Int64GetDatum(KM_SIZES(m)[c]);
		values[2] = CxFloat8Array(KM_CENTROIDS(m) + (Size) c * m->d, m->d);
		values[3] = Float8GetDatum(KM_WSS(m)[c]);
		tuplestore_putvalues(store, tupdesc, values, nulls);
	}
	return (Datum) 0;
}

/* cxsell.summary(model): one row describing a model. */
Datum
kmodel_summary(PG_FUNCTION_ARGS)
{
	KModel	   *m = PG_GETARG_KMODEL_P(0);
	Datum		values[9];
	bool		nulls[9] = {0};

	values[0] = Int32GetDatum(m->k);
	values[1] = Int32GetDatum(m->d);
	values[2] = Int64GetDatum(m->n);
	values[3] = Float8GetDatum(m->inertia);
	values[4] = Int32GetDatum(m->iterations);
	values[5] = BoolGetDatum((m->flags & KMODEL_CONVERGED) != 0);
	values[6] = BoolGetDatum((m->flags & KMODEL_STANDARDIZED) != 0);
	values[7] = Int64GetDatum(m->seed);
	values[8] = Int32GetDatum(m->restarts);
	PG_RETURN_DATUM(CxResultRow(fcinfo, values, nulls));
}

/* cxsell.standardize(model, features): the features as the model sees them. */
Datum
kmodel_standardize(PG_FUNCTION_ARGS)
{
	ModelView  *v = ModelArg(fcinfo);
	double	   *z = palloc(v->m->d * sizeof(double));

	KModelReadFeatures(v->m, PG_GETARG_ARRAYTYPE_P(1), z);
	PG_RETURN_DATUM(CxFloat8Array(z, v->m->d));
}
