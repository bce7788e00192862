/*
 * silhouette.c
 *		Mean silhouette coefficient of a clustering (P. J. Rousseeuw,
 *		"Silhouettes: a graphical aid to the interpretation and validation of
 *		cluster analysis", J. Comput. Appl. Math. 20, 1987).
 *
 * For point i in cluster A, a(i) is its mean distance to the other points of
 * A and b(i) the smallest mean distance to the points of another cluster;
 * s(i) = (b - a) / max(a, b), and 0 for a point alone in its cluster.  The
 * cost is quadratic, so above max_points points the mean is taken over a
 * seeded sample of max_points points (distances within the sample, as
 * scikit-learn's silhouette_score with sample_size does).
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"
#include "utils/float.h"

#include "cxsell.h"
#include "kmeans.h"

/*
 * The mean silhouette of n points (row-major, d features) labelled 0..k-1;
 * NaN when fewer than two clusters are present.
 */
double
CxSilhouette(const double *x, const int32 *labels, int64 n, int32 d, int32 k,
			 int64 max_points, uint64 seed)
{
	int64		m = Min(n, max_points);
	int64	   *idx = MemoryContextAllocHuge(CurrentMemoryContext, Max(n, 1) * sizeof(int64));
	int64	   *count = palloc0(k * sizeof(int64));
	double	   *sum = palloc(k * sizeof(double));
	int32		present = 0;
	double		total = 0.0;
	int64		i;
	int64		j;
	int32		c;

	/* a seeded sample without replacement: a partial Fisher-Yates shuffle */
	for (i = 0; i < n; i++)
		idx[i] = i;
	if (m < n)
	{
		CxRandom	rng;

		CxRandomSeed(&rng, seed);
		for (i = 0; i < m; i++)
		{
			int64		r = i + (int64) (CxRandomNext(&rng) % (uint64) (n - i));
			int64		t = idx[i];

			idx[i] = idx[r];
			idx[r] = t;
		}
	}
	for (i = 0; i < m; i++)
		count[labels[idx[i]]]++;
	for (c = 0; c < k; c++)
		if (count[c] > 0)
			present++;
	if (present < 2)
	{
		pfree(idx);
		pfree(count);
		pfree(sum);
		return get_float8_nan();
	}

	for (i = 0; i < m; i++)
	{
		const double *p = x + idx[i] * d;
		int32		own = labels[idx[i]];
		double		a;
		double		b = -1.0;

		if ((i & 255) == 0)
			CHECK_FOR_INTERRUPTS();
		memset(sum, 0, k * sizeof(double));
		for (j = 0; j < m; j++)
			if (j != i)
				sum[labels[idx[j]]] += sqrt(CxSquaredDistance(p, x + idx[j] * d, d));
		if (count[own] <= 1)
			continue;			/* s(i) = 0 */
		a = sum[own] / (double) (count[own] - 1);
		for (c = 0; c < k; c++)
		{
			double		mean;

			if (c == own || count[c] == 0)
				continue;
			mean = sum[c] / (double) count[c];
			if (b < 0.0 || mean < b)
				b = mean;
		}
		if (Max(a, b) > 0.0)
			total += (b - a) / Max(a, b);
	}
	pfree(idx);
	pfree(count);
	pfree(sum);
	return total / (double) m;
}
