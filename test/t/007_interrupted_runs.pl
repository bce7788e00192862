#
# 007_interrupted_runs.pl -- the run log tells the truth about refreshes that
# do not finish: a statement_timeout or a cancel is logged as an error
# (SQLSTATE 57014) with the previous results kept; a run whose backend is
# terminated or killed (kill -9, which restarts the server) shows as
# interrupted, never as running; while a refresh runs it shows as running.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('interrupted');
$node->init;
# the kill -9 below restarts the server instead of stopping it
$node->append_conf('postgresql.conf', 'restart_after_crash = on');
$node->start;

# A rule set whose query waits for 600 s while public.pause.on is set.
$node->safe_psql('postgres', q{
	CREATE EXTENSION cxsell;
	CREATE TABLE lines AS
	SELECT b AS basket, (ARRAY['A', 'B', 'C'])[1 + (b * k) % 3] AS item
	FROM generate_series(1, 100) b, generate_series(1, 2) k;
	CREATE TABLE pause (on_ boolean);
	INSERT INTO pause VALUES (false);
	CREATE FUNCTION public.pause() RETURNS boolean LANGUAGE sql
	AS 'SELECT CASE WHEN (SELECT on_ FROM public.pause) THEN pg_sleep(600) IS NOT NULL ELSE true END';
	SELECT cxsell.create_rule_set('slow', 'SELECT basket, item FROM public.lines WHERE (SELECT public.pause())', 0.1);
	CALL cxsell.refresh('slow');
	UPDATE pause SET on_ = true;
});
my $rules = $node->safe_psql('postgres', q{SELECT count(*) FROM cxsell.current_rules});
cmp_ok($rules, '>', 0, "the first refresh stored $rules rules");

my $status = q{SELECT last_status || ' | ' || coalesce(last_error, '-') FROM cxsell.refresh_status WHERE name = 'slow'};
my $last_run = q{SELECT status || ' ' || coalesce(sqlstate, '-') FROM cxsell.refresh_history ORDER BY id DESC LIMIT 1};

# statement_timeout: the run is logged as an error, the rules stay
my ($ret, $stdout, $stderr) = $node->psql('postgres',
	q{SET statement_timeout = '1s'; CALL cxsell.refresh('slow')});
like($stderr, qr/canceling statement due to statement timeout/, 'a refresh past statement_timeout fails');
is($node->safe_psql('postgres', $status), 'error | canceling statement due to statement timeout',
	'refresh_status shows the timeout as the last error');
is($node->safe_psql('postgres', $last_run), 'error 57014', 'logged with SQLSTATE 57014');
is($node->safe_psql('postgres', q{SELECT count(*) FROM cxsell.current_rules}), $rules,
	'the previous rules stay');
no_worker_left('timeout');

# Start a refresh in the background; return the session and its backend pid
# once the refresh's query (in a background worker of its own) is waiting.
sub start_refresh
{
	my $bg = $node->background_psql('postgres', on_error_stop => 0);
	my $pid = $bg->query_safe('SELECT pg_backend_pid()');
	$bg->query_until(qr/started/, "\\echo started\nCALL cxsell.refresh('slow');\n");
	$node->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity "
		  . "WHERE backend_type = 'cxsell source query' AND wait_event = 'PgSleep'")
	  or die 'the refresh never reached its query';
	return ($bg, $pid);
}

# The worker of a refresh goes away with it.
sub no_worker_left
{
	my ($how) = @_;
	ok($node->poll_query_until('postgres',
			"SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'cxsell source query'"),
		"the source query's worker stops too ($how)");
}

# cancel
my ($bg, $pid) = start_refresh();
is($node->safe_psql('postgres', $status), 'running | canceling statement due to statement timeout',
	'a refresh in progress shows as running');
$node->safe_psql('postgres', "SELECT pg_cancel_backend($pid)");
$node->poll_query_until('postgres', "SELECT state = 'idle' FROM pg_stat_activity WHERE pid = $pid")
  or die 'cancel did not stop the refresh';
is($node->safe_psql('postgres', $status), 'error | canceling statement due to user request',
	'a cancelled refresh is logged as an error');
is($node->safe_psql('postgres', $last_run), 'error 57014', 'with SQLSTATE 57014');
no_worker_left('cancel');
$bg->quit;

# pg_terminate_backend: nothing is left to log the run; it shows as
# interrupted as soon as its backend is gone
($bg, $pid) = start_refresh();
$node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)");
$node->poll_query_until('postgres', "SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $pid")
  or die 'the backend did not exit';
is($node->safe_psql('postgres', $status),
	'interrupted | the run did not finish: its backend exited or its transaction ended first',
	'a terminated refresh shows as interrupted, not running');
is($node->safe_psql('postgres', q{SELECT status FROM cxsell.refresh_log ORDER BY id DESC LIMIT 1}),
	'running', '(the log row itself could not be finished)');
no_worker_left('terminate');
$bg->{run}->kill_kill;

# kill -9: the server restarts; the run shows as interrupted
($bg, $pid) = start_refresh();
kill 'KILL', $pid;
# (while the server restarts, a psql that cannot connect may exit before the
# harness has written the query to it: the write's broken pipe is one more
# failed attempt, not a failed test)
my $back = 0;
for (my $try = 0; !$back && $try < 180; $try++)
{
	$back = eval { $node->poll_query_until('postgres', 'SELECT true') };
	sleep 1 unless $back;
}
$back or die 'the server did not come back';
is($node->safe_psql('postgres', $status),
	'interrupted | the run did not finish: its backend exited or its transaction ended first',
	'a refresh whose backend was killed shows as interrupted');
$bg->{run}->kill_kill;

# the next refresh marks the dead runs as interrupted in the log itself
$node->safe_psql('postgres', q{UPDATE pause SET on_ = false});
$node->safe_psql('postgres', q{CALL cxsell.refresh('slow')});
is($node->safe_psql('postgres', q{
	SELECT string_agg(status, ' ' ORDER BY id) FROM cxsell.refresh_log}),
	'success error error interrupted interrupted success',
	'the log holds every run with its true outcome');
is($node->safe_psql('postgres', $status), 'success | the run did not finish: its backend exited or its transaction ended first',
	'refresh_status: the last run succeeded; the last failure stays visible');

$node->stop;
done_testing();
