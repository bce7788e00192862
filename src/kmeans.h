/*
 * kmeans.h
 *		k-means clustering (k-means++ seeding, Lloyd iterations, restarts).
 */
#ifndef CXSELL_KMEANS_H
#define CXSELL_KMEANS_H

#include "postgres.h"

#include "utils/jsonb.h"

#include "kmodel.h"

typedef struct CxKmeansParams
{
	int32		k;
	int64		seed;
	int32		restarts;
	int32		max_iter;
	double		tol;			/* relative to the mean feature variance */
	bool		standardize;
} CxKmeansParams;

typedef struct CxKmeansResult
{
	double	   *centroids;		/* k x d, in the space clustered */
	int64	   *sizes;
	double	   *wss;			/* within-cluster sum of squares */
	double		inertia;
	int32		iterations;
	bool		converged;
	int32	   *labels;			/* if not NULL: n labels (0..k-1) of the best run */
} CxKmeansResult;

/* a small deterministic PRNG (splitmix64) */
typedef struct CxRandom
{
	uint64		state;
} CxRandom;

extern void CxRandomSeed(CxRandom *r, uint64 seed);
extern uint64 CxRandomNext(CxRandom *r);

extern Size CxKmeansWorkMemory(int64 n, int32 d, int32 k);
extern void CxKmeansRun(const double *x, int64 n, int32 d,
						const CxKmeansParams *params, CxKmeansResult *res);

/* The squared Euclidean distance of two points of d features. */
static inline double
CxSquaredDistance(const double *a, const double *b, int32 d)
{
	double		s = 0.0;
	int32		j;

	for (j = 0; j < d; j++)
	{
		double		t = a[j] - b[j];

		s += t * t;
	}
	return s;
}

extern double CxSilhouette(const double *x, const int32 *labels, int64 n,
						   int32 d, int32 k, int64 max_points, uint64 seed);
extern int32 CxNearest(const double *x, const double *centroids, int32 k,
					   int32 d, double *dist2);

/* kmeans_agg.c: what cxsell.kmeans and cxsell.kmeans_distributed share */
extern void CxKmeansCheckK(int32 k);
extern int	CxCompareRows(const void *a, const void *b, void *arg);
extern void CxKmeansParseOptions(Jsonb *opts, CxKmeansParams *p);
extern KModel *CxKModelBuild(const CxKmeansResult *res, int32 k, int32 d, int64 n,
							 const double *mean, const double *scale,
							 const CxKmeansParams *params);

#endif							/* CXSELL_KMEANS_H */
