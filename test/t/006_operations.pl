#
# 006_operations.pl -- operating the managed layer:
#
# - upgrade: a database on 0.1 with a stored cxsell.patterns value moves to
#   the current version with ALTER EXTENSION UPDATE and keeps working;
# - dump and restore: definitions, results, the run log and the owner of a
#   stored query survive pg_dump / pg_restore into a new database;
# - definer rights: a stored query runs as the role that wrote it, even
#   when a superuser refreshes it;
# - pg_cron: a nightly job, run as a superuser, CALLs cxsell.refresh_all()
#   over an honest rule set and an attacker's: the honest one is refreshed,
#   the attack fails, is logged, and changes nothing (pg_cron 1.4's finest
#   schedule is a minute, so this part waits up to one).

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('operations');
$node->init;
# pg_cron: required by the project's test command (which installs it for
# every server it tests); a server without it skips that part, saying so
my $cron_lib = $node->config_data('--pkglibdir') . '/pg_cron.so';
my $with_cron = -e $cron_lib;
die "pg_cron is not installed for this server ($cron_lib not found)\n"
  if !$with_cron && $ENV{CXSELL_REQUIRE_PG_CRON};
$node->append_conf('postgresql.conf',
	"shared_preload_libraries = 'pg_cron'\ncron.database_name = 'postgres'\n"
	  . "cron.use_background_workers = on\n")
  if $with_cron;
$node->start;

# --- pg_cron: scheduled first, checked last (pg_cron 1.4 runs a job at the
# start of a minute) -------------------------------------------------------
# The nightly job runs as the superuser that scheduled it.  Role cx_mallory
# owns a rule set whose query calls a function that tries to switch back
# to that superuser and make cx_mallory one.
my ($cron, $every);
if ($with_cron)
{
	$node->safe_psql('postgres', q{
		CREATE EXTENSION cxsell;
		CREATE EXTENSION pg_cron;
		CREATE TABLE lines AS
		SELECT b AS basket, (ARRAY['A', 'B', 'C'])[1 + (b * k) % 3] AS item
		FROM generate_series(1, 100) b, generate_series(1, 2) k;
		CREATE TABLE stolen (x text);
		SELECT cxsell.create_rule_set('nightly', 'SELECT basket, item FROM public.lines', 0.1);
		CREATE ROLE cx_mallory;
		GRANT USAGE ON SCHEMA cxsell TO cx_mallory;
		GRANT EXECUTE ON ALL ROUTINES IN SCHEMA cxsell TO cx_mallory;
		GRANT SELECT ON lines TO cx_mallory;
		CREATE SCHEMA mallory AUTHORIZATION cx_mallory;
		SET ROLE cx_mallory;
		CREATE FUNCTION mallory.hook() RETURNS text LANGUAGE plpgsql AS $$ BEGIN RETURN 'x'; END $$;
		SELECT cxsell.create_rule_set('attack',
		  'SELECT basket, item FROM public.lines WHERE mallory.hook() IS NOT NULL', 0.1);
		CREATE OR REPLACE FUNCTION mallory.hook() RETURNS text LANGUAGE plpgsql AS $$
		BEGIN
		  RESET ROLE;
		  INSERT INTO public.stolen VALUES ('escalated');
		  ALTER ROLE cx_mallory SUPERUSER;
		  RETURN 'x';
		END $$;
		RESET ROLE;
	});
	# pg_cron 1.5 and later take schedules in seconds
	$cron = $node->safe_psql('postgres',
		q{SELECT extversion FROM pg_extension WHERE extname = 'pg_cron'});
	$every = ($cron =~ /^1\.[0-4]\b/) ? '* * * * *' : '1 seconds';
	$node->safe_psql('postgres',
		qq{SELECT cron.schedule('cxsell-nightly', '$every', \$\$CALL cxsell.refresh_all()\$\$)});
}


# --- upgrade from 0.1 -------------------------------------------------------
$node->safe_psql('postgres', q{
	CREATE DATABASE upgrade;
});
$node->safe_psql('upgrade', q{
	CREATE EXTENSION cxsell VERSION '0.1';
	CREATE TABLE lines AS
	SELECT b AS basket, (ARRAY['A', 'B', 'C', 'D'])[1 + (b * k) % 4] AS item
	FROM generate_series(1, 200) b, generate_series(1, 3) k;
	CREATE TABLE mined AS SELECT cxsell.mine(basket, item, 0.1) AS p FROM lines;
});
is($node->safe_psql('upgrade', q{SELECT extversion FROM pg_extension WHERE extname = 'cxsell'}),
	'0.1', 'installed 0.1');
my $before = $node->safe_psql('upgrade', 'SELECT count(*) FROM mined, cxsell.rules(p)');
# on 0.2, a rule set refreshed by an analyst given the table grants 0.2's
# documentation suggested
$node->safe_psql('upgrade', q{
	ALTER EXTENSION cxsell UPDATE TO '0.2';
	CREATE ROLE cx_old_analyst;
	GRANT USAGE ON SCHEMA cxsell TO cx_old_analyst;
	GRANT SELECT ON lines TO cx_old_analyst;
	GRANT SELECT, INSERT, UPDATE, DELETE ON cxsell.rule_sets, cxsell.segmentations, cxsell.rule_set_patterns,
	  cxsell.rule_set_rules, cxsell.rule_set_pairs, cxsell.rule_set_recommendations,
	  cxsell.refresh_log TO cx_old_analyst;
	GRANT USAGE ON SEQUENCE cxsell.refresh_log_id_seq TO cx_old_analyst;
	CREATE ROLE cx_old_dashboard;
	GRANT SELECT ON cxsell.current_itemsets, cxsell.current_rules TO cx_old_dashboard;
	SET ROLE cx_old_analyst;
	SELECT cxsell.create_rule_set('old', 'SELECT basket, item FROM public.lines', 0.1);
	CALL cxsell.refresh('old');
});
my ($rc, $out, $err) = $node->psql('upgrade', 'ALTER EXTENSION cxsell UPDATE');
like($err, qr/WARNING:  revoked the privileges of role cx_old_analyst on cxsell.rule_sets/,
	'the update to 0.3 says which grants it revokes');
is($node->safe_psql('upgrade', q{
	SELECT count(*) FROM pg_class c, aclexplode(c.relacl) a
	WHERE c.relnamespace = 'cxsell'::regnamespace AND a.grantee = 'cx_old_analyst'::regrole}),
	'0', 'and the old analyst keeps no privilege on the tables');
is($node->safe_psql('upgrade', q{
	SELECT has_table_privilege('cx_old_dashboard', 'cxsell.current_itemsets', 'SELECT'),
	       has_table_privilege('cx_old_dashboard', 'cxsell.current_rules', 'SELECT')}),
	't|t', 'a dashboard keeps its grants on the views, including one the update recreates');
is($node->safe_psql('upgrade', q{
	SELECT name || ' ' || owner || ' ' || last_status
	FROM cxsell.analyses JOIN cxsell.refresh_status USING (kind, name)}),
	'old cx_old_analyst success', 'the rule set and its run log are kept, with their owner');
$node->safe_psql('upgrade', q{
	GRANT EXECUTE ON ALL ROUTINES IN SCHEMA cxsell TO cx_old_analyst;
	SET ROLE cx_old_analyst;
	CALL cxsell.refresh('old');
});
is($node->safe_psql('upgrade', q{SELECT string_agg(status || '/' || owner, ' ' ORDER BY id) FROM cxsell.refresh_history}),
	'success/cx_old_analyst success/cx_old_analyst', 'and it refreshes under the new grants');
is($node->safe_psql('upgrade', q{SELECT extversion FROM pg_extension WHERE extname = 'cxsell'}),
	'0.6', 'updated to the current version');
is($node->safe_psql('upgrade', 'SELECT count(*) FROM mined, cxsell.rules(p)'),
	$before, 'a value stored under 0.1 reads the same after the update');
is($node->safe_psql('upgrade', q{SELECT count(*) FROM mined, cxsell.recommend(p, '{A}', 2)}),
	'2', 'the functions of later versions work on it');
# the updated extension holds the same objects as a fresh install
my $objects = q{
	SELECT pg_describe_object(classid, objid, 0) FROM pg_depend
	WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
	  AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'cxsell')
	ORDER BY 1};
$node->safe_psql('postgres', 'CREATE DATABASE fresh');
$node->safe_psql('fresh', 'CREATE EXTENSION cxsell');
is($node->safe_psql('upgrade', $objects), $node->safe_psql('fresh', $objects),
	'updated and fresh installs have the same objects');

# --- update from 0.3: grants on the managed routines stay as they were ------
$node->safe_psql('postgres', 'CREATE DATABASE from03');
$node->safe_psql('from03', q{
	CREATE EXTENSION cxsell VERSION '0.3';
	CREATE ROLE cx_03_analyst;
	CREATE ROLE cx_03_other;
	GRANT EXECUTE ON FUNCTION
	  cxsell.create_rule_set(text, text, float8, int4, float8, float8, int4, text)
	  TO cx_03_analyst WITH GRANT OPTION;
	GRANT EXECUTE ON FUNCTION
	  cxsell.alter_rule_set(text, text, float8, int4, float8, float8, int4, text)
	  TO cx_03_analyst;
	CREATE TABLE lines AS SELECT b AS basket, 'A' AS item FROM generate_series(1, 10) b;
	SELECT cxsell.create_rule_set('kept', 'TABLE lines', 0.1);
	ALTER EXTENSION cxsell UPDATE;
	SELECT cxsell.create_rule_set('new', 'TABLE lines', 0.1);
});
is($node->safe_psql('from03', q{
	SELECT has_function_privilege('cx_03_analyst',
	         'cxsell.create_rule_set(text,text,float8,int4,float8,float8,int4,text)',
	         'EXECUTE WITH GRANT OPTION'),
	       has_function_privilege('cx_03_analyst',
	         'cxsell.alter_rule_set(text,text,float8,int4,float8,float8,int4,text)', 'EXECUTE'),
	       has_function_privilege('cx_03_other',
	         'cxsell.alter_rule_set(text,text,float8,int4,float8,float8,int4,text)', 'EXECUTE'),
	       has_function_privilege('cx_03_analyst', 'cxsell.set_rule_set_rules(text,boolean,boolean)',
	         'EXECUTE'),
	       has_function_privilege('cx_03_analyst',
	         'cxsell_internal.set_rule_set_rules(name,text,text,boolean,boolean)', 'EXECUTE'),
	       (SELECT string_agg(name || ' ' || redundant || ' ' || basis, ', ' ORDER BY name)
	        FROM cxsell.rule_sets),
	       (SELECT extversion FROM pg_extension WHERE extname = 'cxsell')}),
	't|t|f|f|f|kept true false, new true false|0.6',
	'the update to 0.4 keeps the grants on the managed routines, grants none on the new one, and keeps the definitions');

# --- update from 0.4: grants on the routines and on the replaced view stay ---
$node->safe_psql('postgres', 'CREATE DATABASE from04');
$node->safe_psql('from04', q{
	CREATE EXTENSION cxsell VERSION '0.4';
	CREATE ROLE cx_04_analyst;
	CREATE ROLE cx_04_dashboard;
	GRANT USAGE ON SCHEMA cxsell TO cx_04_analyst, cx_04_dashboard;
	GRANT EXECUTE ON FUNCTION cxsell.set_rule_set_rules(text, boolean, boolean) TO cx_04_analyst;
	GRANT EXECUTE ON FUNCTION
	  cxsell.alter_rule_set(text, text, float8, int4, float8, float8, int4, text) TO cx_04_analyst;
	GRANT EXECUTE ON FUNCTION
	  cxsell.create_rule_set(text, text, float8, int4, float8, float8, int4, text) TO cx_04_analyst;
	GRANT SELECT ON cxsell.current_bundles TO cx_04_dashboard;
	GRANT cx_04_analyst TO cx_04_dashboard;
	CREATE TABLE lines AS SELECT b AS basket, (ARRAY['A', 'B', 'C'])[1 + (b * k) % 3] AS item
	FROM generate_series(1, 30) b, generate_series(1, 2) k;
	GRANT SELECT ON lines TO cx_04_analyst;
	CREATE TABLE mined AS SELECT cxsell.mine(basket, item, 0.1) AS p FROM lines;
	SET ROLE cx_04_analyst;
	-- a query that happens to return a column named weight
	SELECT cxsell.create_rule_set('kept', 'SELECT basket, item, 2.5 AS weight FROM public.lines', 0.1);
	SELECT cxsell.set_rule_set_rules('kept', redundant => false);
	RESET ROLE;
	CALL cxsell.refresh('kept');
});
my $before04 = $node->safe_psql('from04',
	q{SELECT (SELECT count(*) FROM mined, cxsell.rules(p)) || ' ' || (SELECT p::text FROM mined)});
my $bundles04 = $node->safe_psql('from04',
	'SET ROLE cx_04_dashboard; SELECT count(*) FROM cxsell.current_bundles');
cmp_ok($bundles04, '>', 0, 'under 0.4 the dashboard reads the bundles of the analyst it is a member of');
$node->safe_psql('from04', 'ALTER EXTENSION cxsell UPDATE');
is($node->safe_psql('from04', q{
	SELECT has_function_privilege('cx_04_analyst', 'cxsell.set_rule_set_rules(text,boolean,boolean)',
	         'EXECUTE'),
	       has_table_privilege('cx_04_dashboard', 'cxsell.current_bundles', 'SELECT'),
	       has_function_privilege('cx_04_analyst', 'cxsell.set_rule_set_interest(text,float8)',
	         'EXECUTE'),
	       has_function_privilege('cx_04_analyst',
	         'cxsell_internal.set_rule_set_interest(name,text,text,float8)', 'EXECUTE'),
	       has_table_privilege('cx_04_dashboard', 'cxsell.current_hierarchy', 'SELECT'),
	       (SELECT string_agg(name || ' ' || redundant || ' ' || coalesce(ancestor_interest::text, 'null'), ', ')
	        FROM cxsell.rule_sets),
	       (SELECT extversion FROM pg_extension WHERE extname = 'cxsell')}),
	't|t|f|f|f|kept false null|0.6',
	'the update to 0.5 keeps the grants on the routines and on current_bundles, grants none on the new gate or view, and keeps the definitions');
is($node->safe_psql('from04',
		q{SELECT (SELECT count(*) FROM mined, cxsell.rules(p)) || ' ' || (SELECT p::text FROM mined)}),
	$before04, 'a value stored under 0.4 reads the same and keeps its bytes');
$node->safe_psql('from04', q{CALL cxsell.refresh('kept')});
is($node->safe_psql('from04', q{
	SET ROLE cx_04_dashboard;
	SELECT count(*) || ' ' || count(*) FILTER (WHERE weight IS NULL) FROM cxsell.current_bundles}),
	"$bundles04 $bundles04", 'the dashboard reads the bundles, now with their weight column, after a refresh');
is($node->safe_psql('from04', q{
	SELECT (SELECT query_before_0_5 FROM cxsell.rule_sets WHERE name = 'kept'),
	       (SELECT cxsell.itemset_weight(patterns, '{A}') FROM cxsell.rule_set_patterns WHERE name = 'kept')}),
	't|', 'a rule set defined before 0.5 does not mine with its query\'s weight column');
$node->safe_psql('from04', q{
	SET ROLE cx_04_analyst;
	SELECT cxsell.alter_rule_set('kept', source_query => 'SELECT basket, item, 2.5 AS weight FROM public.lines ');
	RESET ROLE;
	CALL cxsell.refresh('kept');
});
is($node->safe_psql('from04', q{
	SELECT (SELECT query_before_0_5 IS NULL FROM cxsell.rule_sets WHERE name = 'kept'),
	       (SELECT cxsell.itemset_weight(patterns, '{A}') > 0 FROM cxsell.rule_set_patterns WHERE name = 'kept')}),
	't|t', 'once its query is rewritten, it does');

# --- update from 0.5: grants stay, nothing new is granted, no rule set mines
#     sequences until it is given a window ----------------------------------
$node->safe_psql('postgres', 'CREATE DATABASE from05');
$node->safe_psql('from05', q{
	CREATE EXTENSION cxsell VERSION '0.5';
	CREATE ROLE cx_05_analyst;
	CREATE ROLE cx_05_dashboard;
	GRANT USAGE ON SCHEMA cxsell TO cx_05_analyst, cx_05_dashboard;
	GRANT EXECUTE ON FUNCTION cxsell.set_rule_set_interest(text, float8) TO cx_05_analyst;
	GRANT EXECUTE ON FUNCTION
	  cxsell.create_rule_set(text, text, float8, int4, float8, float8, int4, text) TO cx_05_analyst;
	GRANT SELECT ON cxsell.current_rule_drift, cxsell.analyses TO cx_05_dashboard;
	CREATE TABLE accounts AS SELECT 'c' || (b % 10) AS customer, (ARRAY['A', 'B', 'C', 'D', 'E'])[1 + (b * k) % 5] AS item,
	       date '2024-01-01' + b AS opened
	FROM generate_series(1, 40) b, generate_series(1, 2) k;
	GRANT SELECT ON accounts TO cx_05_analyst;
	CREATE TABLE mined AS SELECT cxsell.mine(customer, item, 0.1) AS p FROM accounts;
	SET ROLE cx_05_analyst;
	-- a query that happens to return a column named at
	SELECT cxsell.create_rule_set('kept',
	  'SELECT customer AS basket, item, customer, opened AS at FROM public.accounts', 0.1);
	RESET ROLE;
	CALL cxsell.refresh('kept');
});
my $before05 = $node->safe_psql('from05', q{SELECT p::text FROM mined});
$node->safe_psql('from05', 'ALTER EXTENSION cxsell UPDATE');
is($node->safe_psql('from05', q{
	SELECT has_function_privilege('cx_05_analyst', 'cxsell.set_rule_set_interest(text,float8)', 'EXECUTE'),
	       has_table_privilege('cx_05_dashboard', 'cxsell.current_rule_drift', 'SELECT'),
	       has_table_privilege('cx_05_dashboard', 'cxsell.analyses', 'SELECT'),
	       has_function_privilege('cx_05_analyst', 'cxsell.set_rule_set_sequences(text,text)', 'EXECUTE'),
	       has_function_privilege('cx_05_analyst',
	         'cxsell_internal.set_rule_set_sequences(name,text,text,text)', 'EXECUTE'),
	       has_table_privilege('cx_05_dashboard', 'cxsell.current_sequence_rules', 'SELECT'),
	       has_table_privilege('cx_05_dashboard', 'cxsell.current_next_recommendations', 'SELECT'),
	       has_table_privilege('cx_05_dashboard', 'cxsell.rule_set_next_recommendations', 'SELECT'),
	       (SELECT string_agg(name || ' ' || coalesce(sequence_within, 'null'), ', ') FROM cxsell.rule_sets),
	       (SELECT extversion FROM pg_extension WHERE extname = 'cxsell')}),
	't|t|t|f|f|f|f|f|kept null|0.6',
	'the update to 0.6 keeps the grants, grants none on the new gate, views or table, and gives no rule set a window');
is($node->safe_psql('from05', q{SELECT p::text FROM mined}), $before05,
	'a value stored under 0.5 keeps its bytes');
$node->safe_psql('from05', q{CALL cxsell.refresh('kept')});
is($node->safe_psql('from05', q{
	SELECT (SELECT count(*) FROM cxsell.rule_set_patterns WHERE sequences IS NOT NULL),
	       (SELECT count(*) FROM cxsell.rule_set_next_recommendations),
	       (SELECT count(*) > 0 FROM cxsell.rule_set_rules)}),
	'0|0|t', 'a rule set whose query has a column named at mines no sequences after the update');
$node->safe_psql('from05', q{
	SELECT cxsell.set_rule_set_sequences('kept', '30 days');
	CALL cxsell.refresh('kept');
});
is($node->safe_psql('from05', q{
	SELECT (SELECT count(*) FROM cxsell.rule_set_patterns WHERE sequences IS NOT NULL),
	       (SELECT count(*) > 0 FROM cxsell.current_sequence_rules),
	       (SELECT count(DISTINCT customer) > 0 FROM cxsell.current_next_recommendations)}),
	'1|t|t', 'once given a window, it does');

# --- dump and restore --------------------------------------------------------
$node->safe_psql('postgres', q{CREATE DATABASE source});
$node->safe_psql('source', q{
	CREATE EXTENSION cxsell;
	CREATE TABLE lines AS
	SELECT b AS basket, (ARRAY['A', 'B', 'C', 'D'])[1 + (b * k) % 4] AS item,
	       'c' || (b % 20) AS customer
	FROM generate_series(1, 200) b, generate_series(1, 3) k;
	CREATE ROLE cx_analyst;
	GRANT SELECT ON lines TO cx_analyst;
	GRANT USAGE ON SCHEMA cxsell TO cx_analyst;
	GRANT EXECUTE ON ALL ROUTINES IN SCHEMA cxsell TO cx_analyst;
	SET ROLE cx_analyst;
	SELECT cxsell.create_rule_set('shop', 'SELECT basket, item, customer FROM public.lines', 0.1);
	RESET ROLE;
});
$node->safe_psql('source', q{CALL cxsell.refresh('shop')});
my $views = q{
	SELECT (SELECT count(*) FROM cxsell.current_rules) || ' ' ||
	       (SELECT count(*) FROM cxsell.current_item_pairs) || ' ' ||
	       (SELECT count(*) FROM cxsell.current_recommendations) || ' ' ||
	       (SELECT count(*) FROM cxsell.current_itemsets) || ' ' ||
	       (SELECT string_agg(name || '/' || owner, ',') FROM cxsell.rule_sets) || ' ' ||
	       (SELECT count(*) FROM cxsell.refresh_log WHERE status = 'success')};
my $in_source = $node->safe_psql('source', $views);
like($in_source, qr/^[1-9]\d* [1-9]\d* [1-9]\d* [1-9]\d* shop\/cx_analyst 1$/,
	"the source database holds results ($in_source)");
my $dump = $node->basedir . '/source.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-d', $node->connstr('source'), '-f', $dump ],
	'pg_dump');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->command_ok([ 'pg_restore', '-d', $node->connstr('restored'), $dump ], 'pg_restore');
is($node->safe_psql('restored', $views), $in_source,
	'definitions, results, owner and log survive dump and restore');
$node->safe_psql('restored', q{CALL cxsell.refresh('shop')});
is($node->safe_psql('restored',
		q{SELECT count(*) FROM cxsell.refresh_log WHERE status = 'success'}),
	'2', 'the restored rule set refreshes (the log continues)');

# --- definer rights ------------------------------------------------------------
# The analyst may manage analyses but not read the salaries.  A query over
# them cannot be defined (it is checked with the analyst's rights), and one
# planted in the analyst's set (by a superuser's UPDATE, say) runs, even
# when a superuser refreshes it, as the analyst: permission denied.
$node->safe_psql('source', q{
	CREATE TABLE salaries (basket int, item text);
	INSERT INTO salaries VALUES (1, 'ceo'), (1, 'bonus');
});
($rc, $out, $err) = $node->psql('source', q{
	SET ROLE cx_analyst;
	SELECT cxsell.create_rule_set('probe', 'SELECT basket, item FROM public.salaries', 0.5)});
like($err, qr/permission denied for table salaries/,
	'a role cannot define a rule set over a table it cannot read');
($rc, $out, $err) = $node->psql('source', q{
	SET ROLE cx_analyst;
	UPDATE cxsell.rule_sets SET source_query = 'SELECT basket, item FROM public.salaries'});
like($err, qr/permission denied for table rule_sets/,
	'the analyst cannot write the definitions directly');
$node->safe_psql('source', q{
	UPDATE cxsell.rule_sets SET source_query = 'SELECT basket, item, item AS customer FROM public.salaries'
	WHERE name = 'shop';
});
is($node->safe_psql('source', q{SELECT owner FROM cxsell.rule_sets WHERE name = 'shop'}),
	'cx_analyst', 'the planted query is owned by the role that wrote it');
($rc, $out, $err) = $node->psql('source', q{CALL cxsell.refresh('shop')});
like($err, qr/permission denied for table salaries/,
	'a superuser\'s refresh runs it with the analyst\'s rights and fails');
is($node->safe_psql('source',
		q{SELECT last_status || ': ' || last_error FROM cxsell.refresh_status WHERE name = 'shop'}),
	'error: permission denied for table salaries', 'the failed refresh is logged');
is($node->safe_psql('source', q{SELECT count(*) > 0 FROM cxsell.current_rules WHERE rule_set = 'shop'}),
	't', 'and the previous rules stay');

# --- pg_cron: the nightly job's outcome --------------------------------------
SKIP:
{
	skip "pg_cron is not installed for this server ($cron_lib)", 4 unless $with_cron;
	note("waiting for pg_cron $cron to run the job (up to a minute) ...");
	ok($node->poll_query_until('postgres',
			q{SELECT count(*) > 0 FROM cron.job_run_details WHERE status IN ('succeeded', 'failed')}),
		"pg_cron $cron ran the nightly job ($every)");
	$node->safe_psql('postgres', q{SELECT cron.unschedule('cxsell-nightly')});
	$node->poll_query_until('postgres',
		q{SELECT count(*) = 0 FROM cron.job_run_details WHERE status IN ('starting', 'running')})
	  or die 'a scheduled run did not end';
	like($node->safe_psql('postgres',
			q{SELECT status || ': ' || return_message FROM cron.job_run_details ORDER BY runid LIMIT 1}),
		qr/^failed: ERROR:\s+refresh failed for 1 of 2 analyses: attack/,
		'the job fails, naming the analysis that failed');
	is($node->safe_psql('postgres',
			q{SELECT string_agg(name || ' ' || last_status || ' ' || coalesce(last_error, '-'), ', ' ORDER BY name)
			  FROM cxsell.refresh_status}),
		'attack error cannot set parameter "role" within security-definer function, nightly success -',
		'the honest rule set is refreshed; the attack is logged with its error');
	is($node->safe_psql('postgres',
			q{SELECT rolsuper || ' ' || (SELECT count(*) FROM stolen) FROM pg_roles WHERE rolname = 'cx_mallory'}),
		'false 0', 'and the attacker gained nothing');
}

$node->stop;
done_testing();
