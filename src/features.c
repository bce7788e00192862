/*
 * features.c
 *		Reading feature vectors (float8[]) with cxsell's input rules.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "utils/array.h"

#include "cxsell.h"

/*
 * Check a feature array and return a pointer to its d values: it must be a
 * one-dimensional float8[] of `expect` elements (any length > 0 when expect
 * is 0) with no NULL and no NaN or infinite value.  *d receives the length.
 */
const double *
CxReadFeatures(ArrayType *arr, int32 expect, int32 *d)
{
	int			nelems;
	const double *v;
	int			i;

	if (ARR_ELEMTYPE(arr) != FLOAT8OID)
		elog(ERROR, "feature array must be of type double precision[]");
	nelems = ArrayGetNItems(ARR_NDIM(arr), ARR_DIMS(arr));
	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("feature array must have one dimension, not %d", ARR_NDIM(arr)),
				 errhint("Pass one float8[] of features per row.")));
	if (nelems == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("feature array must not be empty"),
				 errhint("Pass at least one feature per row; skip rows without features with a NULL array.")));
	if (expect > 0 && nelems != expect)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("feature array has %d elements, expected %d", nelems, expect),
				 errhint("Every row must have the same number of features in the same order.")));
	if (ARR_HASNULL(arr))
	{
		bits8	   *bitmap = ARR_NULLBITMAP(arr);

		for (i = 0; i < nelems; i++)
			if (!(bitmap[i / 8] & (1 << (i % 8))))
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("feature %d is NULL", i + 1),
						 errhint("Impute missing features (for example with coalesce) or leave such rows out.")));
	}
	v = (const double *) ARR_DATA_PTR(arr);
	for (i = 0; i < nelems; i++)
		if (!isfinite(v[i]))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("feature %d is %s", i + 1, isnan(v[i]) ? "NaN" : "infinite"),
					 errhint("Impute or leave out rows with non-finite features.")));
	*d = nelems;
	return v;
}
