/*
 * expanded_state.h
 *		Aggregate states of a concrete SQL type (cxsell.contingency_table,
 *		cxsell.score_counts) kept as read/write expanded objects: transition
 *		functions update them in place, and PostgreSQL or Citus flattens
 *		them into their serialised form only to ship or show them.
 *
 * A state of a concrete type, with a combine function and text and binary
 * forms, is what Citus's planner needs to aggregate partially on the
 * workers and send each worker's state to the coordinator.
 */
#ifndef CXSELL_EXPANDED_STATE_H
#define CXSELL_EXPANDED_STATE_H

#include "postgres.h"

#include "fmgr.h"
#include "utils/expandeddatum.h"

typedef struct CxStateKind
{
	const char *type_name;		/* "cxsell.score_counts", for messages */
	/* the serialised form of a state, as a varlena in the current context */
	bytea	   *(*write) (void *state);
	/*
	 * A state rebuilt from its serialised form in a new child context of
	 * `parent`, its memory counted against cxsell.max_memory with all of
	 * `limit`'s, failing with `errcode` on malformed bytes.
	 */
	void	   *(*read) (bytea *bytes, MemoryContext parent, MemoryContext limit, int errcode);
	/* an empty state with the parameters of `state`, placed as by read */
	void	   *(*empty_like) (const void *state, MemoryContext parent, MemoryContext limit);
} CxStateKind;

typedef struct CxExpandedState
{
	ExpandedObjectHeader hdr;
	const CxStateKind *kind;
	void	   *state;			/* lives under hdr.eoh_context */
	bytea	   *flat;			/* the serialised form, once asked for */
} CxExpandedState;

extern CxExpandedState *CxExpandedCreate(MemoryContext parent, const CxStateKind *kind);
extern CxExpandedState *CxExpandedOwnArg(FunctionCallInfo fcinfo, int argno,
										 const CxStateKind *kind, bool *read);
extern void *CxExpandedReadArg(FunctionCallInfo fcinfo, int argno, const CxStateKind *kind);
extern bool CxExpandedCombineArgs(FunctionCallInfo fcinfo, const CxStateKind *kind,
								  CxExpandedState **dst, void **src);
extern Datum CxExpandedReturn(CxExpandedState *e);
extern Datum CxExpandedReturnOrNull(FunctionCallInfo fcinfo, CxExpandedState *e);

extern Datum CxStateTypeIn(FunctionCallInfo fcinfo, const CxStateKind *kind);
extern Datum CxStateTypeOut(FunctionCallInfo fcinfo);
extern Datum CxStateTypeRecv(FunctionCallInfo fcinfo, const CxStateKind *kind);
extern Datum CxStateTypeSend(FunctionCallInfo fcinfo);

/* The text and binary input and output functions of a state type. */
#define CX_STATE_TYPE_IO(prefix, kind) \
	PG_FUNCTION_INFO_V1(prefix##_in); \
	PG_FUNCTION_INFO_V1(prefix##_out); \
	PG_FUNCTION_INFO_V1(prefix##_recv); \
	PG_FUNCTION_INFO_V1(prefix##_send); \
	Datum prefix##_in(PG_FUNCTION_ARGS) { return CxStateTypeIn(fcinfo, &(kind)); } \
	Datum prefix##_out(PG_FUNCTION_ARGS) { return CxStateTypeOut(fcinfo); } \
	Datum prefix##_recv(PG_FUNCTION_ARGS) { return CxStateTypeRecv(fcinfo, &(kind)); } \
	Datum prefix##_send(PG_FUNCTION_ARGS) { return CxStateTypeSend(fcinfo); }

#endif							/* CXSELL_EXPANDED_STATE_H */
