/*
 * expanded_state.c
 *		Aggregate states of a concrete SQL type held as read/write expanded
 *		objects (see expanded_state.h), and the text and binary forms of
 *		those types: the serialised state, hexadecimal in text.
 *
 * A transition or combine function takes its state with CxExpandedOwnArg
 * (the object itself when the aggregate already owns it, else a copy the
 * aggregate owns, read from a flat value and validated) and hands it back
 * with CxExpandedReturn.  PostgreSQL's and Citus's aggregate executors keep
 * a read/write expanded object whose memory context is a child of the
 * aggregate context instead of copying it, so a row costs no copy.  Any
 * other use of the value (a partial state shipped to the leader or the
 * coordinator, a value shown as text) flattens it into its serialised form.
 */
#include "postgres.h"

#include "bytes.h"
#include "cxsell.h"
#include "expanded_state.h"

static Size StateFlatSize(ExpandedObjectHeader *eohptr);
static void StateFlatten(ExpandedObjectHeader *eohptr, void *result, Size allocated_size);

static const ExpandedObjectMethods state_methods = {
	StateFlatSize,
	StateFlatten
};

static Size
StateFlatSize(ExpandedObjectHeader *eohptr)
{
	CxExpandedState *e = (CxExpandedState *) eohptr;

	if (e->flat == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(e->hdr.eoh_context);

		e->flat = e->kind->write(e->state);
		MemoryContextSwitchTo(old);
	}
	return VARSIZE(e->flat);
}

static void
StateFlatten(ExpandedObjectHeader *eohptr, void *result, Size allocated_size)
{
	CxExpandedState *e = (CxExpandedState *) eohptr;

	Assert(e->flat != NULL && allocated_size == VARSIZE(e->flat));
	memcpy(result, e->flat, allocated_size);
}

/*
 * A new expanded object in its own child context of `parent`; the caller
 * builds e->state under e->hdr.eoh_context.
 */
CxExpandedState *
CxExpandedCreate(MemoryContext parent, const CxStateKind *kind)
{
	MemoryContext cxt = AllocSetContextCreate(parent, "cxsell expanded state",
											  ALLOCSET_SMALL_SIZES);
	CxExpandedState *e = MemoryContextAllocZero(cxt, sizeof(CxExpandedState));

	EOH_init_header(&e->hdr, &state_methods, cxt);
	e->kind = kind;
	return e;
}

/* Our own expanded object of `kind` behind datum d, or NULL. */
static CxExpandedState *
OwnObject(Datum d, const CxStateKind *kind)
{
	CxExpandedState *e;

	if (!VARATT_IS_EXTERNAL_EXPANDED(DatumGetPointer(d)))
		return NULL;
	e = (CxExpandedState *) DatumGetEOHP(d);
	if (e->hdr.eoh_methods != &state_methods || e->kind != kind)
		return NULL;
	return e;
}

/* A state read from a flat (or foreign) value, under `parent`. */
static void *
ReadFlat(Datum d, const CxStateKind *kind, MemoryContext parent, MemoryContext limit)
{
	return kind->read((bytea *) PG_DETOAST_DATUM(d), parent, limit, ERRCODE_DATA_CORRUPTED);
}

/*
 * The state in argument `argno` of an aggregate support function, to be
 * changed and returned: the argument itself when it is a read/write object
 * of this aggregate's context, else a copy owned by that context, read
 * from a value that came from elsewhere (an INITCOND, a shipped state):
 * *read says so, and the caller checks what its own arguments require of
 * such a state.  NULL for a SQL NULL.
 */
CxExpandedState *
CxExpandedOwnArg(FunctionCallInfo fcinfo, int argno, const CxStateKind *kind, bool *read)
{
	MemoryContext aggcxt = CxAggContext(fcinfo);
	Datum		d;
	CxExpandedState *e;

	*read = false;
	if (PG_ARGISNULL(argno))
		return NULL;
	d = PG_GETARG_DATUM(argno);
	e = OwnObject(d, kind);
	if (e != NULL && VARATT_IS_EXTERNAL_EXPANDED_RW(DatumGetPointer(d)) &&
		MemoryContextGetParent(e->hdr.eoh_context) == aggcxt)
		return e;
	*read = true;
	e = CxExpandedCreate(aggcxt, kind);
	/* every group's state counts against the bound together */
	e->state = ReadFlat(d, kind, e->hdr.eoh_context, aggcxt);
	return e;
}

/*
 * The state in argument `argno`, to be read only: the object's own state, or
 * one read from a flat value in the current memory context.  NULL for a
 * SQL NULL.
 */
void *
CxExpandedReadArg(FunctionCallInfo fcinfo, int argno, const CxStateKind *kind)
{
	Datum		d;
	CxExpandedState *e;

	if (PG_ARGISNULL(argno))
		return NULL;
	d = PG_GETARG_DATUM(argno);
	e = OwnObject(d, kind);
	if (e != NULL)
		return e->state;
	return ReadFlat(d, kind, CurrentMemoryContext, CurrentMemoryContext);
}

/*
 * The prologue of a combine function: *dst, the state to add to (argument
 * 0, owned as CxExpandedOwnArg owns it, or a new empty one like the
 * source), and *src, the state to add (argument 1, read only).  Returns
 * false when there is nothing to add: the caller then returns
 * CxExpandedReturnOrNull(fcinfo, *dst).
 */
bool
CxExpandedCombineArgs(FunctionCallInfo fcinfo, const CxStateKind *kind,
					  CxExpandedState **dst, void **src)
{
	bool		read;
	MemoryContext aggcxt;

	*dst = CxExpandedOwnArg(fcinfo, 0, kind, &read);
	*src = CxExpandedReadArg(fcinfo, 1, kind);
	if (*src == NULL)
		return false;
	if (*dst == NULL)
	{
		aggcxt = CxAggContext(fcinfo);
		*dst = CxExpandedCreate(aggcxt, kind);
		(*dst)->state = kind->empty_like(*src, (*dst)->hdr.eoh_context, aggcxt);
	}
	return true;
}

/* The read/write datum of a changed state: its serialised form is stale. */
Datum
CxExpandedReturn(CxExpandedState *e)
{
	if (e->flat != NULL)
	{
		pfree(e->flat);
		e->flat = NULL;
	}
	return EOHPGetRWDatum(&e->hdr);
}

/* Check serialised bytes by reading them into a throwaway context. */
static void
Validate(bytea *bytes, const CxStateKind *kind, int errcode)
{
	MemoryContext scratch = AllocSetContextCreate(CurrentMemoryContext,
												  "cxsell state check",
												  ALLOCSET_DEFAULT_SIZES);

	(void) kind->read(bytes, scratch, scratch, errcode);
	MemoryContextDelete(scratch);
}

/* Text input: hexadecimal digits of the serialised state, validated in full. */
Datum
CxStateTypeIn(FunctionCallInfo fcinfo, const CxStateKind *kind)
{
	bytea	   *result = CxBytesFromHex(PG_GETARG_CSTRING(0), kind->type_name,
										"Values of this type are the partial states of cxsell's aggregates, not built by hand.");

	Validate(result, kind, ERRCODE_INVALID_TEXT_REPRESENTATION);
	PG_RETURN_BYTEA_P(result);
}

/* Text output: the serialised state as hexadecimal digits. */
Datum
CxStateTypeOut(FunctionCallInfo fcinfo)
{
	PG_RETURN_CSTRING(CxBytesToHex(PG_GETARG_BYTEA_PP(0)));
}

/* Binary input: the serialised state, validated in full. */
Datum
CxStateTypeRecv(FunctionCallInfo fcinfo, const CxStateKind *kind)
{
	bytea	   *result = CxBytesFromMessage((StringInfo) PG_GETARG_POINTER(0));

	Validate(result, kind, ERRCODE_INVALID_BINARY_REPRESENTATION);
	PG_RETURN_BYTEA_P(result);
}

/* Binary output: the serialised state. */
Datum
CxStateTypeSend(FunctionCallInfo fcinfo)
{
	bytea	   *b = PG_GETARG_BYTEA_P_COPY(0);

	PG_RETURN_BYTEA_P(b);
}

/* CxExpandedReturn, or SQL NULL when there is no state. */
Datum
CxExpandedReturnOrNull(FunctionCallInfo fcinfo, CxExpandedState *e)
{
	if (e == NULL)
		PG_RETURN_NULL();
	return CxExpandedReturn(e);
}
