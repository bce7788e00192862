/*
 * eclat.h
 *		The miners behind CxMine: tid lists with occurrence delivery
 *		(eclat.c) for sparse data, bit sets (eclat_dense.c) for dense data.
 */
#ifndef CXSELL_ECLAT_H
#define CXSELL_ECLAT_H

#include "mine_out.h"

extern bool CxDenseSuits(const CxMineInput *in);
extern void CxMineDense(const CxMineInput *in, CxSetWriter *w,
						MemoryContext cxt, MemoryContext limitcxt);

#endif							/* CXSELL_ECLAT_H */
