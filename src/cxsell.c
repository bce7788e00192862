/*
 * cxsell.c
 *		Module entry point and settings.
 */
#include "postgres.h"

#include <limits.h>

#include "fmgr.h"
#include "utils/guc.h"

#include "cxsell.h"

PG_MODULE_MAGIC;

/* cxsell.max_memory, in kilobytes */
int			cxsell_max_memory_kb = 1024 * 1024;

/* cxsell.source_query_timeout, in milliseconds (0: none) */
int			cxsell_source_query_timeout_ms = 60 * 60 * 1000;

void		_PG_init(void);

/* Define the extension's settings. */
void
_PG_init(void)
{
	DefineCustomIntVariable("cxsell.max_memory",
							"Largest amount of memory one cxsell mining or clustering call may use.",
							"A call that would need more stops with an error instead of "
							"exhausting the server's memory.",
							&cxsell_max_memory_kb,
							1024 * 1024,
							1024,
							MAX_KILOBYTES,
							PGC_USERSET,
							GUC_UNIT_KB,
							NULL, NULL, NULL);
	DefineCustomIntVariable("cxsell.source_query_timeout",
							"Longest time a managed analysis's source query may run.",
							"A refresh whose source query runs longer fails, and is logged, "
							"instead of holding up the refreshes after it.  0 means no limit.",
							&cxsell_source_query_timeout_ms,
							60 * 60 * 1000,
							0,
							INT_MAX,
							PGC_SUSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);
#if PG_VERSION_NUM >= 150000
	MarkGUCPrefixReserved("cxsell");
#else
	EmitWarningsOnPlaceholders("cxsell");
#endif
}
