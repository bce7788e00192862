/*
 * rules.c
 *		cxsell.rules(patterns, ...): association rules A -> C with every
 *		measure, filtered, ranked and optionally capped.
 *
 * Every frequent itemset I of two or more items gives one candidate rule per
 * split of I into a non-empty antecedent A and consequent C; their supports
 * are stored because every subset of a frequent itemset is frequent.  Rows
 * come ordered by the rank_by measure (descending; p_value ascending), then
 * confidence, lift and count descending, then antecedent size, antecedent
 * items and consequent items ascending.  q_value is the p-value adjusted for
 * testing together every rule that passes the filters (before max_rules).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "port/pg_bitutils.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "cxsell.h"

PG_FUNCTION_INFO_V1(patterns_rules);

typedef enum RuleOrder
{
	ORDER_CONFIDENCE,
	ORDER_LIFT,
	ORDER_SUPPORT,
	ORDER_LEVERAGE,
	ORDER_CONVICTION,
	ORDER_JACCARD,
	ORDER_KULCZYNSKI,
	ORDER_CERTAINTY,
	ORDER_ZHANG,
	ORDER_COUNT,
	ORDER_P_VALUE
} RuleOrder;

static const char *const order_names[] = {
	"confidence", "lift", "support", "leverage", "conviction", "jaccard",
	"kulczynski", "certainty", "zhang", "count", "p_value"
};

/* The longest itemset whose splits can be enumerated with a 64-bit mask. */
#define MAX_RULE_ITEMSET 62

typedef struct Rule
{
	int64		set;			/* itemset A u C */
	uint64		amask;			/* which of its items form A */
	int64		set_a;			/* the itemsets A and C */
	int64		set_c;
	double		key;			/* rank_by measure */
	double		confidence;
	double		lift;
	double		p_value;
	double		q_value;
} Rule;

typedef struct RuleSort
{
	const CxPatterns *p;
	bool		ascending;		/* p_value: smaller is better */
} RuleSort;

/* The items of set s selected (or not) by mask, into out; returns how many. */
static int32
SplitItems(const CxPatterns *p, int64 s, uint64 mask, bool selected, uint32 *out)
{
	const uint32 *items = p->set_items + p->set_off[s];
	int32		n = 0;
	int32		k;

	for (k = 0; k < p->set_size[s]; k++)
		if (((mask >> k) & 1) == (selected ? 1 : 0))
			out[n++] = items[k];
	return n;
}

static int
CompareLists(const uint32 *a, int32 na, const uint32 *b, int32 nb)
{
	int32		i;

	if (na != nb)
		return na < nb ? -1 : 1;
	for (i = 0; i < na; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return 0;
}

/* qsort_arg comparator for the documented row order. */
static int
CompareRules(const void *a, const void *b, void *arg)
{
	const RuleSort *rs = (const RuleSort *) arg;
	const Rule *x = (const Rule *) a;
	const Rule *y = (const Rule *) b;
	uint32		lx[MAX_RULE_ITEMSET];
	uint32		ly[MAX_RULE_ITEMSET];
	int32		nx;
	int32		ny;
	int			c;

	if (x->key != y->key)
		return ((x->key > y->key) != rs->ascending) ? -1 : 1;
	CX_CMP_DESC(x->confidence, y->confidence);
	CX_CMP_DESC(x->lift, y->lift);
	CX_CMP_DESC(rs->p->set_count[x->set], rs->p->set_count[y->set]);
	nx = SplitItems(rs->p, x->set, x->amask, true, lx);
	ny = SplitItems(rs->p, y->set, y->amask, true, ly);
	if ((c = CompareLists(lx, nx, ly, ny)) != 0)
		return c;
	nx = SplitItems(rs->p, x->set, x->amask, false, lx);
	ny = SplitItems(rs->p, y->set, y->amask, false, ly);
	return CompareLists(lx, nx, ly, ny);
}

/* The measure named by rank_by. */
static double
OrderKey(RuleOrder order, const CxMeasures *m, int64 count)
{
	switch (order)
	{
		case ORDER_CONFIDENCE:
			return m->confidence;
		case ORDER_LIFT:
			return m->lift;
		case ORDER_SUPPORT:
			return m->support;
		case ORDER_LEVERAGE:
			return m->leverage;
		case ORDER_CONVICTION:
			return m->conviction;
		case ORDER_JACCARD:
			return m->jaccard;
		case ORDER_KULCZYNSKI:
			return m->kulczynski;
		case ORDER_CERTAINTY:
			return m->certainty;
		case ORDER_ZHANG:
			return m->zhang;
		case ORDER_COUNT:
			return (double) count;
		case ORDER_P_VALUE:
			return m->p_value;
	}
	return 0.0;
}

/*
 * The items named in a text[] argument (see CxPatternsMarkItems), or NULL
 * when the argument is NULL, meaning no restriction.
 */
static bool *
AllowedItems(FunctionCallInfo fcinfo, int argno, CxPatterns *p)
{
	bool	   *allowed;

	if (PG_ARGISNULL(argno))
		return NULL;
	allowed = palloc0(Max(p->nitems, 1) * sizeof(bool));
	(void) CxPatternsMarkItems(p, PG_GETARG_ARRAYTYPE_P(argno), allowed, NULL);
	return allowed;
}

/* Bitmask over set s's items of those allowed (all when allowed is NULL). */
static uint64
AllowedMask(const CxPatterns *p, int64 s, const bool *allowed)
{
	const uint32 *items = p->set_items + p->set_off[s];
	uint64		mask = 0;
	int32		k;

	for (k = 0; k < p->set_size[s]; k++)
		if (allowed == NULL || allowed[items[k]])
			mask |= UINT64CONST(1) << k;
	return mask;
}

/* What patterns_rules collects, and the filters it applies. */
typedef struct RuleCollector
{
	const CxPatterns *p;
	RuleOrder	order;
	double		min_confidence;
	double		min_lift;
	int32		max_antecedent;
	int32		max_consequent;
	bool		redundant;		/* keep the redundant rules */
	const uint8 *basis;			/* min-max basis only: CxPatternsKinds */
	double		interest;		/* > 0: keep only rules this interesting
								 * against their close ancestors */
	Rule	   *rules;
	int64		nrules;
	int64		caprules;
	int64		tried;
} RuleCollector;

/*
 * Is x1 / y1 >= x2 / y2, for counts x and positive y: exactly, as
 * products of counts (a value mined on many nodes may count past 2^32, so
 * in 128 bits where the compiler has them).
 */
static inline bool
RatioAtLeast(int64 x1, int64 y1, int64 x2, int64 y2)
{
#ifdef HAVE_INT128
	return (int128) x1 * y2 >= (int128) x2 * y1;
#else
	return (long double) x1 * y2 >= (long double) x2 * y1;
#endif
}

/*
 * Is the rule A -> C of itemset s (A the items in mask, set_a its itemset)
 * redundant: is there a rule A' -> C, A' a nonempty proper subset of A,
 * with at least its confidence?  Confidences are compared exactly, as
 * ratios of counts.
 */
static bool
IsRedundant(RuleCollector *rc, int64 s, uint64 mask, int64 set_a)
{
	const CxPatterns *p = rc->p;
	uint64		full = (UINT64CONST(1) << p->set_size[s]) - 1;
	uint64		sub;

	for (sub = (mask - 1) & mask; sub != 0; sub = (sub - 1) & mask)
	{
		uint32		items[MAX_RULE_ITEMSET];
		int32		k;
		int64		set_sub;
		int64		set_subc;

		if ((++rc->tried & 65535) == 0)
			CHECK_FOR_INTERRUPTS();
		k = SplitItems(p, s, sub, true, items);
		set_sub = CxPatternsFind(p, items, k);
		k = SplitItems(p, s, sub | (full & ~mask), true, items);
		set_subc = CxPatternsFind(p, items, k);
		if (set_sub < 0 || set_subc < 0)
			elog(ERROR, "cxsell.patterns value lacks a subset of an itemset, please report a bug");
		if (p->weighted ?
			p->set_weight[set_subc] * p->set_weight[set_a] >=
			p->set_weight[s] * p->set_weight[set_sub] :
			RatioAtLeast(p->set_count[set_subc], p->set_count[set_sub],
						 p->set_count[s], p->set_count[set_a]))
			return true;
	}
	return false;
}

/*
 * Is the rule A -> C of itemset X = s (A the items in mask) interesting
 * against each of its close ancestors: the rules made by replacing one item
 * z of X by one of its parents z' (Srikant and Agrawal 1995)?  Based on an
 * ancestor X', X's support is expected to be s(X') s(z) / s(z'), and the
 * rule's confidence conf(A' -> C') s(z) / s(z') when z is in C, conf(A' ->
 * C) when z is in A.  The rule is interesting against an ancestor when its
 * support or its confidence is at least `interest` times the expected one.
 * An ancestor rule whose itemset is not stored (it would hold an item and
 * its ancestor, or z' is already in X) is no ancestor.
 */
static bool
IsInteresting(RuleCollector *rc, int64 s, uint64 mask, int64 set_a)
{
	const CxPatterns *p = rc->p;
	const uint32 *items = p->set_items + p->set_off[s];
	int32		size = p->set_size[s];
	double		supp = CxSetSupport(p, s);
	double		conf = supp / CxSetSupport(p, set_a);
	int32		i;

	for (i = 0; i < size; i++)
	{
		uint32		z = items[i];
		bool		in_a = (mask >> i) & 1;
		int64		first;
		int64		end;
		int64		l;

		CxParentLinks(p, z, &first, &end);
		for (l = first; l < end; l++)
		{
			uint32		zp = p->link_parent[l];
			uint32		xa[MAX_RULE_ITEMSET];
			uint32		aa[MAX_RULE_ITEMSET];
			int32		na = 0;
			int32		j;
			int64		set_x;
			double		ratio;
			double		expect_supp;
			double		expect_conf;

			if ((++rc->tried & 65535) == 0)
				CHECK_FOR_INTERRUPTS();
			for (j = 0; j < size; j++)
			{
				xa[j] = (j == i) ? zp : items[j];
				if ((mask >> j) & 1)
					aa[na++] = xa[j];
			}
			CxSortUint32(xa, size);
			set_x = CxPatternsFind(p, xa, size);
			if (set_x < 0)
				continue;
			ratio = CxSetSupport(p, z) / CxSetSupport(p, zp);
			expect_supp = CxSetSupport(p, set_x) * ratio;
			if (in_a)
			{
				int64		set_ap;

				CxSortUint32(aa, na);
				set_ap = CxPatternsFind(p, aa, na);
				if (set_ap < 0)
					elog(ERROR, "cxsell.patterns value lacks a subset of an itemset, please report a bug");
				expect_conf = CxSetSupport(p, set_x) / CxSetSupport(p, set_ap);
			}
			else
				expect_conf = CxSetSupport(p, set_x) / CxSetSupport(p, set_a) * ratio;
			if (!(supp >= rc->interest * expect_supp ||
				  conf >= rc->interest * expect_conf))
				return false;
		}
	}
	return true;
}

/* Keep the rule A -> C of itemset s, A the items in mask, if it passes. */
static void
ConsiderSplit(RuleCollector *rc, int64 s, uint64 mask)
{
	const CxPatterns *p = rc->p;
	int32		k = p->set_size[s];
	int32		na = pg_popcount64(mask);
	uint32		a_items[MAX_RULE_ITEMSET];
	uint32		c_items[MAX_RULE_ITEMSET];
	CxMeasures	m;
	int64		set_a;
	int64		set_c;
	Rule	   *rule;

	if ((++rc->tried & 65535) == 0)
		CHECK_FOR_INTERRUPTS();
	if ((rc->max_antecedent > 0 && na > rc->max_antecedent) ||
		(rc->max_consequent > 0 && k - na > rc->max_consequent))
		return;
	SplitItems(p, s, mask, true, a_items);
	SplitItems(p, s, mask, false, c_items);
	set_a = CxPatternsFind(p, a_items, na);
	set_c = CxPatternsFind(p, c_items, k - na);
	if (set_a < 0 || set_c < 0)
		elog(ERROR, "cxsell.patterns value lacks a subset of an itemset, please report a bug");
	/* in the basis, antecedents are generators */
	if (rc->basis != NULL && (rc->basis[set_a] & CX_SET_HAS_EQUAL_SUBSET) != 0)
		return;
	CxPatternsMeasures(p, s, set_a, set_c, &m);
	/* a weighted measure with nothing to divide by (NaN) passes no filter */
	if (!(m.confidence >= rc->min_confidence && m.lift >= rc->min_lift))
		return;
	if (!rc->redundant && IsRedundant(rc, s, mask, set_a))
		return;
	if (rc->interest > 0.0 && p->nlinks > 0 && !IsInteresting(rc, s, mask, set_a))
		return;
	m.p_value = cx_fisher_greater(p->set_count[s], p->set_count[set_a],
								  p->set_count[set_c], p->n);
	rc->rules = CxGrowArray(rc->rules, &rc->caprules, rc->nrules + 1, sizeof(Rule),
							CurrentMemoryContext, CurrentMemoryContext, CX_WORK_RULES);
	rule = &rc->rules[rc->nrules++];
	rule->set = s;
	rule->amask = mask;
	rule->set_a = set_a;
	rule->set_c = set_c;
	rule->key = OrderKey(rc->order, &m, p->set_count[s]);
	rule->confidence = m.confidence;
	rule->lift = m.lift;
	rule->p_value = m.p_value;
}

/*
 * Consider every split of itemset s into an antecedent of allowed items and
 * a consequent of allowed items: the antecedents hold every item that may
 * not be in the consequent (need) and some of those that may be in either
 * (free), so only the subsets of `free` are enumerated.
 */
static void
ConsiderItemset(RuleCollector *rc, int64 s, const bool *allowed_a,
				const bool *allowed_c)
{
	int32		k = rc->p->set_size[s];
	uint64		full;
	uint64		need;
	uint64		free;
	uint64		sub;

	/* in the basis, the rule's itemset is closed */
	if (rc->basis != NULL && (rc->basis[s] & CX_SET_HAS_EQUAL_SUPERSET) != 0)
		return;
	if (k > MAX_RULE_ITEMSET)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("cannot derive rules from an itemset of %d items", k),
				 errhint("Mine with max_len at most %d.", MAX_RULE_ITEMSET)));
	full = (UINT64CONST(1) << k) - 1;
	need = full & ~AllowedMask(rc->p, s, allowed_c);
	free = AllowedMask(rc->p, s, allowed_a) & ~need;
	if ((need & ~AllowedMask(rc->p, s, allowed_a)) != 0)
		return;
	for (sub = free;; sub = (sub - 1) & free)
	{
		uint64		mask = need | sub;

		if (mask != 0 && mask != full)
			ConsiderSplit(rc, s, mask);
		if (sub == 0)
			break;
	}
}

/* Read and check the arguments of cxsell.rules() into rc. */
static void
RuleArguments(FunctionCallInfo fcinfo, RuleCollector *rc, int64 *max_rules,
			  cx_adjust_method *adjust, bool *basis)
{
	char	   *order_name;
	bool		found = false;
	int			i;

	CxRequireArg(fcinfo, 1, "min_confidence", "Omit the argument to use its default.");
	CxRequireArg(fcinfo, 2, "min_lift", "Omit the argument to use its default.");
	CxRequireArg(fcinfo, 3, "max_antecedent", "Omit the argument to use its default.");
	CxRequireArg(fcinfo, 4, "max_consequent", "Omit the argument to use its default.");
	CxRequireArg(fcinfo, 7, "max_rules", "Omit the argument to use its default.");
	CxRequireArg(fcinfo, 8, "rank_by", "Omit the argument to use its default.");
	rc->min_confidence = PG_GETARG_FLOAT8(1);
	rc->min_lift = PG_GETARG_FLOAT8(2);
	rc->max_antecedent = PG_GETARG_INT32(3);
	rc->max_consequent = PG_GETARG_INT32(4);
	*max_rules = PG_GETARG_INT64(7);
	order_name = text_to_cstring(PG_GETARG_TEXT_PP(8));
	/* the 0.1 and 0.2 signatures have no adjust and no q_value column */
	*adjust = PG_NARGS() > 9 ? CxAdjustArg(fcinfo, 9) : CX_ADJUST_NONE;
	/* before 0.4, no redundant and no basis */
	rc->redundant = true;
	*basis = false;
	if (PG_NARGS() > 11)
	{
		CxRequireArg(fcinfo, 10, "redundant", "Omit the argument to use its default.");
		CxRequireArg(fcinfo, 11, "basis", "Omit the argument to use its default.");
		rc->redundant = PG_GETARG_BOOL(10);
		*basis = PG_GETARG_BOOL(11);
	}
	/* 0.5: rules interesting against their ancestors under a hierarchy */
	rc->interest = 0.0;
	if (PG_NARGS() > 12)
	{
		CxRequireArg(fcinfo, 12, "ancestor_interest",
					 "Use 0 to keep every rule, or a factor such as 1.1.");
		rc->interest = PG_GETARG_FLOAT8(12);
		if (!(rc->interest >= 0.0 && rc->interest <= 1e6))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("ancestor_interest %g is out of range", rc->interest),
					 errdetail("A rule is kept when its support or confidence is at least ancestor_interest times the one its close ancestor rules lead to expect."),
					 errhint("Use 0 to keep every rule, or a factor such as 1.1.")));
	}

	CxCheckRuleThresholds(rc->min_confidence, rc->min_lift);
	CxRequireNonNegative(rc->max_antecedent, "max_antecedent",
						 "Use 0 for no limit, or the largest number of items an antecedent may have.");
	CxRequireNonNegative(rc->max_consequent, "max_consequent",
						 "Use 0 for no limit, or the largest number of items a consequent may have.");
	CxRequireNonNegative(*max_rules, "max_rules",
						 "Use 0 to return every rule, or the number of best rules to return.");
	rc->order = ORDER_CONFIDENCE;
	for (i = 0; i < (int) lengthof(order_names); i++)
		if (strcmp(order_name, order_names[i]) == 0)
		{
			rc->order = (RuleOrder) i;
			found = true;
		}
	if (!found)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unrecognized rank_by measure \"%s\"", order_name),
				 errhint("Use one of confidence, lift, support, leverage, conviction, jaccard, kulczynski, certainty, zhang, count or p_value.")));
}

/* Emit one rule with every measure. */
static void
EmitRule(const CxPatterns *p, const Rule *rule, Tuplestorestate *store,
		 TupleDesc tupdesc)
{
	int64		n_ac = p->set_count[rule->set];
	uint32		items[MAX_RULE_ITEMSET];
	int32		n;
	CxMeasures	m;
	Datum		values[16];
	bool		nulls[16] = {0};

	CxPatternsMeasures(p, rule->set, rule->set_a, rule->set_c, &m);
	n = SplitItems(p, rule->set, rule->amask, true, items);
	values[0] = CxTextArray(p, items, n);
	n = SplitItems(p, rule->set, rule->amask, false, items);
	values[1] = CxTextArray(p, items, n);
	values[2] = Float8GetDatum(m.antecedent_support);
	values[3] = Float8GetDatum(m.consequent_support);
	values[4] = Float8GetDatum(m.support);
	values[5] = Float8GetDatum(m.confidence);
	values[6] = Float8GetDatum(m.lift);
	values[7] = Float8GetDatum(m.leverage);
	values[8] = Float8GetDatum(m.conviction);
	values[9] = Float8GetDatum(m.jaccard);
	values[10] = Float8GetDatum(m.kulczynski);
	values[11] = Float8GetDatum(m.certainty);
	values[12] = Float8GetDatum(m.zhang);
	values[13] = Int64GetDatum(n_ac);
	values[14] = Float8GetDatum(rule->p_value);
	values[15] = Float8GetDatum(rule->q_value);
	Assert(tupdesc->natts == 16 || tupdesc->natts == 15);
	tuplestore_putvalues(store, tupdesc, values, nulls);
	pfree(DatumGetPointer(values[0]));
	pfree(DatumGetPointer(values[1]));
}

Datum
patterns_rules(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Tuplestorestate *store;
	CxPatterns *p;
	RuleCollector rc;
	int64		max_rules;
	bool		basis;
	bool	   *allowed_a;
	bool	   *allowed_c;
	int64		s;
	int64		r;
	RuleSort	rs;
	cx_adjust_method adjust;
	double	   *q;
	ErrorContextCallback call;

	memset(&rc, 0, sizeof(rc));
	RuleArguments(fcinfo, &rc, &max_rules, &adjust, &basis);
	store = CxMaterializeSRF(fcinfo, &tupdesc);
	if (PG_ARGISNULL(0))
		return (Datum) 0;
	p = CxPatternsFromDatum(PG_GETARG_DATUM(0));
	CxEnterCall(&call, "function cxsell.rules");
	rc.p = p;
	if (basis)
		rc.basis = CxPatternsKinds(p);
	allowed_a = AllowedItems(fcinfo, 5, p);
	allowed_c = AllowedItems(fcinfo, 6, p);

	/* collect the candidate rules that pass the filters */
	for (s = p->nitems; s < p->nsets; s++)
	{
		CHECK_FOR_INTERRUPTS();
		ConsiderItemset(&rc, s, allowed_a, allowed_c);
	}

	/* adjust the p-values of every rule that passed, together */
	CxCheckMemory(CurrentMemoryContext, (Size) Max(rc.nrules, 1) * sizeof(double),
				  CX_WORK_RULES);
	q = MemoryContextAllocHuge(CurrentMemoryContext, (Size) Max(rc.nrules, 1) * sizeof(double));
	for (r = 0; r < rc.nrules; r++)
		q[r] = rc.rules[r].p_value;
	CxAdjustPValues(q, rc.nrules, adjust, CX_WORK_RULES);
	for (r = 0; r < rc.nrules; r++)
		rc.rules[r].q_value = q[r];
	pfree(q);

	rs.p = p;
	rs.ascending = (rc.order == ORDER_P_VALUE);
	qsort_arg(rc.rules, rc.nrules, sizeof(Rule), CompareRules, &rs);
	if (max_rules > 0 && rc.nrules > max_rules)
		rc.nrules = max_rules;
	for (r = 0; r < rc.nrules; r++)
	{
		if ((r & 255) == 0)
			CHECK_FOR_INTERRUPTS();
		EmitRule(p, &rc.rules[r], store, tupdesc);
	}
	CxLeaveCall(&call);
	return (Datum) 0;
}
