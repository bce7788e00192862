
# Copyright (c) cxsell contributors
#
# 013_sequences.pl -- next-product rules on real and planted histories,
# against independent computations.
#
# UCI Online Retail (the 20,000-line sample with customers and dates): every
# sequence of up to three items, its customers and median gap, every item's
# follow count and every rule's confidence and lift, against a Perl recount
# over the customers' histories from the definition; parallel plans give the
# serial value; backtest_next's test customers and its popularity baseline's
# hits against a SQL recount.  Planted histories (a bank's customers opening
# checking, then savings, then a card): the rules are found with the planted
# strength, and the backtest's rules beat popularity.  Rule drift on the
# complete invoices (the first 8,000: December 2010 against February and
# March 2011) against a recount of both periods.

use strict;
use warnings;

use File::Spec;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use CxsellTest qw(data_file);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $node = PostgreSQL::Test::Cluster->new('sequences');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION cxsell');

$node->safe_psql('postgres',
	"CREATE TABLE retail (invoice text, stock_code text, description text, quantity int,"
	  . " invoice_date timestamp, unit_price numeric, customer text, country text);"
	  . "COPY retail FROM '" . data_file('online_retail_sample', 'online_retail_sample.csv')
	  . "' (FORMAT csv, HEADER true, NULL 'NA');"
	  # what customers bought, when; and each product's kind: the last word
	  # of its description (HOLDER, BAG, MUG ...)
	  . "CREATE TABLE bought AS SELECT customer, invoice_date AS at, stock_code AS item,"
	  . " regexp_replace(upper(btrim(description)), '^.* ', '') AS kind FROM retail"
	  . " WHERE customer IS NOT NULL AND quantity > 0 AND invoice NOT LIKE 'C%' AND description <> '';"
	  . "ALTER TABLE bought SET (parallel_workers = 2); ANALYZE bought;");

# --- the recount ------------------------------------------------------------------

# Each customer's events (ascending times in seconds, each a list of items),
# from the rows of column $col.
sub histories
{
	my ($col) = @_;
	my %rows;
	for my $line (split /\n/, $node->safe_psql('postgres',
			"SELECT DISTINCT customer, extract(epoch FROM at)::bigint, $col FROM bought"))
	{
		my ($c, $t, $i) = split /\|/, $line, 3;
		$rows{$c}{$t}{$i} = 1;
	}
	my %h;
	for my $c (keys %rows)
	{
		$h{$c} = [ map { [ $_, [ sort keys %{ $rows{$c}{$_} } ] ] } sort { $a <=> $b } keys %{ $rows{$c} } ];
	}
	return \%h;
}

sub median
{
	my @v = sort { $a <=> $b } @_;
	return @v % 2 ? $v[ $#v / 2 ] : ($v[ @v / 2 - 1 ] + $v[ @v / 2 ]) / 2;
}

# The sequences of up to three items within $w seconds with at least
# $min_count customers: { "a\tb" => [count, median gap in days] }, and each
# item's follow count.  A customer's first occurrence of a sequence, met
# scanning events in time order, is its earliest (lexicographically smallest
# times); the gap is taken there.  Longer sequences are looked for only
# among frequent shorter ones (every part of a frequent sequence is).
sub recount
{
	my ($h, $w, $min_count) = @_;
	my (%count, %gaps, %follow);
	for my $c (keys %$h)
	{
		my $ev = $h->{$c};
		my (%seen, %followed);
		for my $i (0 .. $#$ev)
		{
			my $after = $i > 0 && $ev->[$i][0] - $ev->[ $i - 1 ][0] <= $w;
			for my $a (@{ $ev->[$i][1] })
			{
				$count{$a}++ unless $seen{$a}++;
				$follow{$a}++ if $after && !$followed{$a}++;
			}
		}
	}
	my %freq = map { $_ => 1 } grep { $count{$_} >= $min_count } keys %count;
	for my $len (2, 3)
	{
		my %found;
		for my $c (keys %$h)
		{
			my @ev = map { [ $_->[0], [ grep { $freq{$_} } @{ $_->[1] } ] ] } @{ $h->{$c} };
			my %seen;
			for my $i (0 .. $#ev)
			{
				for my $j ($i + 1 .. $#ev)
				{
					last if $ev[$j][0] - $ev[$i][0] > $w;
					for my $a (@{ $ev[$i][1] })
					{
						for my $b (@{ $ev[$j][1] })
						{
							if ($len == 2)
							{
								next if $seen{"$a\t$b"}++;
								$found{"$a\t$b"}++;
								push @{ $gaps{"$a\t$b"} }, $ev[$j][0] - $ev[$i][0];
								next;
							}
							next unless $freq{"$a\t$b"};
							for my $k ($j + 1 .. $#ev)
							{
								last if $ev[$k][0] - $ev[$i][0] > $w;
								for my $d (@{ $ev[$k][1] })
								{
									next unless $freq{"$b\t$d"} && $freq{"$a\t$d"};
									next if $seen{"$a\t$b\t$d"}++;
									$found{"$a\t$b\t$d"}++;
									push @{ $gaps{"$a\t$b\t$d"} }, $ev[$k][0] - $ev[$j][0];
								}
							}
						}
					}
				}
			}
		}
		for (grep { $found{$_} >= $min_count } keys %found)
		{
			$freq{$_} = 1;
			$count{$_} = $found{$_};
		}
	}
	my %result = map { $_ => [ $count{$_}, $gaps{$_} ? median(@{ $gaps{$_} }) / 86400 : undef ] } keys %freq;
	return (\%result, \%follow);
}

# The differences between the recount and the miner's sequences.
sub compare
{
	my ($expect, $got) = @_;
	my @d;
	for my $k (sort keys %$expect)
	{
		my ($e, $g) = ($expect->{$k}, $got->{$k});
		if (!$g) { push @d, "missing {$k}"; next; }
		push @d, "{$k}: $g->[0] customers for $e->[0]" if $g->[0] != $e->[0];
		push @d, "{$k}: gap $g->[1] for $e->[1]"
		  if defined $e->[1] && abs($g->[1] - $e->[1]) > 1e-9 * (1 + $e->[1]);
	}
	push @d, map { "extra {$_}" } grep { !$expect->{$_} } sort keys %$got;
	return @d ? scalar(@d) . ' differences: ' . join('; ', @d[ 0 .. ($#d < 4 ? $#d : 4) ]) : '';
}

for my $case ([ 'item', 0.001, 365 ], [ 'kind', 0.003, 365 ], [ 'kind', 0.005, 90 ])
{
	my ($col, $s, $days) = @$case;
	my $w = $days * 86400;
	my $value = "SELECT cxsell.mine_sequences(customer, at, $col, $s, 3, interval '$days days') AS s FROM bought";
	my $t0 = time;
	$node->safe_psql('postgres', "CREATE TABLE s AS $value");
	my $mine = time - $t0;
	my ($n, $min_count) = split /\|/, $node->safe_psql('postgres',
		'SELECT customers, min_count FROM s, cxsell.summary(s)');
	$t0 = time;
	my $h = histories($col);
	my ($expect, $follow) = recount($h, $w, $min_count);
	my $perl = time - $t0;
	my %got;
	for my $line (split /\n/, $node->safe_psql('postgres',
			"SELECT array_to_string(items, E'\\t'), customers, median_gap FROM s, cxsell.sequences(s)"))
	{
		my ($k, $c, $g) = split /\|/, $line;
		$got{$k} = [ $c, $g eq '' ? undef : $g ];
	}
	my %by_len;
	$by_len{ scalar(split /\t/, $_) }++ for keys %got;
	my $sizes = join(', ', map { "$by_len{$_} of length $_" } sort keys %by_len);
	is(compare($expect, \%got), '',
		"online retail, $col at $s within $days days: the sequences, customers and median gaps of the recount ($sizes)");
	note(sprintf('online retail, %s at %s within %d days: %s; mined in %.0f ms (Perl recount %.0f ms)',
		  $col, $s, $days, $sizes, $mine * 1000, $perl * 1000));
	# every rule from the recounted counts
	my $bad = 0;
	my $rules = 0;
	for my $line (split /\n/, $node->safe_psql('postgres',
			"SELECT array_to_string(antecedent, E'\\t'), consequent, confidence, base_rate, lift FROM s, cxsell.sequence_rules(s)"))
	{
		my ($a, $y, $conf, $base, $lift) = split /\|/, $line;
		my $all = $expect->{"$a\t$y"}[0];
		my $e_conf = $all / $expect->{$a}[0];
		my $e_base = ($follow->{$y} // 0) / $n;
		$rules++;
		$bad++ if abs($conf - $e_conf) > 1e-12 || abs($base - $e_base) > 1e-12
		  || abs($lift - $e_conf / $e_base) > 1e-9 * $lift;
	}
	is($bad, 0, "online retail, $col at $s: the confidence, base rate and lift of all $rules rules");
	$node->safe_psql('postgres', 'DROP TABLE s');
}

# parallel plans: the serial value
my $parallel_settings = "SET max_parallel_workers_per_gather = 2; SET parallel_setup_cost = 0;"
  . " SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;";
my $query = "SELECT cxsell.mine_sequences(customer, at, kind, 0.003, 0, interval '365 days') FROM bought";
like($node->safe_psql('postgres', "$parallel_settings EXPLAIN (COSTS OFF) $query"),
	qr/Partial Aggregate/, 'online retail sequences: a parallel plan');
is($node->safe_psql('postgres', "$parallel_settings SET parallel_leader_participation = off; SELECT md5(($query)::text)"),
	$node->safe_psql('postgres', "SET max_parallel_workers_per_gather = 0; SELECT md5(($query)::text)"),
	'online retail sequences: the parallel value is the serial one');

# --- the backtest on online retail -------------------------------------------------

# backtest_next against a recount of its cases (the test customers: those
# the split puts aside with something taken before their last first-taking)
# and of its popularity baseline (the items most often taken after an
# earlier event within the window, among the training customers, counted
# here in SQL)
for my $case ([ 'kind', 0.005, 90, 5 ], [ 'item', 0.001, 365, 10 ])
{
	my ($col, $s, $days, $n) = @$case;
	my $split = "((hashtextextended(customer, 0) & 9223372036854775807)::float8 / 9223372036854775808.0) < 0.3";
	my @rows = split /\n/, $node->safe_psql('postgres',
		"SELECT method, test_customers, hits, round(hit_rate::numeric, 4), round(hit_rate_lower::numeric, 4),"
		  . " round(hit_rate_upper::numeric, 4), round(coverage::numeric, 3)"
		  . " FROM cxsell.backtest_next('SELECT customer, at, $col AS item FROM bought', $s, interval '$days days', $n, 0.3)");
	my ($tested, $pop_hits) = split /\|/, $node->safe_psql('postgres', qq{
		WITH l AS MATERIALIZED (SELECT DISTINCT customer, at, $col AS item, $split AS test FROM bought),
		first AS (SELECT customer, item, min(at) AS t FROM l WHERE test GROUP BY 1, 2),
		last AS MATERIALIZED (SELECT customer, max(t) AS t FROM first GROUP BY 1),
		cases AS MATERIALIZED (
		    SELECT f.customer, array_agg(f.item) AS hidden FROM first f JOIN last USING (customer)
		    WHERE f.t = last.t AND EXISTS (SELECT 1 FROM l WHERE l.customer = f.customer AND l.test AND l.at < last.t)
		    GROUP BY f.customer),
		held AS (SELECT c.customer, array_agg(DISTINCT l.item) AS items FROM cases c JOIN l USING (customer)
		         JOIN last USING (customer) WHERE l.at < last.t GROUP BY c.customer),
		-- the training customers' frequent items, and how many took each after
		-- an earlier time of theirs within the window
		train AS MATERIALIZED (SELECT customer, at, item FROM l WHERE NOT test),
		min_count AS MATERIALIZED (SELECT ceil($s * count(DISTINCT customer)) AS m FROM train),
		counts AS MATERIALIZED (SELECT item, count(DISTINCT customer) AS n FROM train GROUP BY item
		                        HAVING count(DISTINCT customer) >= (SELECT m FROM min_count)),
		times AS (SELECT customer, at, lag(at) OVER (PARTITION BY customer ORDER BY at) AS before
		          FROM (SELECT DISTINCT customer, at FROM train) d),
		follow AS MATERIALIZED (
		    SELECT t.item, count(DISTINCT t.customer) AS n FROM train t JOIN times p USING (customer, at)
		    WHERE t.at - p.before <= interval '$days days' AND t.item IN (SELECT item FROM counts)
		    GROUP BY t.item),
		ranked AS MATERIALIZED (SELECT f.item, row_number() OVER (ORDER BY f.n DESC, c.n DESC, f.item) AS r
		                        FROM follow f JOIN counts c USING (item)),
		offers AS (SELECT h.customer, (SELECT array_agg(item) FROM (SELECT r.item FROM ranked r
		             WHERE r.item <> ALL (h.items) ORDER BY r.r LIMIT $n) x) AS top FROM held h)
		SELECT (SELECT count(*) FROM cases),
		       (SELECT count(*) FROM cases c JOIN offers o USING (customer) WHERE c.hidden && o.top)});
	my %r = map { my @f = split /\|/; $f[0] => [@f] } @rows;
	is($r{popularity}[1] . ' ' . $r{popularity}[2], "$tested $pop_hits",
		"online retail backtest, $col at $s within $days days: the test customers and the popularity hits of a recount");
	is($r{rules}[1], $tested, "online retail backtest, $col: the rules are tested on the same customers");
	note(sprintf('online retail backtest, %s at %s within %d days, top %d, %d test customers: rules %s hits (%s, 95%% %s to %s, rules fire for %s), popularity %s (%s, %s to %s)',
		  $col, $s, $days, $n, $tested, @{ $r{rules} }[ 2 .. 6 ], @{ $r{popularity} }[ 2 .. 5 ]));
}

# --- planted histories: a bank's customers ------------------------------------------

# 4,000 customers open a checking account on a day of 2023; 60% open
# savings 5 to 60 days later, and of those half take a card 5 to 60 days
# after that; anyone may take insurance (30%) or a loan (10%) at any time.
$node->safe_psql('postgres', q{
	SELECT setseed(0.5);
	CREATE TABLE accounts AS
	WITH c AS (SELECT c, date '2023-01-01' + (random() * 364)::int AS opened, random() AS u,
	                  random() AS v, 5 + (random() * 55)::int AS d1, 5 + (random() * 55)::int AS d2,
	                  random() AS ins, random() AS loan, (random() * 700)::int AS t1,
	                  (random() * 700)::int AS t2
	           FROM generate_series(1, 4000) c)
	SELECT c AS customer, opened AS at, 'checking' AS product FROM c
	UNION ALL SELECT c, opened + d1, 'savings' FROM c WHERE u < 0.6
	UNION ALL SELECT c, opened + d1 + d2, 'card' FROM c WHERE u < 0.6 AND v < 0.5
	UNION ALL SELECT c, opened + t1 - 350, 'insurance' FROM c WHERE ins < 0.3
	UNION ALL SELECT c, opened + t2 - 350, 'loan' FROM c WHERE loan < 0.1;
});
my ($ck_sv, $sv_cd, $lift_sv, $gap) = split /\|/, $node->safe_psql('postgres', q{
	WITH s AS (SELECT cxsell.mine_sequences(customer, at, product, 0.01, 0, interval '90 days') AS s FROM accounts)
	SELECT (SELECT round(confidence::numeric, 2) FROM s, cxsell.sequence_rules(s) WHERE antecedent = '{checking}' AND consequent = 'savings'),
	       (SELECT round(confidence::numeric, 2) FROM s, cxsell.sequence_rules(s) WHERE antecedent = '{savings}' AND consequent = 'card'),
	       (SELECT round(lift::numeric, 2) FROM s, cxsell.sequence_rules(s) WHERE antecedent = '{savings}' AND consequent = 'card'),
	       (SELECT round(median_gap) FROM s, cxsell.sequence_rules(s) WHERE antecedent = '{checking}' AND consequent = 'savings')});
ok(abs($ck_sv - 0.6) < 0.03 && abs($sv_cd - 0.5) < 0.04,
	"planted bank histories: checking => savings $ck_sv (planted 0.6), savings => card $sv_cd (planted 0.5)");
# savings is only ever taken after checking, so checking => savings is at
# savings' base rate as a follow-on product; a card follows savings only
ok(abs($lift_sv - 0.5 / 0.3) < 0.15,
	"planted bank histories: savings => card has lift $lift_sv (planted 0.5 against a base rate of 0.6 x 0.5)");
ok(abs($gap - 32) <= 4, "planted bank histories: the median gap checking => savings is $gap days (planted 5 to 60)");
my %bt = map { my @f = split /\|/; $f[0] => [@f] } split /\n/, $node->safe_psql('postgres',
	"SELECT method, test_customers, hits, round(hit_rate::numeric, 3), round(hit_rate_lower::numeric, 3),"
	  . " round(hit_rate_upper::numeric, 3)"
	  . " FROM cxsell.backtest_next('SELECT customer, at, product AS item FROM accounts', 0.01, interval '90 days', 1)");
cmp_ok($bt{rules}[4], '>', $bt{popularity}[5],
	"planted bank histories, the best offer: rules hit $bt{rules}[3] (95% from $bt{rules}[4]), popularity $bt{popularity}[3] (to $bt{popularity}[5])");
note("planted bank histories, backtest of the best offer on $bt{rules}[1] customers: rules $bt{rules}[2] hits"
	  . " ($bt{rules}[3], $bt{rules}[4] to $bt{rules}[5]), popularity $bt{popularity}[2] ($bt{popularity}[3], $bt{popularity}[4] to $bt{popularity}[5])");

# --- rule drift on the complete invoices ----------------------------------------------

# The first 8,000 invoices of the complete file, in time order.  The dated
# sample puts December 2010 at the first ~1,830 and February and March 2011
# at ~3,290 to ~6,630 (its invoices per month, scaled to the 25,900 of the
# year): the periods are taken inside those bounds.
my $tmp = File::Spec->rel2abs(PostgreSQL::Test::Utils::tempdir);
open(my $in, '<', data_file('online_retail_baskets', 'online_retail_first8000.csv')) or die $!;
open(my $out, '>', "$tmp/invoices.tsv") or die $!;
my $k = 0;
while (my $line = <$in>)
{
	$line =~ s/\r?\n\z//;
	$k++;
	my %seen;
	print $out "$k\t$_\n" for grep { !$seen{$_}++ } split /,/, $line;
}
close $in;
close $out;
$node->safe_psql('postgres', "CREATE TABLE invoices (invoice int, item text); COPY invoices FROM '$tmp/invoices.tsv';"
	  . "CREATE TABLE periods AS"
	  . " SELECT (SELECT cxsell.mine(invoice, item, 0.02) FROM invoices WHERE invoice BETWEEN 1 AND 1800) AS december,"
	  . " (SELECT cxsell.mine(invoice, item, 0.02) FROM invoices WHERE invoice BETWEEN 3300 AND 6600) AS febmar;"
	  . "CREATE TABLE held AS SELECT invoice, array_agg(item) AS items, invoice <= 1800 AS december"
	  . " FROM invoices WHERE invoice BETWEEN 1 AND 1800 OR invoice BETWEEN 3300 AND 6600 GROUP BY invoice;"
	  . "CREATE TABLE drift AS SELECT d.* FROM periods, cxsell.rule_drift(december, febmar, min_confidence => 0.3) d;");
my ($drifted, $wrong) = split /\|/, $node->safe_psql('postgres', q{
	WITH m AS (SELECT (SELECT min_count FROM cxsell.summary(december)) AS m1,
	                  (SELECT min_count FROM cxsell.summary(febmar)) AS m2 FROM periods),
	r AS (SELECT d.*,
	  (SELECT count(*) FROM held WHERE december AND items @> (d.antecedent || d.consequent)) AS ac1,
	  (SELECT count(*) FROM held WHERE december AND items @> d.antecedent) AS a1,
	  (SELECT count(*) FROM held WHERE NOT december AND items @> (d.antecedent || d.consequent)) AS ac2,
	  (SELECT count(*) FROM held WHERE NOT december AND items @> d.antecedent) AS a2
	  FROM drift d)
	SELECT count(*), count(*) FILTER (WHERE
	  (count_before IS NOT NULL AND (count_before <> ac1 OR abs(confidence_before - ac1::float8 / a1) > 1e-12))
	  OR (count_after IS NOT NULL AND (count_after <> ac2 OR abs(confidence_after - ac2::float8 / a2) > 1e-12))
	  OR (count_before IS NULL AND ac1 >= m1) OR (count_after IS NULL AND ac2 >= m2))
	FROM r, m});
is($wrong, 0, "online retail invoices, December 2010 against February-March 2011: the counts and confidences of all $drifted rules in both periods, recounted");
my $table = $node->safe_psql('postgres',
	"SELECT status, count(*) FROM drift GROUP BY status ORDER BY status");
note("rule drift, December 2010 against February-March 2011 (2% support, confidence 0.3): " . join(', ', split /\n/, $table));
note("most significant changes:\n" . $node->safe_psql('postgres',
	"SELECT antecedent::text || ' => ' || consequent::text, round(confidence_before::numeric, 3),"
	  . " round(confidence_after::numeric, 3), to_char(q_value, '9.9EEEE'), status FROM drift"
	  . " WHERE q_value IS NOT NULL ORDER BY q_value, antecedent, consequent LIMIT 6"));

$node->stop;
done_testing();
