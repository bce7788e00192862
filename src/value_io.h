/*
 * value_io.h
 *		Values of the user's basket and item types: hashing, equality,
 *		ordering, text form and portable serialisation, plus a dictionary
 *		that numbers distinct values.
 */
#ifndef CXSELL_VALUE_IO_H
#define CXSELL_VALUE_IO_H

#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"

#include "bytes.h"

typedef struct CxTypeInfo
{
	Oid			type;
	Oid			collation;
	int16		typlen;
	bool		typbyval;
	int			int_kind;		/* 0, or the byte width of a by-value integer
								 * type, whose Datums are hashed, compared and
								 * serialised directly */
	bool		binary;			/* serialise with send/receive, else text */
	bool		has_cmp;
	FmgrInfo	hash;
	FmgrInfo	eq;
	FmgrInfo	cmp;
	FmgrInfo	out;
	FmgrInfo	io_out;			/* send or output function */
	FmgrInfo	io_in;			/* receive or input function */
	Oid			ioparam;
} CxTypeInfo;

extern void CxTypeInfoInit(CxTypeInfo *ti, Oid type, Oid collation,
						   const char *role);
extern bool CxEqualValues(CxTypeInfo *ti, Datum a, Datum b);
extern int	CxCompareValues(CxTypeInfo *ti, Datum a, Datum b);
extern char *CxValueText(CxTypeInfo *ti, Datum v);
extern void CxWriteValue(StringInfo buf, CxTypeInfo *ti, Datum v);
extern Datum CxReadValue(CxReader *r, CxTypeInfo *ti, StringInfo scratch);

/* A dictionary of distinct values, numbered from 0 in insertion order. */
/* A slot of an integer dictionary: the value and its number + 1 (0 = free). */
typedef struct CxIntSlot
{
	uint64		value;
	uint32		id;
} CxIntSlot;

typedef struct CxValueSet
{
	CxTypeInfo *ti;
	MemoryContext cxt;			/* holds the values */
	MemoryContext limitcxt;		/* counts against cxsell.max_memory */
	int			work;			/* the CxWork whose bound this is */
	struct cxvh_hash *ht;		/* types other than integers */
	struct CxIntSlot *int_slot; /* integer types: their own table */
	uint64		int_mask;		/* slots - 1, a power of two less one */
	uint64		int_seed;		/* mixed into the slot of each value */
	Datum	   *values;
	uint32		nvalues;		/* numbers are uint32 */
	int64		capacity;
} CxValueSet;

extern uint64 CxHashSeed(void);
extern void CxValueSetInit(CxValueSet *set, CxTypeInfo *ti, MemoryContext cxt,
						   MemoryContext limitcxt, int work);
extern uint32 CxValueSetId(CxValueSet *set, Datum v);
extern void CxValueSetAppend(CxValueSet *set, Datum v);

#endif							/* CXSELL_VALUE_IO_H */
