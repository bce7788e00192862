/*
 * pinned.c
 *		Settings pinned for the length of one call.
 *
 * Text made from values (item names, a stored query's casts) must not
 * depend on the session that happens to run the call.  These helpers set
 * settings in the innermost GUC nest level; the caller opens the level with
 * NewGUCNestLevel() and closes it with AtEOXact_GUC(false, level), which
 * restores every setting changed inside, its own code's included.
 */
#include "postgres.h"

#include "utils/guc.h"
#include "utils/jsonb.h"

#include "cxsell.h"

/* The settings a stored query keeps from the session that defined it. */
static const char *const stored_settings[] = {
	"search_path", "DateStyle", "IntervalStyle", "TimeZone"
};

/* Set `name` to `value` until the innermost GUC nest level ends. */
void
CxPinSetting(const char *name, const char *value)
{
	(void) set_config_option(name, value, PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
}

/*
 * Fix every setting that changes how values print, as pg_dump does, so that
 * equal values print alike and different values differently in every
 * session.
 */
void
CxPinOutputSettings(void)
{
	CxPinSetting("DateStyle", "ISO, YMD");
	CxPinSetting("IntervalStyle", "postgres");
	CxPinSetting("TimeZone", "UTC");
	CxPinSetting("extra_float_digits", "3");
	CxPinSetting("bytea_output", "hex");
	CxPinSetting("lc_monetary", "C");
}

/*
 * Apply the settings stored with a query (a JSON object; search_path,
 * DateStyle, IntervalStyle and TimeZone are taken, anything else ignored).
 */
void
CxPinStoredSettings(Jsonb *settings)
{
	int			i;

	if (!JB_ROOT_IS_OBJECT(settings))
		elog(ERROR, "stored settings must be a JSON object");
	for (i = 0; i < (int) lengthof(stored_settings); i++)
	{
		JsonbValue *v;

		v = getKeyJsonValueFromContainer(&settings->root, stored_settings[i],
										 strlen(stored_settings[i]), NULL);
		if (v != NULL && v->type == jbvString)
			CxPinSetting(stored_settings[i],
						 pnstrdup(v->val.string.val, v->val.string.len));
	}
}
