#
# 008_fuzz.pl -- random and extreme values for every public function,
# aggregate and type of cxsell (seeded, so a failure repeats).
#
# Every call either answers or fails with a proper SQLSTATE: never a crash
# of the backend, never an internal error (XX000), never a memory
# allocation error.  Every cxsell.patterns and cxsell.kmodel value produced
# reads back from its text form and from its binary form (COPY BINARY), and
# survives pg_dump / pg_restore into another database unchanged.

use strict;
use warnings;

use File::Spec;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $seed = $ENV{CXSELL_FUZZ_SEED} // 20261125;
my $calls_per_function = $ENV{CXSELL_FUZZ_CALLS} // 150;
srand($seed);

my $node = PostgreSQL::Test::Cluster->new('fuzz');
$node->init;
$node->append_conf('postgresql.conf', "max_worker_processes = 16\n");
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION cxsell;
	-- the values produced, to read back and to dump
	CREATE TABLE produced_patterns (id serial, v cxsell.patterns);
	CREATE TABLE produced_models (id serial, v cxsell.kmodel);
	-- some valid values to start from
	INSERT INTO produced_patterns (v)
	SELECT cxsell.mine(b, (ARRAY['a', 'b', 'c', 'd', 'e'])[1 + (b * k) % 5], s)
	FROM generate_series(1, 40) b, generate_series(1, 3) k,
	     unnest('{0.05,0.2,1}'::float8[]) s GROUP BY s;
	INSERT INTO produced_models (v)
	SELECT cxsell.kmeans(ARRAY[i % 7, i % 3, i]::float8[], k)
	FROM generate_series(1, 50) i, generate_series(1, 4) k GROUP BY k;
	-- run one call, return its SQLSTATE ('00000' when it answers)
	CREATE FUNCTION fuzz_call(q text) RETURNS text LANGUAGE plpgsql AS $$
	DECLARE st text;
	BEGIN
	  EXECUTE q;
	  RETURN '00000';
	EXCEPTION WHEN OTHERS THEN
	  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE;
	  RETURN st;
	END $$;
	CREATE TABLE outcomes (q text, st text);
	-- the partition plan's steps over two halves of a small table
	CREATE TABLE fuzz_lines AS
	SELECT b, (ARRAY['a', 'b', 'c', 'd', 'e'])[1 + (b * k) % 5] AS i
	FROM generate_series(1, 40) b, generate_series(1, 3) k;
	CREATE TABLE son_plan AS
	SELECT cxsell._son_candidates(array_agg(m)) AS cand
	FROM (SELECT cxsell.mine(b, i, 0.1) m FROM fuzz_lines GROUP BY b % 2) p;
	ALTER TABLE son_plan ADD COLUMN cnt bytea;
	UPDATE son_plan SET cnt = (SELECT cxsell._son_count(b, i, cand) FROM fuzz_lines);
	-- partial states of gains/auc and chi_square, in their text form
	CREATE AGGREGATE score_state(float8, boolean) (
		SFUNC = cxsell.score_counts_trans, STYPE = cxsell.score_counts);
	CREATE AGGREGATE table_state(text, boolean) (
		SFUNC = cxsell.contingency_trans, STYPE = cxsell.contingency_table);
	CREATE TABLE produced_states AS
	SELECT 'score_counts' AS type, score_state((g % 13) / 3.0, g % 4 = 0)::text AS v
	FROM generate_series(1, 200) g
	UNION ALL
	SELECT 'contingency_table', table_state((ARRAY['a', 'b', 'c'])[1 + g % 3], g % 4 = 0)::text
	FROM generate_series(1, 200) g;
});

# --- generators ----------------------------------------------------------------

sub pick { return $_[ int(rand(@_)) ]; }

sub an_int8
{
	return pick('0', '1', '-1', '2', '3', '7', '100', '9223372036854775807',
		'-9223372036854775808', '4611686018427387903', '2147483647',
		int(rand(1000)), 'NULL');
}

sub an_int4
{
	return pick('0', '1', '-1', '2', '3', '5', '2147483647', '-2147483648',
		int(rand(20)), 'NULL');
}

sub a_float8
{
	return pick("'NaN'::float8", "'Infinity'::float8", "'-Infinity'::float8",
		'0', '-0.0', '1', '0.5', '1e-300', '5e-324', '1e308', '-1e308', '0.9999999999999999',
		'1.0000000000000002', rand(), -rand(), 'NULL');
}

sub a_text
{
	return pick("''", "'confidence'", "'lift'", "'popularity'", "'p_value'", "'x'",
		"repeat('é', 3000)", "'a' || chr(1)", "'SELECT 1'", "'SELECT 1 AS basket, 2 AS item'",
		"'SELECT channel, responded FROM fuzz_contacts'", 'NULL');
}

sub a_text_array
{
	return pick("'{}'::text[]", "ARRAY['a']", "ARRAY['a', 'b', NULL]", "ARRAY[NULL]::text[]",
		"ARRAY[['a', 'b'], ['c', 'd']]", "array_fill('a'::text, ARRAY[5000])", 'NULL');
}

sub a_float8_array
{
	return pick("'{}'::float8[]", "ARRAY[1, 2]::float8[]", "ARRAY[1, NULL]::float8[]",
		"ARRAY['NaN']::float8[]", "ARRAY[1e308, -1e308]::float8[]", "ARRAY[[1, 2], [3, 4]]::float8[]",
		"array_fill(1::float8, ARRAY[3])", "array_fill(0::float8, ARRAY[100000])", 'NULL');
}

sub a_jsonb
{
	return pick(q{'{}'}, q{'{"seed": 3}'}, q{'{"standardize": true}'}, q{'{"restarts": 0}'},
		q{'{"tol": -1}'}, q{'{"max_iter": 1e30}'}, q{'[]'}, q{'{"seed": "x"}'},
		q{'{"unknown": 1}'}, 'NULL');
}

# a patterns value: a stored valid one, or its bytes damaged
sub a_patterns
{
	my $id = 1 + int(rand(3));
	my $valid = "(SELECT v FROM produced_patterns WHERE id = $id)";
	return pick(
		$valid, $valid, 'NULL',
		"(SELECT overlay(v::text placing 'ff' from (1 + ($id * 37) % (length(v::text) - 1)) for 2) FROM produced_patterns WHERE id = $id)::cxsell.patterns",
		"(SELECT left(v::text, length(v::text) - 2) FROM produced_patterns WHERE id = $id)::cxsell.patterns",
		"'43585001'::cxsell.patterns",
		"decode('4358500100', 'hex')::text::cxsell.patterns");
}

# a kmodel value: a stored valid one, or its JSON changed
sub a_kmodel
{
	my $id = 1 + int(rand(4));
	my $valid = "(SELECT v FROM produced_models WHERE id = $id)";
	my $json = "(SELECT v::text::jsonb FROM produced_models WHERE id = $id)";
	return pick(
		$valid, $valid, 'NULL',
		"jsonb_set($json, '{k}', '0')::text::cxsell.kmodel",
		"jsonb_set($json, '{inertia}', '1e400')::text::cxsell.kmodel",
		"jsonb_set($json, '{features}', '100000')::text::cxsell.kmodel",
		"jsonb_set($json, '{clusters,0,size}', '-5')::text::cxsell.kmodel",
		"jsonb_set($json, '{means,0}', '\"NaN\"')::text::cxsell.kmodel");
}

sub a_candidates
{
	return pick('(SELECT cand FROM son_plan)',
		"(SELECT overlay(cand placing '\\xff' from 1 + ${\ int(rand(60))} for 1) FROM son_plan)",
		"(SELECT substring(cand from 1 for ${\ int(rand(60))}) FROM son_plan)",
		"'\\x43584301'::bytea", "'\\x'::bytea", 'NULL::bytea');
}

sub some_counts
{
	return pick('ARRAY[(SELECT cnt FROM son_plan)]', 'ARRAY[(SELECT cnt FROM son_plan), (SELECT cnt FROM son_plan)]',
		"ARRAY[(SELECT overlay(cnt placing '\\x7f' from 1 + ${\ int(rand(200))} for 1) FROM son_plan)]",
		"ARRAY[(SELECT substring(cnt from 1 for ${\ int(rand(200))}) FROM son_plan)]",
		"'{}'::bytea[]", 'ARRAY[NULL::bytea]', 'NULL::bytea[]');
}

# a partial state of gains/auc or chi_square: valid, or its bytes damaged
sub a_state
{
	my ($type, $agg) = @_;
	my $valid = "(SELECT v FROM produced_states WHERE type = '$type')";
	return pick(
		$valid, $valid, 'NULL',
		"(SELECT overlay(v placing 'ff' from (1 + (${\ int(rand(400))} % (length(v) - 1))) for 2) FROM produced_states WHERE type = '$type')::cxsell.$type",
		"(SELECT left(v, length(v) - 2 * ${\ int(1 + rand(4))}) FROM produced_states WHERE type = '$type')::cxsell.$type",
		"(SELECT v || '00' FROM produced_states WHERE type = '$type')::cxsell.$type",
		"'4358470200000001'::cxsell.$type", "'4358430100000000'::cxsell.$type");
}

my %gen = (
	candidates => \&a_candidates, counts => \&some_counts,
	regtype => sub { pick("'text'", "'int4'", "'point'", "'cxsell.patterns'", 'NULL') },
	oid => sub { pick('0', '100', '950', '12345', 'NULL') },
	relation => sub { pick("'fuzz_lines'", "'pg_class'", "'son_plan'", 'NULL') },
	name => sub { pick("'b'", "'i'", "'relname'", "'x'", 'NULL') },
	filter => sub { pick('NULL', "'b > 10'", "'1 / 0 = 1'", "')'", "'i = ''a'''") },
	int8 => \&an_int8, int4 => \&an_int4, float8 => \&a_float8, text => \&a_text,
	'text[]' => \&a_text_array, 'float8[]' => \&a_float8_array, jsonb => \&a_jsonb,
	patterns => \&a_patterns, kmodel => \&a_kmodel,
	score_counts => sub { a_state('score_counts') },
	contingency_table => sub { a_state('contingency_table') },
	bool => sub { pick('true', 'false', 'NULL') },
	tid => sub { pick(q{'(0,1)'::tid}, q{'(4294967295,65535)'::tid}, 'NULL::tid') });

# plain functions: name and argument types
my @functions = (
	[ 'summary', 'patterns' ], [ 'itemsets', 'patterns' ],
	[ 'rules', qw(patterns float8 float8 int4 int4 text[] text[] int8 text) ],
	[ 'item_pairs', qw(patterns float8) ],
	(map { [ $_, qw(int8 int8 int8 int8) ] }
	  qw(support confidence lift leverage conviction jaccard kulczynski certainty zhang
	  p_value p_value_two_sided two_proportion_test)),
	[ 'cluster', qw(kmodel float8[]) ], [ 'cluster_distance', qw(kmodel float8[]) ],
	[ 'standardize', qw(kmodel float8[]) ], [ 'centroids', 'kmodel' ], [ 'summary', 'kmodel' ],
	[ 'wilson_interval', qw(int8 int8 float8) ],
	[ 'recommend', qw(patterns text[] int4 text float8 float8 bool) ],
	[ 'channel_report', qw(text float8) ],
	[ 'segment_profiles', qw(text text float8) ],
	[ 'backtest', qw(text float8 int4 float8 int8 text float8 float8 bool int4) ],
	[ 'mine_distributed', qw(relation name name float8 int4 filter) ],
	[ '_son_candidate_items', 'candidates' ],
	[ '_son_patterns', qw(candidates counts float8 int4 regtype oid) ],
	[ 'gains_counts_final', 'score_counts' ], [ 'auc_counts_final', 'score_counts' ],
	[ 'contingency_final', 'contingency_table' ],
	[ 'score_counts_send', 'score_counts' ], [ 'contingency_table_send', 'contingency_table' ],
	[ 'kmeans_distributed', qw(relation name int4 jsonb filter) ],
	[ '_km_params', qw(int4 jsonb) ], [ '_km_space', qw(float8[] bool) ],
	[ '_km_tolerance', qw(float8[] float8[] float8) ], [ '_km_standardize', qw(float8[] float8[]) ],
	[ '_km_uniform', qw(float8[] tid int8 int4) ], [ '_km_cost', qw(float8[] float8[] float8[]) ],
	[ '_km_pick', qw(float8[] float8[] float8[] float8 tid int8 int4) ],
	[ '_km_recluster', qw(float8[] float8[] int4 int8 int4) ], [ '_km_next', qw(float8[] float8[] int4) ],
	[ '_km_converged', qw(float8[] float8[] int4 float8) ],
	[ '_km_model', qw(float8[] float8[] float8[] int4 jsonb int4 bool) ]);

# aggregates over generated rows: name, row expressions over g (1..rows)
my @aggregates = (
	[ 'mine', sub { (pick('g % 7', 'g', 'NULL::int', "(g % 3)::text", "'2024-01-01'::date + g % 4"),
				pick('g % 5', "'i' || g % 11", 'NULL::int', 'g::float8 / 3'), a_float8()) } ],
	[ 'mine', sub { (pick('g % 7', 'g'), pick('g % 5', "(g % 9)::text"), a_float8(), an_int4()) } ],
	[ 'mine', sub { (pick('ARRAY[g % 5, g % 3]', "ARRAY['x', NULL]", 'NULL::int[]', "'{}'::int[]"), a_float8()) } ],
	[ 'kmeans', sub { (pick('ARRAY[g, g % 3]::float8[]', a_float8_array(), 'ARRAY[g * 1e300, 1]::float8[]'), an_int4()) } ],
	[ 'kmeans', sub { (pick('ARRAY[g, g % 3]::float8[]', 'ARRAY[g::float8]'), an_int4(), a_jsonb()) } ],
	[ 'kmeans_sweep', sub { (pick('ARRAY[g, g % 3]::float8[]', a_float8_array()), an_int4(), an_int4()) } ],
	[ 'gains', sub { (pick('g::float8', 'g % 3', a_float8()), pick('g % 2 = 0', 'NULL::bool'), an_int4()) } ],
	[ 'auc', sub { (pick('g::float8', a_float8()), pick('g % 2 = 0', 'g % 5 = 0', 'true')) } ],
	[ 'chi_square', sub { (pick('g % 3', "'x'", 'NULL::int', 'g::float8 % 2'), pick('g % 2 = 0', "(g % 4)::text")) } ],
	[ '_km_moments', sub { (pick('ARRAY[g, g % 3]::float8[]', a_float8_array())) } ],
	[ '_km_step', sub { (pick('ARRAY[g, g % 3]::float8[]', a_float8_array()), a_float8_array(),
				pick("'{0,0,1,1}'::float8[]", a_float8_array()), an_int4()) } ],
	[ '_son_count', sub { (pick('g % 7', 'g', 'NULL::int'), pick("(ARRAY['a', 'b', 'c'])[1 + g % 3]", 'g % 5', 'NULL::text'),
				a_candidates()) } ]);

my @queries;
for my $f (@functions)
{
	my ($name, @types) = @$f;
	for (1 .. $calls_per_function)
	{
		my @args = map { $gen{$_}->() } @types;
		push @queries, "SELECT * FROM cxsell.$name(" . join(', ', @args) . ')';
	}
}
for my $a (@aggregates)
{
	my ($name, $args) = @$a;
	for (1 .. $calls_per_function)
	{
		my $rows = pick(0, 1, 2, 50, 500);
		my $q = "SELECT cxsell.$name(" . join(', ', $args->()) . ") FROM generate_series(1, $rows) g";
		if ($name eq 'mine' || $name eq 'kmeans')
		{
			my $table = $name eq 'mine' ? 'produced_patterns' : 'produced_models';
			$q = "INSERT INTO $table (v) $q";
		}
		push @queries, $q;
	}
}

$node->safe_psql('postgres', q{
	CREATE TABLE fuzz_contacts AS
	SELECT (ARRAY['a', 'b', 'c'])[1 + g % 3] AS channel, g % 4 = 0 AS responded
	FROM generate_series(1, 100) g;
});

# run every call in one session; a crash ends the session
my $sql = "SET statement_timeout = '20s';\n";
for my $q (@queries)
{
	(my $lit = $q) =~ s/'/''/g;
	$sql .= "INSERT INTO outcomes SELECT '$lit', fuzz_call('$lit');\n";
}
my ($ret, $out, $err) = $node->psql('postgres', $sql, on_error_stop => 0);
unlike($err, qr/server closed the connection|terminated by signal|connection to server was lost/,
	scalar(@queries) . ' calls (seed ' . $seed . '): no backend crashed');
ok($node->poll_query_until('postgres', 'SELECT true'), 'the server is up');
my $n = $node->safe_psql('postgres', 'SELECT count(*) FROM outcomes');
is($n, scalar(@queries), "every call ran ($n)");
my $bad = $node->safe_psql('postgres',
	q{SELECT string_agg(st || ': ' || left(q, 300), E'\n') FROM outcomes
	  WHERE st IN ('XX000', 'XX001', 'XX002', '53200', '58000') OR st LIKE 'XX%'});
is($bad, '', 'no internal error, corruption or memory exhaustion');
note($node->safe_psql('postgres',
	q{SELECT string_agg(st || ' x ' || c, ', ' ORDER BY c DESC) FROM
	  (SELECT st, count(*) AS c FROM outcomes GROUP BY st) s}));
cmp_ok($node->safe_psql('postgres', q{SELECT count(*) FROM outcomes WHERE st = '00000'}),
	'>', scalar(@queries) / 10, 'a fair share of the calls answered');

# every stored value reads back from its text and its binary form
my $counts = $node->safe_psql('postgres', q{
	SELECT (SELECT count(v) FROM produced_patterns) || ' ' || (SELECT count(v) FROM produced_models)});
note("values produced (patterns, models): $counts");
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM produced_patterns WHERE v IS NOT NULL
	  AND v::text::cxsell.patterns::text IS DISTINCT FROM v::text}), '0',
	'every patterns value reads back from its text form');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM produced_models WHERE v IS NOT NULL
	  AND v::text::cxsell.kmodel::text IS DISTINCT FROM v::text}), '0',
	'every kmodel value reads back from its text form');
my $bin = File::Spec->rel2abs($node->basedir . '/values.bin');
$node->safe_psql('postgres', qq{
	COPY (SELECT p.v, m.v FROM produced_patterns p FULL JOIN produced_models m USING (id))
	  TO '$bin' WITH (FORMAT binary);
	CREATE TABLE binary_copy (p cxsell.patterns, m cxsell.kmodel);
	COPY binary_copy FROM '$bin' WITH (FORMAT binary);
});
is($node->safe_psql('postgres', q{
	SELECT (SELECT md5(string_agg(v::text, ',' ORDER BY v::text)) FROM produced_patterns) =
	       (SELECT md5(string_agg(p::text, ',' ORDER BY p::text)) FROM binary_copy)
	   AND (SELECT md5(string_agg(v::text, ',' ORDER BY v::text)) FROM produced_models) =
	       (SELECT md5(string_agg(m::text, ',' ORDER BY m::text)) FROM binary_copy)}), 't',
	'every value reads back from its binary form');

# and survives pg_dump / pg_restore
my $dump = $node->basedir . '/fuzz.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-d', $node->connstr('postgres'), '-f', $dump ], 'pg_dump');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->command_ok([ 'pg_restore', '-d', $node->connstr('restored'), $dump ], 'pg_restore');
my $digest = q{
	SELECT md5(string_agg(v::text, ',' ORDER BY id)) || ' ' ||
	       (SELECT md5(string_agg(v::text, ',' ORDER BY id)) FROM produced_models)
	FROM produced_patterns};
is($node->safe_psql('restored', $digest), $node->safe_psql('postgres', $digest),
	'every stored value survives dump and restore');

$node->stop;
done_testing();
