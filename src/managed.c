/*
 * managed.c
 *		The gate of the managed layer: who calls, and as whom the work runs.
 *
 * The managed layer's tables (definitions, results, run log) are written
 * only by its own functions; no other role holds a privilege on them.  Each
 * SQL-callable entry point cxsell.X is this C function: it notes the role
 * that calls it (GetUserId(), which nothing the caller passes can change)
 * and the caller's search_path, switches to the owner of the function's
 * body cxsell_internal.X (the extension's owner), and calls the body with
 * the caller's name and search_path before the caller's own arguments.  The
 * body decides what the caller may do: the analyses a role may change or
 * refresh are those owned by a role it may SET ROLE to.
 *
 * This is SECURITY DEFINER done where the caller can still be known: a
 * SECURITY DEFINER body would see only its owner.  A body called directly
 * (by a role granted EXECUTE on it) runs with that role's own rights and
 * cannot write the tables, so the caller a body is told about cannot be
 * forged.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "cxsell.h"

PG_FUNCTION_INFO_V1(cxsell_managed_call);
PG_FUNCTION_INFO_V1(cxsell_may_act_as);

#define BODY_SCHEMA "cxsell_internal"

/* A gate's body, looked up once per call site. */
typedef struct GateBody
{
	FmgrInfo	flinfo;
	Oid			owner;
	int			nargs;
} GateBody;

/* May `member` act as `role` (SET ROLE to it)? */
bool
CxMayActAs(Oid member, Oid role)
{
#if PG_VERSION_NUM >= 160000
	return member_can_set_role(member, role);
#else
	return is_member_of_role(member, role);
#endif
}

/*
 * Find the body of the gate `gate`: the function of the same name in
 * schema cxsell_internal taking (name, text) and then the gate's arguments,
 * a member of the same extension as the gate.  The lookup reads the
 * catalog directly: the caller needs no privilege on that schema.
 */
static GateBody *
LookupBody(Oid gate, MemoryContext cxt)
{
	HeapTuple	tuple;
	Form_pg_proc proc;
	Oid			argtypes[FUNC_MAX_ARGS];
	Oid			body;
	Oid			extension;
	GateBody   *result;
	int			i;

	tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(gate));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for function %u", gate);
	proc = (Form_pg_proc) GETSTRUCT(tuple);
	if (proc->pronargs + 2 > FUNC_MAX_ARGS)
		elog(ERROR, "gate %s has too many arguments", NameStr(proc->proname));
	argtypes[0] = NAMEOID;
	argtypes[1] = TEXTOID;
	for (i = 0; i < proc->pronargs; i++)
		argtypes[i + 2] = proc->proargtypes.values[i];
	body = GetSysCacheOid3(PROCNAMEARGSNSP, Anum_pg_proc_oid,
						   NameGetDatum(&proc->proname),
						   PointerGetDatum(buildoidvector(argtypes, proc->pronargs + 2)),
						   ObjectIdGetDatum(get_namespace_oid(BODY_SCHEMA, false)));
	if (!OidIsValid(body))
		elog(ERROR, "gate %s has no body in schema %s", NameStr(proc->proname), BODY_SCHEMA);
	ReleaseSysCache(tuple);

	extension = getExtensionOfObject(ProcedureRelationId, gate);
	if (!OidIsValid(extension) ||
		getExtensionOfObject(ProcedureRelationId, body) != extension)
		elog(ERROR, "function %u is not a body of the extension of its gate", body);

	result = MemoryContextAllocZero(cxt, sizeof(GateBody));
	fmgr_info_cxt(body, &result->flinfo, cxt);
	result->nargs = result->flinfo.fn_nargs;
	tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(body));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for function %u", body);
	result->owner = ((Form_pg_proc) GETSTRUCT(tuple))->proowner;
	ReleaseSysCache(tuple);
	return result;
}

/*
 * cxsell_managed_call: the gate.  Calls the body as its owner with the
 * caller's name and search_path first, then the gate's own arguments.
 */
Datum
cxsell_managed_call(PG_FUNCTION_ARGS)
{
	GateBody   *body = (GateBody *) fcinfo->flinfo->fn_extra;
	LOCAL_FCINFO(call, FUNC_MAX_ARGS);
	Oid			save_userid;
	int			save_sec_context;
	Datum		result;
	int			i;

	if (InSecurityRestrictedOperation())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("cannot run %s within a security-restricted operation",
						get_func_name(fcinfo->flinfo->fn_oid)),
				 errdetail("Managed analyses cannot be changed or refreshed from a source query, a materialized view or an index expression.")));
	if (body == NULL)
	{
		body = LookupBody(fcinfo->flinfo->fn_oid, fcinfo->flinfo->fn_mcxt);
		fcinfo->flinfo->fn_extra = body;
	}

	/* the caller's collation is not passed on: names compare as stored */
	InitFunctionCallInfoData(*call, &body->flinfo, body->nargs,
							 InvalidOid, NULL, NULL);
	call->args[0].value = DirectFunctionCall1(namein,
											  CStringGetDatum(GetUserNameFromId(GetUserId(), false)));
	call->args[0].isnull = false;
	call->args[1].value = CStringGetTextDatum(GetConfigOption("search_path", false, false));
	call->args[1].isnull = false;
	for (i = 0; i < PG_NARGS(); i++)
		call->args[i + 2] = fcinfo->args[i];

	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(body->owner,
						   save_sec_context | SECURITY_LOCAL_USERID_CHANGE);
	result = FunctionCallInvoke(call);
	SetUserIdAndSecContext(save_userid, save_sec_context);

	fcinfo->isnull = call->isnull;
	return result;
}

/* The role named `name`, or InvalidOid when there is none. */
static Oid
RoleOid(Name name)
{
	return get_role_oid(NameStr(*name), true);
}

/*
 * cxsell_internal.may_act_as(member name, role name) RETURNS boolean:
 * whether role `member` may act as role `role` (SET ROLE to it).
 */
Datum
cxsell_may_act_as(PG_FUNCTION_ARGS)
{
	Oid			member = RoleOid(PG_GETARG_NAME(0));
	Oid			role = RoleOid(PG_GETARG_NAME(1));

	PG_RETURN_BOOL(OidIsValid(member) &&
				   (OidIsValid(role) ? CxMayActAs(member, role) : superuser_arg(member)));
}
