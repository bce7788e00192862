/*
 * value_io.c
 *		Values of the user's basket and item types.
 *
 * cxsell.mine accepts baskets and items of any type with a default hash
 * operator class.  Equality and hashing follow that class (and the input
 * collation), ordering follows the default btree class when there is one, and
 * values cross process boundaries in a portable form: by-value integer types
 * (smallint, integer, bigint, oid, date) as 8-byte big-endian integers, other
 * types in their binary send/receive form (text output/input for the rare
 * type without one), so serialised states do not depend on the machine's
 * byte order.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#if PG_VERSION_NUM >= 150000
#include "common/pg_prng.h"
#endif
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "cxsell.h"
#include "value_io.h"

/* Look up what cxsell needs to know about values of `type`. */
void
CxTypeInfoInit(CxTypeInfo *ti, Oid type, Oid collation, const char *role)
{
	TypeCacheEntry *tce;
	HeapTuple	tuple;
	Form_pg_type typ;
	Oid			fn;
	bool		isvarlena;

	memset(ti, 0, sizeof(*ti));
	ti->type = type;
	ti->collation = collation;
	get_typlenbyval(type, &ti->typlen, &ti->typbyval);

	tce = lookup_type_cache(type, TYPECACHE_HASH_PROC_FINFO |
							TYPECACHE_EQ_OPR_FINFO | TYPECACHE_CMP_PROC_FINFO);
	if (!OidIsValid(tce->hash_proc) || !OidIsValid(tce->eq_opr))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("could not identify a hash function for %s type %s",
						role, format_type_be(type)),
				 errhint("Baskets and items must be of a type with a default hash operator class, such as integer, bigint, text or uuid.")));
	fmgr_info_copy(&ti->hash, &tce->hash_proc_finfo, CurrentMemoryContext);
	fmgr_info_copy(&ti->eq, &tce->eq_opr_finfo, CurrentMemoryContext);
	if (OidIsValid(tce->cmp_proc))
	{
		fmgr_info_copy(&ti->cmp, &tce->cmp_proc_finfo, CurrentMemoryContext);
		ti->has_cmp = true;
	}
	if (ti->typbyval &&
		(type == INT2OID || type == INT4OID || type == INT8OID ||
		 type == OIDOID || type == DATEOID))
		ti->int_kind = ti->typlen;

	getTypeOutputInfo(type, &fn, &isvarlena);
	fmgr_info(fn, &ti->out);

	/* binary send/receive when the type has both, else its text form */
	tuple = SearchSysCache1(TYPEOID, ObjectIdGetDatum(type));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for type %u", type);
	typ = (Form_pg_type) GETSTRUCT(tuple);
	ti->binary = OidIsValid(typ->typsend) && OidIsValid(typ->typreceive);
	if (ti->binary)
	{
		fmgr_info(typ->typsend, &ti->io_out);
		fmgr_info(typ->typreceive, &ti->io_in);
	}
	else
	{
		fmgr_info(ti->out.fn_oid, &ti->io_out);
		fmgr_info(typ->typinput, &ti->io_in);
	}
	ti->ioparam = getTypeIOParam(tuple);
	ReleaseSysCache(tuple);
}

/* Hash a value as its type's default hash operator class does. */
static uint32
CxHashValue(CxTypeInfo *ti, Datum v)
{
	if (ti->int_kind)
	{
		uint64		x = (uint64) v;

		return hash_bytes_uint32((uint32) x ^ (uint32) (x >> 32) * 0x9E3779B1U);
	}
	return DatumGetUInt32(FunctionCall1Coll(&ti->hash, ti->collation, v));
}

/* Are two values equal under the type's default equality? */
bool
CxEqualValues(CxTypeInfo *ti, Datum a, Datum b)
{
	if (ti->int_kind)
		return a == b;
	return DatumGetBool(FunctionCall2Coll(&ti->eq, ti->collation, a, b));
}

/*
 * Order two values: by the type's default btree order when it has one, else
 * by their text form.
 */
int
CxCompareValues(CxTypeInfo *ti, Datum a, Datum b)
{
	if (ti->has_cmp)
		return DatumGetInt32(FunctionCall2Coll(&ti->cmp, ti->collation, a, b));
	else
	{
		char	   *sa = CxValueText(ti, a);
		char	   *sb = CxValueText(ti, b);
		int			r = strcmp(sa, sb);

		pfree(sa);
		pfree(sb);
		return r;
	}
}

/* The text form of a value, palloc'd. */
char *
CxValueText(CxTypeInfo *ti, Datum v)
{
	return OutputFunctionCall(&ti->out, v);
}

/* Append a value's portable form: a 4-byte length, then the bytes. */
void
CxWriteValue(StringInfo buf, CxTypeInfo *ti, Datum v)
{
	if (ti->int_kind == 8)
		cx_put_u64(buf, (uint64) DatumGetInt64(v));
	else if (ti->int_kind == 4 && ti->type == OIDOID)
		cx_put_u64(buf, (uint64) DatumGetObjectId(v));
	else if (ti->int_kind == 4)
		cx_put_u64(buf, (uint64) (int64) DatumGetInt32(v));
	else if (ti->int_kind == 2)
		cx_put_u64(buf, (uint64) (int64) DatumGetInt16(v));
	else if (ti->binary)
	{
		bytea	   *b = SendFunctionCall(&ti->io_out, v);

		cx_put_u32(buf, VARSIZE(b) - VARHDRSZ);
		appendBinaryStringInfo(buf, VARDATA(b), VARSIZE(b) - VARHDRSZ);
		pfree(b);
	}
	else
	{
		char	   *s = OutputFunctionCall(&ti->io_out, v);
		Size		len = strlen(s);

		cx_put_u32(buf, len);
		appendBinaryStringInfo(buf, s, len);
		pfree(s);
	}
}

/*
 * Read a value written by CxWriteValue; `scratch` is a StringInfo the caller
 * reuses across calls.
 */
Datum
CxReadValue(CxReader *r, CxTypeInfo *ti, StringInfo scratch)
{
	uint32		len;
	const char *p;

	if (ti->int_kind)
	{
		int64		x = (int64) cx_get_u64(r);

		if (ti->int_kind == 8)
			return Int64GetDatum(x);
		if (ti->type == OIDOID)
		{
			if (x < 0 || x > PG_UINT32_MAX)
				CxReaderFail(r, "An oid value is out of range");
			return ObjectIdGetDatum((Oid) x);
		}
		if (ti->int_kind == 4)
		{
			if (x < PG_INT32_MIN || x > PG_INT32_MAX)
				CxReaderFail(r, "An integer value is out of range");
			return Int32GetDatum((int32) x);
		}
		if (x < PG_INT16_MIN || x > PG_INT16_MAX)
			CxReaderFail(r, "A smallint value is out of range");
		return Int16GetDatum((int16) x);
	}

	len = cx_get_u32(r);
	p = cx_get_bytes(r, len);
	if (ti->binary)
	{
		Datum		v;

		resetStringInfo(scratch);
		appendBinaryStringInfo(scratch, p, len);
		v = ReceiveFunctionCall(&ti->io_in, scratch, ti->ioparam, -1);
		if (scratch->cursor != scratch->len)
			CxReaderFail(r, "A value's binary form has trailing bytes");
		return v;
	}
	else
	{
		char	   *s = pnstrdup(p, len);

		return InputFunctionCall(&ti->io_in, s, ti->ioparam, -1);
	}
}

/* The dictionary's hash table: value -> number. */
typedef struct CxValueEntry
{
	Datum		value;
	uint32		id;
	uint32		hash;
	char		status;
} CxValueEntry;

#define SH_PREFIX cxvh
#define SH_ELEMENT_TYPE CxValueEntry
#define SH_KEY_TYPE Datum
#define SH_KEY value
#define SH_HASH_KEY(tb, key) CxHashValue(((CxValueSet *) (tb)->private_data)->ti, key)
#define SH_EQUAL(tb, a, b) CxEqualValues(((CxValueSet *) (tb)->private_data)->ti, a, b)
#define SH_STORE_HASH
#define SH_GET_HASH(tb, a) ((a)->hash)
#define SH_SCOPE static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

/*
 * A random seed for a hash table whose keys come from users, so that no
 * input can be made to collide on purpose.
 */
uint64
CxHashSeed(void)
{
#if PG_VERSION_NUM >= 150000
	return pg_prng_uint64(&pg_global_prng_state);
#else
	uint64		seed = 0;

	if (!pg_strong_random(&seed, sizeof(seed)))
		seed = (uint64) random() << 32 ^ (uint64) random();
	return seed;
#endif
}

/*
 * Start an empty dictionary whose memory lives in `cxt` and counts against
 * cxsell.max_memory (for CxWork `work`) as held by `limitcxt`.
 */
void
CxValueSetInit(CxValueSet *set, CxTypeInfo *ti, MemoryContext cxt,
			   MemoryContext limitcxt, int work)
{
	set->ti = ti;
	set->cxt = cxt;
	set->limitcxt = limitcxt;
	set->work = work;
	set->ht = NULL;
	set->int_slot = NULL;
	set->int_mask = 0;
	set->int_seed = CxHashSeed();
	if (!ti->int_kind)
		set->ht = cxvh_create(cxt, 256, set);
	set->capacity = 0;
	set->nvalues = 0;
	set->values = NULL;
}

/* Copy v into the dictionary's memory and append it to the value list. */
static Datum
AppendCopy(CxValueSet *set, Datum v)
{
	Datum		copy = v;

	if (set->nvalues == PG_UINT32_MAX - 1)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many distinct values: at most %u are supported",
						PG_UINT32_MAX - 1)));
	set->values = CxGrowArray(set->values, &set->capacity, (int64) set->nvalues + 1,
							  sizeof(Datum), set->cxt, set->limitcxt,
							  (CxWork) set->work);
	if (!set->ti->typbyval)
	{
		MemoryContext old = MemoryContextSwitchTo(set->cxt);

		if (set->ti->typlen == -1)
			copy = PointerGetDatum(PG_DETOAST_DATUM_COPY(v));
		else
			copy = datumCopy(v, false, set->ti->typlen);
		MemoryContextSwitchTo(old);
	}
	set->values[set->nvalues++] = copy;
	return copy;
}

/*
 * The first slot of integer v in a table of mask + 1 slots: v mixed with the
 * table's random seed (so that no input can be made to collide on purpose)
 * by splitmix64's finaliser.
 */
static inline uint64
IntSlot(uint64 v, uint64 seed, uint64 mask)
{
	return CxMix64(v ^ seed) & mask;
}

/*
 * Make the integer table of `set` twice as large (or start it), putting its
 * values back.  A slot holds the value and its number, in one cache line;
 * at most half the slots are used.
 */
static void
GrowIntTable(CxValueSet *set)
{
	uint64		nslots = set->int_slot ? (set->int_mask + 1) * 2 : 1024;
	uint64		mask;
	CxIntSlot  *slot;
	uint32		i;

	while (nslots < (uint64) set->nvalues * 2 + 2)
		nslots *= 2;
	mask = nslots - 1;

	CxCheckMemory(set->limitcxt, nslots * sizeof(CxIntSlot), (CxWork) set->work);
	slot = MemoryContextAllocExtended(set->cxt, nslots * sizeof(CxIntSlot),
									  MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	for (i = 0; i < set->nvalues; i++)
	{
		uint64		v = (uint64) set->values[i];
		uint64		s;

		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		for (s = IntSlot(v, set->int_seed, mask); slot[s].id != 0; s = (s + 1) & mask)
			;
		slot[s].value = v;
		slot[s].id = i + 1;
	}
	if (set->int_slot)
		pfree(set->int_slot);
	set->int_slot = slot;
	set->int_mask = mask;
}

/* CxValueSetId for integer types: linear probing over the integer table. */
static inline uint32
IntSetId(CxValueSet *set, Datum v)
{
	uint64		x = (uint64) v;
	uint64		s;

	if (set->int_slot == NULL)
		GrowIntTable(set);
	for (s = IntSlot(x, set->int_seed, set->int_mask);; s = (s + 1) & set->int_mask)
	{
		CxIntSlot  *e = &set->int_slot[s];

		if (e->id == 0)
			break;
		if (e->value == x)
			return e->id - 1;
	}
	/* new: append, then grow past half full */
	(void) AppendCopy(set, v);
	set->int_slot[s].value = x;
	set->int_slot[s].id = set->nvalues;
	if ((uint64) set->nvalues * 2 > set->int_mask + 1)
		GrowIntTable(set);
	return set->nvalues - 1;
}

/* Return the number of `v`, adding a copy of it when it is new. */
uint32
CxValueSetId(CxValueSet *set, Datum v)
{
	bool		found;
	CxValueEntry *e;

	if (set->ti->int_kind)
		return IntSetId(set, v);
	e = cxvh_insert(set->ht, v, &found);

	if (!found)
	{
		e->value = AppendCopy(set, v);
		e->id = set->nvalues - 1;
	}
	return e->id;
}

/*
 * Append a value known to be new without hashing it: the set then only
 * lists its values (numbered in order) and must not be searched.
 */
void
CxValueSetAppend(CxValueSet *set, Datum v)
{
	(void) AppendCopy(set, v);
}
