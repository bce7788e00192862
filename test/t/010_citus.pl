#
# 010_citus.pl -- cxsell on a Citus cluster: a coordinator and two workers
# on loopback.
#
# FIMI retail is distributed by basket.  cxsell.mine_distributed gives the
# value cxsell.mine gives over the same rows (a local copy on the
# coordinator), byte for byte, at 1%, 0.5% and 0.1% support, with max_len
# and with a filter; so rules and item_pairs read the same.  The workers
# do the mining: the coordinator receives candidates and counts, a small
# fraction of the bytes a row gather moves.  A table distributed by
# customer (baskets inside customers) mines the same; one distributed by
# item (baskets cut across shards) is refused.  A role reads what its
# grants allow, on the workers too.  A managed rule set defined on the
# distributed table (cxsell.create_distributed_rule_set) refreshes through
# mine_distributed as its owner, a segmentation
# (cxsell.create_distributed_segmentation) through kmeans_distributed.
#
# UCI bank marketing, distributed by customer: gains, auc and chi_square
# (text and boolean labels) are aggregated on the workers (EXPLAIN shows
# worker_partial_agg and one state per shard) and equal their values on a
# local copy, also per group; kmeans_distributed's passes are aggregated on
# the workers and its inertia is within 1% of cxsell.kmeans on the copy.
#
# Needs Citus built for the server under test (tools/pg18.sh builds it
# for PostgreSQL 18); a server without it skips the whole file, saying so,
# unless CXSELL_REQUIRE_CITUS is set.

use strict;
use warnings;

use File::Basename;
use File::Spec;
use lib File::Spec->catdir(dirname(__FILE__), File::Spec->updir, 'perl');
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

use CxsellTest qw(data_file);

my $probe = PostgreSQL::Test::Cluster->new('probe');
my $citus_lib = $probe->config_data('--pkglibdir') . '/citus.so';
if (!-e $citus_lib)
{
	die "Citus is not installed for this server ($citus_lib not found)\n"
	  if $ENV{CXSELL_REQUIRE_CITUS};
	plan skip_all => "Citus is not installed for this server ($citus_lib not found); "
	  . 'tools/test.sh runs this file on PostgreSQL 18 with Citus built by tools/pg18.sh';
}

# --- the cluster ----------------------------------------------------------
my @nodes;
for my $name (qw(coordinator worker1 worker2))
{
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	$node->append_conf('postgresql.conf',
		"shared_preload_libraries = 'citus'\nlisten_addresses = '127.0.0.1'\n"
		  . "max_worker_processes = 16\nmax_connections = 60\n");
	$node->append_conf('pg_hba.conf', "host all all 127.0.0.1/32 trust\n");
	$node->start;
	# cxsell on every node before the node joins (Citus would propagate
	# the CREATE EXTENSION by two-phase commit, which the install script's
	# functions, pinned to search_path pg_catalog, pg_temp, do not allow)
	$node->safe_psql('postgres', 'CREATE EXTENSION citus; CREATE EXTENSION cxsell');
	push @nodes, $node;
}
my ($coord, @workers) = @nodes;
$coord->safe_psql('postgres',
	"SELECT citus_set_coordinator_host('127.0.0.1', " . $coord->port . ')');
$coord->safe_psql('postgres', "SELECT citus_add_node('127.0.0.1', " . $_->port . ')')
  for @workers;
is( $workers[1]->safe_psql('postgres',
		q{SELECT extversion FROM pg_extension WHERE extname = 'cxsell'}),
	$coord->safe_psql('postgres',
		q{SELECT extversion FROM pg_extension WHERE extname = 'cxsell'}),
	'the extension is on every node');

# --- FIMI retail, distributed by basket, and a local copy -------------------
my $retail = data_file('retail', 'retail.dat');
$coord->safe_psql('postgres', qq{
	CREATE TABLE retail_raw (basket bigserial, line text);
	COPY retail_raw (line) FROM '$retail';
	CREATE TABLE retail_local AS
	SELECT basket::int AS basket, item::int AS item
	FROM retail_raw, unnest(string_to_array(trim(line), ' ')) item;
	CREATE TABLE retail (basket int, item int);
	SELECT create_distributed_table('retail', 'basket');
	INSERT INTO retail SELECT * FROM retail_local;
	-- baskets inside customers: distributed by customer
	CREATE TABLE retail_by_customer (customer int, basket int, item int);
	SELECT create_distributed_table('retail_by_customer', 'customer');
	INSERT INTO retail_by_customer SELECT basket % 997, basket, item FROM retail_local;
	-- baskets cut across shards: distributed by item
	CREATE TABLE retail_by_item (basket int, item int);
	SELECT create_distributed_table('retail_by_item', 'item');
	INSERT INTO retail_by_item SELECT * FROM retail_local;
	ANALYZE;
});
is($coord->safe_psql('postgres', 'SELECT count(*) FROM retail'), '908576', 'retail: 908,576 lines');
is( $coord->safe_psql('postgres',
		q{SELECT count(DISTINCT nodename || nodeport) FROM citus_shards WHERE table_name = 'retail'::regclass}),
	'2', 'its shards lie on the two workers');

# The tuple bytes a row gather moves: cxsell.mine run on the distributed table
my $gather = $coord->safe_psql('postgres',
	'EXPLAIN (ANALYZE, VERBOSE, COSTS OFF, TIMING OFF) SELECT cxsell.mine(basket, item, 0.01) FROM retail');
my ($gather_size, $gather_unit) = $gather =~ /Tuple data received from nodes: (\d+) (bytes|kB|MB)/;
my $gather_bytes = $gather_size * { bytes => 1, kB => 1024, MB => 1024 * 1024 }->{$gather_unit};
like($gather, qr/Custom Scan \(Citus Adaptive\) \(actual rows=908576.*Task Count: 32/s,
	"cxsell.mine on the distributed table gathers the rows ($gather_size $gather_unit)");

# Run mine_distributed with the bytes it moved reported: (md5, seconds,
# bytes received by the coordinator)
sub mine_distributed
{
	my ($db, $args) = @_;
	my $t0 = time;
	my ($ret, $out, $err) = $coord->psql($db,
		"SET client_min_messages = debug1; SELECT md5(cxsell.mine_distributed($args)::text)");
	my $secs = time - $t0;
	die "mine_distributed($args) failed: $err" if $ret != 0;
	my $received = 0;
	$received += $1 while $err =~ /cxsell.mine_distributed: pass \d on \d+ nodes sent \d+ bytes and received (\d+) bytes/g;
	return ($out, $secs, $received);
}

for my $case (
	[ '0.01',  0, undef ],
	[ '0.005', 0, undef ],
	[ '0.001', 0, undef ],
	[ '0.005', 2, undef ],
	[ '0.002', 3, 'item < 1000 AND basket % 3 <> 0' ])
{
	my ($s, $len, $filter) = @$case;
	my $where = defined $filter ? "WHERE $filter" : '';
	my $flit = defined $filter ? "'" . ($filter =~ s/'/''/gr) . "'" : 'NULL';
	my $t0 = time;
	my $local = $coord->safe_psql('postgres',
		"SELECT md5(cxsell.mine(basket, item, $s, $len)::text) FROM retail_local $where");
	my $local_secs = time - $t0;
	my ($dist, $secs, $received) =
	  mine_distributed('postgres', "'retail', 'basket', 'item', $s, $len, $flit");
	my $label = "min_support $s, max_len $len" . (defined $filter ? ", filter $filter" : '');
	is($dist, $local, "$label: the same value as cxsell.mine, byte for byte");
	note(sprintf('%s: distributed %.2f s, local %.2f s; coordinator received %d bytes (%.1f%% of the row gather)',
			$label, $secs, $local_secs, $received, 100 * $received / $gather_bytes));
	cmp_ok($received, '<', $gather_bytes * ($s >= 0.005 ? 0.05 : 0.6),
		"$label: the coordinator receives counts, not rows");
}

# rules and item pairs read the stored distributed value as any other
$coord->safe_psql('postgres', q{
	CREATE TABLE mined AS
	SELECT cxsell.mine_distributed('retail', 'basket', 'item', 0.005) AS d,
	       (SELECT cxsell.mine(basket, item, 0.005) FROM retail_local) AS l});
is( $coord->safe_psql('postgres', q{
	SELECT (SELECT md5(string_agg(r::text, ',')) FROM mined, cxsell.rules(d, 0.1) r)
	     = (SELECT md5(string_agg(r::text, ',')) FROM mined, cxsell.rules(l, 0.1) r)
	   AND (SELECT md5(string_agg(p::text, ',')) FROM mined, cxsell.item_pairs(d) p)
	     = (SELECT md5(string_agg(p::text, ',')) FROM mined, cxsell.item_pairs(l) p)
	   AND (SELECT count(*) FROM mined, cxsell.rules(d, 0.1)) > 0}),
	't', 'rules and item_pairs of the distributed value equal those of the local one');

# distributed by customer: every basket lies in one shard
my ($by_customer) = mine_distributed('postgres', q{'retail_by_customer', 'basket', 'item', 0.005});
is( $by_customer,
	$coord->safe_psql('postgres', 'SELECT md5(cxsell.mine(basket, item, 0.005)::text) FROM retail_local'),
	'a table distributed by customer mines the same');

# distributed by item: baskets straddle shards, the answer would be wrong
my ($ret, $out, $err) = $coord->psql('postgres',
	q{SELECT cxsell.mine_distributed('retail_by_item', 'basket', 'item', 0.01)});
like($err, qr/ERROR:  baskets of retail_by_item lie on more than one shard.*DETAIL:  The table is distributed by item/s,
	'a table whose baskets straddle shards is refused');

# a table that is not distributed: cxsell.mine on the coordinator
is( $coord->safe_psql('postgres',
		q{SELECT md5(cxsell.mine_distributed('retail_local', 'basket', 'item', 0.01)::text)}),
	$coord->safe_psql('postgres', 'SELECT md5(cxsell.mine(basket, item, 0.01)::text) FROM retail_local'),
	'a local table on the coordinator: cxsell.mine');

# rights: a role reads on the workers what its grants allow
# (Citus creates the roles on the workers and passes the grants on)
$coord->safe_psql('postgres', q{
	CREATE ROLE cx_analyst LOGIN;
	CREATE ROLE cx_outsider LOGIN;
	GRANT SELECT ON retail TO cx_analyst;
	GRANT USAGE ON SCHEMA cxsell TO cx_analyst, cx_outsider;
});
my $as_analyst = $coord->safe_psql('postgres', q{
	SET ROLE cx_analyst;
	SELECT md5(cxsell.mine_distributed('retail', 'basket', 'item', 0.01)::text)});
is($as_analyst,
	$coord->safe_psql('postgres', 'SELECT md5(cxsell.mine(basket, item, 0.01)::text) FROM retail_local'),
	'a role granted SELECT mines the distributed table');
($ret, $out, $err) = $coord->psql('postgres', q{
	SET ROLE cx_outsider;
	SELECT cxsell.mine_distributed('retail', 'basket', 'item', 0.01)});
like($err, qr/permission denied/, 'a role without SELECT is refused');
# the filter runs on the workers with the caller's rights: text that
# breaks out of it reads nothing the role could not read anyway
($ret, $out, $err) = $coord->psql('postgres', q{
	SET ROLE cx_analyst;
	SELECT cxsell.mine_distributed('retail', 'basket', 'item', 0.01, 0,
	  'true) UNION ALL SELECT 1, 1 FROM pg_authid WHERE (true')});
like($err, qr/permission denied for (table|relation) pg_authid/,
	'a filter that breaks out of its parentheses still runs with the role\'s rights');

# --- a managed rule set over the distributed table ------------------------------
$coord->safe_psql('postgres', q{
	GRANT EXECUTE ON ALL ROUTINES IN SCHEMA cxsell TO cx_analyst, cx_outsider;
	GRANT SELECT ON cxsell.analyses, cxsell.current_rules, cxsell.refresh_status TO cx_analyst;
	CREATE TABLE retail_customers (customer int, basket int, item int);
	SELECT create_distributed_table('retail_customers', 'customer');
	INSERT INTO retail_customers SELECT basket % 5000, basket, item FROM retail_local;
	GRANT SELECT ON retail_customers TO cx_analyst;
});
$coord->safe_psql('postgres', q{
	SET ROLE cx_analyst;
	SELECT cxsell.create_distributed_rule_set('retail-dist', 'retail_customers', 'basket', 'item',
	  0.01, customer => 'customer', recommendations => 3)});
($ret, $out, $err) = $coord->psql('postgres',
	q{SET ROLE cx_analyst; CALL cxsell.refresh('retail-dist')});
is($ret, 0, 'the analyst refreshes the rule set');
# a source query's items are mined as text; the distributed path mines the
# column's own type, as cxsell.mine over the integer items does
is( $coord->safe_psql('postgres', q{
	SELECT (SELECT patterns FROM cxsell.rule_set_patterns WHERE name = 'retail-dist')::text
	     = (SELECT cxsell.mine(basket, item, 0.01)::text FROM retail_local)}),
	't', 'its stored value is mine_distributed\'s: cxsell.mine\'s over the same lines, byte for byte');
is( $coord->safe_psql('postgres', q{
	SELECT count(*) = (SELECT count(*) FROM cxsell.rules((SELECT cxsell.mine(basket, item, 0.01) FROM retail_local)))
	       AND count(*) > 0
	FROM cxsell.rule_set_rules WHERE name = 'retail-dist'}),
	't', 'its rules are those of cxsell.rules');
is( $coord->safe_psql('postgres', q{
	SELECT count(DISTINCT customer) > 1000 FROM cxsell.rule_set_recommendations WHERE name = 'retail-dist'}),
	't', 'its customers get recommendations');
# a refresh runs with the owner's rights, whoever calls it
$coord->safe_psql('postgres', 'REVOKE SELECT ON retail_customers FROM cx_analyst');
($ret, $out, $err) = $coord->psql('postgres', q{CALL cxsell.refresh('retail-dist')});
like($err, qr/permission denied for table retail_customers/,
	'a superuser\'s refresh runs as the owner, who lost SELECT: refused');
($ret, $out, $err) = $coord->psql('postgres', q{
	SET ROLE cx_outsider;
	SELECT cxsell.create_distributed_rule_set('outsider', 'retail_customers', 'basket', 'item', 0.01)});
like($err, qr/permission denied for table retail_customers/, 'a role without SELECT cannot define one');

# --- statistics: partial aggregates on the workers ----------------------------
# UCI bank marketing, one row per call, distributed by customer: the score of
# tools/sample_data.sql (many ties), the outcome, the channel, the month
my $bank = data_file('bank_marketing', 'bank-full.csv');
$coord->safe_psql('postgres', qq{
	CREATE TABLE bank_raw (age int, job text, marital text, education text, "default" text,
	  balance int, housing text, loan text, contact text, day int, month text, duration int,
	  campaign int, pdays int, previous int, poutcome text, y text);
	COPY bank_raw FROM '$bank' WITH (FORMAT csv, DELIMITER ';', HEADER true);
	CREATE TABLE bank_local AS
	SELECT row_number() OVER () AS customer, contact AS channel, month, y = 'yes' AS responded,
	       housing = 'yes' AS housing,
	       3 * (poutcome = 'success')::int + (contact = 'cellular')::int
	       + (housing = 'no')::int + 2 * (month IN ('mar', 'sep', 'oct', 'dec'))::int
	       + (age >= 60)::int + least(greatest(balance::float8, 0), 20000) / 20000 AS score,
	       ARRAY[age, balance, duration, campaign, pdays, previous]::float8[] AS usage
	FROM bank_raw;
	CREATE TABLE bank (LIKE bank_local);
	SELECT create_distributed_table('bank', 'customer');
	INSERT INTO bank SELECT * FROM bank_local;
	ANALYZE bank;
});
my $stats = q{SELECT cxsell.gains(score, responded)::text, cxsell.gains(score, responded, 20)::text,
	cxsell.auc(score, responded), cxsell.chi_square(channel, responded),
	cxsell.chi_square(month, channel), cxsell.chi_square(housing, responded) FROM %s};
is( $coord->safe_psql('postgres', sprintf($stats, 'bank')),
	$coord->safe_psql('postgres', sprintf($stats, 'bank_local')),
	'gains, auc and chi_square on the distributed table equal those of the local copy');
my $per_group = q{SELECT channel, cxsell.gains(score, responded, 5)::text, cxsell.auc(score, responded),
	cxsell.chi_square(month, responded) FROM %s GROUP BY channel ORDER BY channel};
is( $coord->safe_psql('postgres', sprintf($per_group, 'bank')),
	$coord->safe_psql('postgres', sprintf($per_group, 'bank_local')),
	'per channel (grouped by a column that is not the distribution column): equal');
my $plan = $coord->safe_psql('postgres',
	'EXPLAIN (ANALYZE, VERBOSE, COSTS OFF, TIMING OFF) ' . sprintf($stats, 'bank'));
for my $agg ('gains(double precision,boolean)', 'gains(double precision,boolean,integer)',
	'auc(double precision,boolean)', 'chi_square(text,boolean)', 'chi_square(text,text)',
	'chi_square(boolean,boolean)')
{
	like($plan, qr/worker_(binary_)?partial_agg\('cxsell\.\Q$agg\E'::regprocedure/,
		"cxsell.$agg is aggregated on the workers");
}
like($plan, qr/Custom Scan \(Citus Adaptive\) \(actual rows=32\b/,
	'the coordinator receives one partial state per shard, not the rows');
my ($stat_size, $stat_unit) = $plan =~ /Tuple data received from nodes: (\d+) (bytes|kB|MB)/;
my $stat_bytes = $stat_size * { bytes => 1, kB => 1024, MB => 1024 * 1024 }->{$stat_unit};
sub received
{
	my ($plan) = @_;
	my ($size, $unit) = $plan =~ /Tuple data received from nodes: (\d+) (bytes|kB|MB)/;
	return $size * { bytes => 1, kB => 1024, MB => 1024 * 1024 }->{$unit};
}
my $stat_bytes = received($plan);
my $columns_bytes = received($coord->safe_psql('postgres',
	'EXPLAIN (ANALYZE, VERBOSE, COSTS OFF, TIMING OFF) SELECT score, responded, channel, month, housing FROM bank'));
# states hold one entry per distinct score and shard: with a continuous
# score they are about the size of the rows they read
note("the six states: $stat_bytes bytes; the rows they read: $columns_bytes bytes");
# scores that repeat (rounded to a percent) make states of their distinct values
my $coarse = received($coord->safe_psql('postgres', q{
	EXPLAIN (ANALYZE, VERBOSE, COSTS OFF, TIMING OFF)
	SELECT cxsell.gains(round(score::numeric, 2)::float8, responded),
	       cxsell.auc(round(score::numeric, 2)::float8, responded) FROM bank}));
cmp_ok($coarse, '<', $columns_bytes / 5,
	"scores rounded to a percent: gains and auc receive $coarse bytes");
my $rows_plan = $coord->safe_psql('postgres',
	'EXPLAIN (ANALYZE, VERBOSE, COSTS OFF, TIMING OFF) SELECT cxsell.chi_square(length(channel), responded) FROM bank');
like($rows_plan, qr/Custom Scan \(Citus Adaptive\) \(actual rows=45211\b/,
	'chi_square over labels of another type (polymorphic, internal state) gathers the rows');

# --- k-means: k-means|| and Lloyd as pushed-down aggregates --------------------
my ($local_km, $local_secs) = do {
	my $t0 = time;
	my $v = $coord->safe_psql('postgres', q{
		SELECT (s).inertia || '|' || (s).points FROM (SELECT cxsell.summary(
		  cxsell.kmeans(usage, 5, '{"standardize": true}')) s FROM bank_local) x});
	($v, time - $t0);
};
my $t0 = time;
my $dist_km = $coord->safe_psql('postgres', q{
	CREATE TABLE bank_model AS SELECT cxsell.kmeans_distributed('bank', 'usage', 5, '{"standardize": true}') AS m;
	SELECT (s).inertia || '|' || (s).points FROM (SELECT cxsell.summary(m) s FROM bank_model) x});
my $dist_secs = time - $t0;
my ($li, $ln) = split /\|/, $local_km;
my ($di, $dn) = split /\|/, $dist_km;
is($dn, $ln, 'kmeans_distributed clusters every point');
cmp_ok(abs($di - $li) / $li, '<=', 0.01,
	sprintf('inertia within 1%% of cxsell.kmeans on the local copy (%.1f vs %.1f; %.2f s vs %.2f s)',
		$di, $li, $dist_secs, $local_secs));
is( $coord->safe_psql('postgres', q{
	SELECT sum((c).size) = 45211 AND bool_and((c).size > 0)
	FROM (SELECT cxsell.centroids(m) c FROM bank_model) x}),
	't', 'the model\'s clusters hold every point');
is( $coord->safe_psql('postgres', q{
	SELECT abs(d.s - (cxsell.summary(b.m)).inertia) <= 1e-6 * (cxsell.summary(b.m)).inertia
	FROM bank_model b,
	     (SELECT sum(cxsell.cluster_distance((SELECT m FROM bank_model), usage) ^ 2) AS s
	      FROM bank_local) d}),
	't', 'its inertia is the sum of squared distances of the points to their centres');
# a managed segmentation over the distributed table, refreshed as its owner
$coord->safe_psql('postgres', q{
	GRANT EXECUTE ON ALL ROUTINES IN SCHEMA cxsell TO cx_analyst;
	GRANT SELECT ON bank TO cx_analyst;
	SET ROLE cx_analyst;
	SELECT cxsell.create_distributed_segmentation('bank-seg', 'bank', 'customer', 'usage', 5,
	  '{"standardize": true}');
	CALL cxsell.refresh('bank-seg');
});
is( $coord->safe_psql('postgres', q{
	SELECT abs((cxsell.summary(m.model)).inertia - (cxsell.summary(b.m)).inertia)
	       <= 0.01 * (cxsell.summary(b.m)).inertia
	   AND (SELECT count(*) FROM cxsell.segment_assignments WHERE name = 'bank-seg') = 45211
	   AND (SELECT bool_and(a.segment = cxsell.cluster(m.model, l.usage))
	        FROM cxsell.segment_assignments a JOIN bank_local l ON l.customer::text = a.customer
	        WHERE a.name = 'bank-seg')
	FROM cxsell.segmentation_models m, bank_model b WHERE m.name = 'bank-seg'}),
	't', 'a segmentation on the distributed table: its model as kmeans_distributed\'s, every customer assigned');

my $km_plan = $coord->safe_psql('postgres', q{
	EXPLAIN (ANALYZE, VERBOSE, COSTS OFF, TIMING OFF)
	SELECT cxsell._km_step(usage, (SELECT array_fill(0::float8, ARRAY[30])), '{0,0,0,0,0,0,1,1,1,1,1,1}', 5) FROM bank});
ok($km_plan =~ /worker_(binary_)?partial_agg\('cxsell\._km_step\(/
	  && $km_plan =~ /Custom Scan \(Citus Adaptive\) \(actual rows=32\b/,
	'a Lloyd pass is aggregated on the workers (the coordinator receives ' . received($km_plan) . ' bytes)');
is( $coord->safe_psql('postgres', q{
	SELECT cxsell.kmeans_distributed('bank_local', 'usage', 5, '{"standardize": true}')::text
	     = (SELECT cxsell.kmeans(usage, 5, '{"standardize": true}')::text FROM bank_local)}),
	't', 'on a local table kmeans_distributed is cxsell.kmeans');
($ret, $out, $err) = $coord->psql('postgres', q{SELECT cxsell.kmeans_distributed('bank', 'usage', 50000)});
like($err, qr/k 50000 exceeds the number of points \(45211\)/, 'k above the points is refused');

$_->stop for @nodes;
done_testing();
