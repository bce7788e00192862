/*
 * kmodel.h
 *		The cxsell.kmodel type: a fitted k-means model.
 */
#ifndef CXSELL_KMODEL_H
#define CXSELL_KMODEL_H

#include "postgres.h"

#include "fmgr.h"

#define KMODEL_VERSION 1
#define KMODEL_STANDARDIZED 1
#define KMODEL_CONVERGED 2

/*
 * Stored as a varlena with native doubles, followed by
 *	means[d], scales[d]		the standardisation (0 and 1 when off)
 *	centroids[k * d]		cluster centres in original units
 *	wss[k]					within-cluster sums of squares (clustering space)
 *	sizes[k]				(int64) points per cluster
 * Clusters are numbered 1..k by size, largest first.
 */
typedef struct KModel
{
	int32		vl_len_;
	int32		version;
	int32		k;
	int32		d;
	int64		n;
	int32		flags;
	int32		iterations;
	int32		restarts;
	int32		max_iter;
	int64		seed;
	double		tol;
	double		inertia;
	double		data[FLEXIBLE_ARRAY_MEMBER];
} KModel;

#define KMODEL_SIZE(k, d) \
	(offsetof(KModel, data) + sizeof(double) * ((Size) 2 * (d) + (Size) (k) * (d) + 2 * (Size) (k)))
#define KM_MEANS(m)		((m)->data)
#define KM_SCALES(m)	((m)->data + (m)->d)
#define KM_CENTROIDS(m) ((m)->data + 2 * (m)->d)
#define KM_WSS(m)		((m)->data + 2 * (m)->d + (Size) (m)->k * (m)->d)
#define KM_SIZES(m)		((int64 *) (KM_WSS(m) + (m)->k))

#define DatumGetKModelP(X)		((KModel *) PG_DETOAST_DATUM(X))
#define PG_GETARG_KMODEL_P(n)	DatumGetKModelP(PG_GETARG_DATUM(n))

extern KModel *KModelCreate(int32 k, int32 d);
extern void CxKModelValidate(const KModel *m, int sqlstate);

#endif							/* CXSELL_KMODEL_H */
