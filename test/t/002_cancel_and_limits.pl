#
# 002_cancel_and_limits.pl -- long mining stops promptly on statement_timeout
# and on cancel, memory-hungry mining stops with an error under
# cxsell.max_memory, and in every case the backend survives and the session
# stays usable.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $node = PostgreSQL::Test::Cluster->new('cancel');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION cxsell');

# Dense data: 3,000 baskets, each holding about 70% of 40 items.  Mining it
# at 5% support without max_len enumerates an enormous lattice: minutes of
# CPU inside cxsell's own loops, far more than any timeout below.
$node->safe_psql('postgres', q{
	SELECT setseed(0.5);
	CREATE TABLE dense AS
	  SELECT b AS basket, i AS item
	  FROM generate_series(1, 3000) b, generate_series(1, 40) i
	  WHERE random() < 0.7;
	ANALYZE dense;
});
my $mine = 'SELECT cxsell.mine(basket, item, 0.05) IS NULL FROM dense';

# statement_timeout stops the mining promptly
my ($ret, $stdout, $stderr);
my $t0 = time();
($ret, $stdout, $stderr) = $node->psql('postgres',
	"SET max_parallel_workers_per_gather = 0; SET statement_timeout = '1s'; $mine");
my $elapsed = time() - $t0;
isnt($ret, 0, 'mining under statement_timeout fails');
like($stderr, qr/canceling statement due to statement timeout/, 'it fails with the timeout error');
cmp_ok($elapsed, '<', 6, sprintf('and stops promptly (%.2f s for a 1 s timeout)', $elapsed));

# the same with a parallel plan
$t0 = time();
($ret, $stdout, $stderr) = $node->psql('postgres',
	"SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0; "
	  . "SET statement_timeout = '1s'; $mine");
$elapsed = time() - $t0;
like($stderr, qr/canceling statement due to statement timeout/, 'parallel mining stops on the timeout too');
cmp_ok($elapsed, '<', 6, sprintf('promptly (%.2f s)', $elapsed));

# pg_cancel_backend from another session
my $bg = $node->background_psql('postgres', on_error_stop => 0);
my $pid = $bg->query_safe('SELECT pg_backend_pid()');
$bg->query_until(qr/started/, "\\echo started\nSET max_parallel_workers_per_gather = 0;\n$mine;\n");
# wait until the mining is running
$node->poll_query_until('postgres',
	"SELECT state = 'active' AND query LIKE '%cxsell.mine%' FROM pg_stat_activity WHERE pid = $pid")
  or die 'mining never started';
sleep(1);
$t0 = time();
$node->safe_psql('postgres', "SELECT pg_cancel_backend($pid)");
$node->poll_query_until('postgres',
	"SELECT state <> 'active' FROM pg_stat_activity WHERE pid = $pid")
  or die 'cancel did not stop the mining';
$elapsed = time() - $t0;
cmp_ok($elapsed, '<', 5, sprintf('pg_cancel_backend stops mining promptly (%.2f s)', $elapsed));
like($bg->query('SELECT 42'), qr/^42$/m, 'the cancelled session is still usable');
$bg->quit;

# the memory bound: a clear error, not an exhausted server
($ret, $stdout, $stderr) = $node->psql('postgres',
	"SET max_parallel_workers_per_gather = 0; SET cxsell.max_memory = '64MB'; $mine");
like($stderr, qr/the frequent itemsets are too many for cxsell\.max_memory\nDETAIL:  The mining finds \d+ itemsets holding \d+ items in all.*CONTEXT:  aggregate cxsell\.mine/s,
	'mining beyond cxsell.max_memory stops with an error that says how many itemsets it finds');
like($stderr, qr/HINT:  .*raise cxsell\.max_memory/, 'the error says what to change');

# max_len keeps the same data cheap
$t0 = time();
my $sets = $node->safe_psql('postgres',
	'SELECT (cxsell.summary(cxsell.mine(basket, item, 0.05, 2))).itemsets FROM dense');
is($sets, 40 + 40 * 39 / 2, 'with max_len = 2 the dense data gives every single item and pair');
cmp_ok(time() - $t0, '<', 10, 'quickly');

# a few huge baskets among many small ones do not explode under max_len:
# 3 baskets share 300 items, so at 3/2003 support every subset of those 300
# items is frequent; max_len = 3 bounds the work to C(300,3) itemsets
$node->safe_psql('postgres', q{
	CREATE TABLE huge AS
	  SELECT b AS basket, i AS item FROM generate_series(1, 3) b, generate_series(1000, 1299) i
	  UNION ALL
	  SELECT b, (b * 7 + k) % 50 FROM generate_series(4, 2003) b, generate_series(1, 3) k;
});
$t0 = time();
$sets = $node->safe_psql('postgres',
	'SELECT (cxsell.summary(cxsell.mine(basket, item, 3::float8 / 2003, 2))).itemsets FROM huge');
cmp_ok($sets, '>=', 300 + 300 * 299 / 2, "huge baskets with max_len = 2: $sets itemsets");
($ret, $stdout, $stderr) = $node->psql('postgres',
	"SET cxsell.max_memory = '256MB'; SELECT cxsell.mine(basket, item, 3::float8 / 2003) IS NULL FROM huge");
like($stderr, qr/the frequent itemsets are too many for one cxsell\.patterns value\nDETAIL:  The mining finds more than [\d.e+]+ itemsets/,
	'and without max_len they stop with the output error, not a crash');
cmp_ok(time() - $t0, '<', 60, sprintf('both within a minute (%.1f s)', time() - $t0));

# no backend crashed along the way
my $log = slurp_file($node->logfile);
unlike($log, qr/terminated by signal|server process .* was terminated/, 'no backend crashed');
is($node->safe_psql('postgres', 'SELECT 1'), '1', 'the server is up');

$node->stop;
done_testing();
