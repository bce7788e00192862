/*
 * kmeans.c
 *		k-means clustering of points held in memory.
 *
 * Seeding is greedy k-means++ (D. Arthur and S. Vassilvitskii, "k-means++:
 * The Advantages of Careful Seeding", SODA 2007): each new centre is the best
 * of 2 + floor(ln k) candidates drawn with probability proportional to the
 * squared distance to the nearest centre so far.  Lloyd iterations follow
 * until the total squared centre shift falls to tol times the mean feature
 * variance, or max_iter is reached; a final assignment makes the labels
 * match the centres (Hamerly's bounds skip the distances that cannot change
 * an assignment; the result is the same).  A cluster left empty is re-seeded with the point
 * farthest from its centre.  Of several restarts the lowest inertia wins.
 * Everything is deterministic for a given seed and point order.
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"

#include "cxsell.h"
#include "kmeans.h"

/* The most candidates greedy seeding tries per centre. */
#define MAX_TRIALS 32

/* Seed the generator. */
void
CxRandomSeed(CxRandom *r, uint64 seed)
{
	r->state = seed ^ UINT64CONST(0x5851F42D4C957F2D);
}

/* Next 64 random bits (splitmix64). */
uint64
CxRandomNext(CxRandom *r)
{
	return CxMix64(r->state += UINT64CONST(0x9E3779B97F4A7C15));
}

/* A uniform double in [0, 1). */
static double
CxRandomDouble(CxRandom *r)
{
	return (double) (CxRandomNext(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* Bytes CxKmeansRun allocates for n points of d features and k clusters. */
Size
CxKmeansWorkMemory(int64 n, int32 d, int32 k)
{
	return (Size) n * (sizeof(int32) * 2 + sizeof(double) * 5 + sizeof(int64) * 2) +
		(Size) k * d * sizeof(double) * 5 + (Size) k * (sizeof(int64) + sizeof(double)) * 4 +
		(Size) k * (MAX_TRIALS + 1) * sizeof(double);
}

/* Index of the point whose cumulative weight first exceeds target. */
static int64
Pick(const double *cum, int64 n, double target)
{
	int64		lo = 0;
	int64		hi = n - 1;

	while (lo < hi)
	{
		int64		mid = lo + (hi - lo) / 2;

		if (cum[mid] <= target)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * The margin of the triangle-inequality tests (seeding, Hamerly's bounds):
 * relative to the magnitudes compared, 1e-9 and, for the rounding of a
 * squared distance over d features, 4d units of 2^-53; absolute, 1e-150,
 * for squares that underflow (the absolute error of a square of d terms is
 * at most d * 2^-1074, whose root stays far below 1e-150).
 */
#define BOUND_REL(d) (1e-9 + 4.5e-16 * (double) (d))
#define BOUND_ABS 1e-150

/*
 * Greedy k-means++ seeding into centroids; mind (n) ends as D^2.  All
 * candidates for a centre are scored in one pass over the points, and the
 * cumulative D^2 for the next draw is built in the pass that updates D^2.
 *
 * near[i] is the centre that gave point i its D^2.  A candidate at least
 * 2 D(i) from that centre is at least D(i) from the point (triangle
 * inequality), so it cannot lower the point's D^2 and its distance is not
 * computed; with a margin (BOUND_REL, BOUND_ABS) the sums are those of
 * computing it.
 */
static void
Seed(const double *x, int64 n, int32 d, int32 k, CxRandom *rng,
	 double *centroids, double *mind, double *cum, int32 *near)
{
	int32		ntrials = Min(2 + (int32) floor(log((double) k)), MAX_TRIALS);
	int64		first = (int64) (CxRandomDouble(rng) * (double) n);
	double	   *gap = MemoryContextAllocHuge(CurrentMemoryContext,
											 (Size) (MAX_TRIALS + 1) * k * sizeof(double));
	double		rel = BOUND_REL(d);
	double		pot = 0.0;
	int64		i;
	int32		c;

	if (first >= n)
		first = n - 1;
	memcpy(centroids, x + first * d, d * sizeof(double));
	for (i = 0; i < n; i++)
	{
		mind[i] = CxSquaredDistance(x + i * d, centroids, d);
		near[i] = 0;
		pot += mind[i];
		cum[i] = pot;
	}

	for (c = 1; c < k; c++)
	{
		int64		cand[MAX_TRIALS] = {0};
		double		tpot[MAX_TRIALS];
		int64		best = 0;
		const double *bp;
		int32		t;
		int32		e;

		CHECK_FOR_INTERRUPTS();
		for (t = 0; t < ntrials; t++)
		{
			/* all points at distance 0: any point will do */
			cand[t] = (pot > 0.0) ? Pick(cum, n, CxRandomDouble(rng) * pot)
				: (int64) (CxRandomDouble(rng) * (double) n);
			if (cand[t] >= n)
				cand[t] = n - 1;
			tpot[t] = 0.0;
			for (e = 0; e < c; e++)
				gap[(Size) t * k + e] = sqrt(CxSquaredDistance(x + cand[t] * d,
															   centroids + (Size) e * d, d));
		}
		for (i = 0; i < n; i++)
		{
			const double *p = x + i * d;
			double		lim = 2.0 * sqrt(mind[i]) * (1.0 + rel) + BOUND_ABS;

			for (t = 0; t < ntrials; t++)
			{
				if (gap[(Size) t * k + near[i]] > lim)
					tpot[t] += mind[i];
				else
				{
					double		dd = CxSquaredDistance(p, x + cand[t] * d, d);

					tpot[t] += Min(dd, mind[i]);
				}
			}
		}
		for (t = 1; t < ntrials; t++)
			if (tpot[t] < tpot[best])
				best = t;
		bp = x + cand[best] * d;
		memcpy(centroids + (Size) c * d, bp, d * sizeof(double));
		pot = 0.0;
		for (i = 0; i < n; i++)
		{
			if (gap[(Size) best * k + near[i]] <= 2.0 * sqrt(mind[i]) * (1.0 + rel) + BOUND_ABS)
			{
				double		dd = CxSquaredDistance(x + i * d, bp, d);

				if (dd < mind[i])
				{
					mind[i] = dd;
					near[i] = c;
				}
			}
			pot += mind[i];
			cum[i] = pot;
		}
	}
	pfree(gap);
}

/*
 * Hamerly's bounds (G. Hamerly, "Making k-means even faster", SDM 2010): per
 * point a lower bound on its distance to every centre but its own, lowered
 * by the centres' moves since it was computed (drift); per centre half the
 * distance to the nearest other centre.  A point whose distance to its own
 * centre stays below either keeps its centre, and only that distance is
 * computed.  The tests keep a margin (BOUND_REL, BOUND_ABS) far above the
 * rounding of the distances and of the bound updates, so a point keeps its centre only
 * where a scan of all centres would keep it: labels, distances and results
 * are those of plain Lloyd iterations.
 */
typedef struct Bounds
{
	double	   *lower;			/* per point */
	double	   *drift;			/* per point: decrease of lower since exact */
	double	   *half;			/* per centre */
	double	   *moved;			/* per centre: its move in the last update */
	double	   *prev;			/* centres before the last update */
	bool		valid;			/* false: every point needs a full scan */
} Bounds;

/* Half the distance from each centre to the nearest other one. */
static void
HalfGaps(const double *centroids, int32 k, int32 d, double *half)
{
	int32		a;
	int32		b;

	for (a = 0; a < k; a++)
		half[a] = INFINITY;
	for (a = 0; a < k; a++)
	{
		CHECK_FOR_INTERRUPTS();
		for (b = a + 1; b < k; b++)
		{
			double		g = 0.5 * sqrt(CxSquaredDistance(centroids + (Size) a * d,
														 centroids + (Size) b * d, d));

			half[a] = Min(half[a], g);
			half[b] = Min(half[b], g);
		}
	}
}

/*
 * The nearest centre to x (lowest number on ties), its squared distance, and
 * the squared distance to the second nearest.
 */
static int32
Scan(const double *x, const double *centroids, int32 k, int32 d,
	 double *best2, double *second2)
{
	int32		best = 0;
	double		bestd = CxSquaredDistance(x, centroids, d);
	double		second = INFINITY;
	int32		c;

	for (c = 1; c < k; c++)
	{
		double		dd = CxSquaredDistance(x, centroids + (Size) c * d, d);

		if (dd < bestd)
		{
			second = bestd;
			bestd = dd;
			best = c;
		}
		else if (dd < second)
			second = dd;
	}
	*best2 = bestd;
	*second2 = second;
	return best;
}

/* The nearest centroid to x (lowest number on ties) and its squared distance. */
int32
CxNearest(const double *x, const double *centroids, int32 k, int32 d,
		  double *dist2)
{
	double		best2;
	double		second2;
	int32		best = Scan(x, centroids, k, d, &best2, &second2);

	if (dist2)
		*dist2 = best2;
	return best;
}

/*
 * Assign every point to its nearest centroid; return the inertia.  labels
 * and dist (squared distance to the assigned centroid) are filled.  With
 * valid bounds, labels hold the last assignment and the centres have moved
 * by bd->moved since.
 */
static double
Assign(const double *x, int64 n, int32 d, int32 k, const double *centroids,
	   int32 *labels, double *dist, Bounds *bd)
{
	double		inertia = 0.0;
	double		move1 = 0.0;	/* the largest move of a centre */
	double		move2 = 0.0;	/* the largest of the others */
	int32		far = -1;		/* the centre that moved most */
	int64		i;
	int32		c;

	if (bd->valid)
	{
		HalfGaps(centroids, k, d, bd->half);
		for (c = 0; c < k; c++)
		{
			if (bd->moved[c] > move1)
			{
				move2 = move1;
				move1 = bd->moved[c];
				far = c;
			}
			else if (bd->moved[c] > move2)
				move2 = bd->moved[c];
		}
	}
	for (i = 0; i < n; i++)
	{
		const double *p = x + i * d;
		double		best2;
		double		second2;

		if ((i & 65535) == 0)
			CHECK_FOR_INTERRUPTS();
		if (bd->valid)
		{
			int32		a = labels[i];
			double		down = (a == far) ? move2 : move1;
			double		d2 = CxSquaredDistance(p, centroids + (Size) a * d, d);
			double		u = sqrt(d2);
			double		lower = bd->lower[i] - down;
			double		margin;

			bd->lower[i] = lower;
			bd->drift[i] += down;
			margin = BOUND_REL(d) * (u + fabs(lower) + bd->drift[i] + bd->half[a]) + BOUND_ABS;
			if (u + margin < Max(lower, bd->half[a]))
			{
				dist[i] = d2;
				inertia += d2;
				continue;
			}
		}
		labels[i] = Scan(p, centroids, k, d, &best2, &second2);
		dist[i] = best2;
		bd->lower[i] = sqrt(second2);
		bd->drift[i] = 0.0;
		inertia += best2;
	}
	bd->valid = true;
	return inertia;
}

/* Record the centres' moves since `bd->prev` for the next Assign. */
static void
Moved(const double *centroids, int32 k, int32 d, Bounds *bd)
{
	int32		c;

	for (c = 0; c < k; c++)
		bd->moved[c] = sqrt(CxSquaredDistance(bd->prev + (Size) c * d,
											  centroids + (Size) c * d, d));
}

/*
 * Move each centroid to the mean of its points; an empty cluster takes the
 * point farthest from its centroid.  Returns the total squared shift; the
 * centres before it are kept in bd->prev.
 */
static double
Update(const double *x, int64 n, int32 d, int32 k, double *centroids,
	   int32 *labels, double *dist, double *sums, int64 *counts, Bounds *bd)
{
	double		shift = 0.0;
	int64		i;
	int32		c;

	memcpy(bd->prev, centroids, (Size) k * d * sizeof(double));
	memset(sums, 0, (Size) k * d * sizeof(double));
	memset(counts, 0, k * sizeof(int64));
	for (i = 0; i < n; i++)
	{
		double	   *s = sums + (Size) labels[i] * d;
		const double *p = x + i * d;
		int32		j;

		if ((i & 65535) == 0)
			CHECK_FOR_INTERRUPTS();
		Assert(labels[i] >= 0 && labels[i] < k);

		for (j = 0; j < d; j++)
			s[j] += p[j];
		counts[labels[i]]++;
	}
	for (c = 0; c < k; c++)
	{
		if (counts[c] == 0)
		{
			/* re-seed with the point farthest from its centroid */
			int64		far = 0;
			int32		old;
			int32		j;

			for (i = 1; i < n; i++)
				if (dist[i] > dist[far])
					far = i;
			old = labels[far];
			for (j = 0; j < d; j++)
			{
				sums[(Size) old * d + j] -= x[far * d + j];
				sums[(Size) c * d + j] = x[far * d + j];
			}
			counts[old]--;
			counts[c] = 1;
			labels[far] = c;
			dist[far] = 0.0;
			/* its bound was for another centre: nothing is known */
			bd->lower[far] = 0.0;
		}
	}
	for (c = 0; c < k; c++)
	{
		double	   *cen = centroids + (Size) c * d;
		int32		j;

		if (counts[c] == 0)
			continue;			/* emptied by a re-seed: keep where it was */
		for (j = 0; j < d; j++)
		{
			double		v = sums[(Size) c * d + j] / (double) counts[c];

			shift += (v - cen[j]) * (v - cen[j]);
			cen[j] = v;
		}
	}
	return shift;
}

/*
 * Cluster n points of d features (row-major in x) into params->k clusters.
 * res->centroids, sizes and wss must have room for k (x d) values.
 */
void
CxKmeansRun(const double *x, int64 n, int32 d, const CxKmeansParams *params,
			CxKmeansResult *res)
{
	int32		k = params->k;
	double	   *centroids = palloc((Size) k * d * sizeof(double));
	double	   *sums = palloc((Size) k * d * sizeof(double));
	int64	   *counts = palloc(k * sizeof(int64));
	int32	   *labels = MemoryContextAllocHuge(CurrentMemoryContext, Max(n, 1) * sizeof(int32));
	double	   *dist = MemoryContextAllocHuge(CurrentMemoryContext, Max(n, 1) * sizeof(double));
	double	   *cum = MemoryContextAllocHuge(CurrentMemoryContext, Max(n, 1) * sizeof(double));
	Bounds		bd;
	double		tol_abs;
	double		var_sum = 0.0;
	int32		run;
	int32		j;
	int64		i;

	/* the caller has checked k against the points, and the features */
	Assert(k >= 1 && (int64) k <= n && d >= 1);
	bd.lower = MemoryContextAllocHuge(CurrentMemoryContext, Max(n, 1) * sizeof(double));
	bd.drift = MemoryContextAllocHuge(CurrentMemoryContext, Max(n, 1) * sizeof(double));
	bd.half = palloc(k * sizeof(double));
	bd.moved = palloc(k * sizeof(double));
	bd.prev = palloc((Size) k * d * sizeof(double));

	/* tolerance relative to the mean variance of the features */
	for (j = 0; j < d; j++)
	{
		double		mean = 0.0;
		double		ss = 0.0;

		CHECK_FOR_INTERRUPTS();
		for (i = 0; i < n; i++)
			mean += x[i * d + j];
		mean /= (double) n;
		for (i = 0; i < n; i++)
			ss += (x[i * d + j] - mean) * (x[i * d + j] - mean);
		var_sum += ss / (double) n;
	}
	tol_abs = params->tol * var_sum / (double) d;

	res->inertia = -1.0;
	for (run = 0; run < params->restarts; run++)
	{
		CxRandom	rng;
		int32		iter;
		bool		converged = false;
		double		inertia;

		CxRandomSeed(&rng, (uint64) params->seed * UINT64CONST(1000003) + (uint64) run);
		/* labels serve the seeding as each point's nearest centre */
		Seed(x, n, d, k, &rng, centroids, dist, cum, labels);
		bd.valid = false;
		for (iter = 1; iter <= params->max_iter; iter++)
		{
			double		shift;

			CHECK_FOR_INTERRUPTS();
			Assign(x, n, d, k, centroids, labels, dist, &bd);
			shift = Update(x, n, d, k, centroids, labels, dist, sums, counts, &bd);
			Moved(centroids, k, d, &bd);
			if (shift <= tol_abs)
			{
				converged = true;
				break;
			}
		}
		if (iter > params->max_iter)
			iter = params->max_iter;
		/* final assignment so that labels and inertia match the centroids */
		inertia = Assign(x, n, d, k, centroids, labels, dist, &bd);
		if (res->inertia < 0.0 || inertia < res->inertia)
		{
			res->inertia = inertia;
			res->iterations = iter;
			res->converged = converged;
			memcpy(res->centroids, centroids, (Size) k * d * sizeof(double));
			memset(res->sizes, 0, k * sizeof(int64));
			memset(res->wss, 0, k * sizeof(double));
			for (i = 0; i < n; i++)
			{
				Assert(labels[i] >= 0 && labels[i] < k);
				res->sizes[labels[i]]++;
				res->wss[labels[i]] += dist[i];
			}
			if (res->labels)
				memcpy(res->labels, labels, n * sizeof(int32));
		}
	}
	pfree(centroids);
	pfree(sums);
	pfree(counts);
	pfree(labels);
	pfree(dist);
	pfree(cum);
	pfree(bd.lower);
	pfree(bd.drift);
	pfree(bd.half);
	pfree(bd.moved);
	pfree(bd.prev);
}
