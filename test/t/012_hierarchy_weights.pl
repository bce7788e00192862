
# Copyright (c) cxsell contributors
#
# 012_hierarchy_weights.pl -- generalised itemsets and weighted support on
# real data, against independent computations.
#
# arules Groceries with its real category levels (test/data/groceries: 55
# subcategories, 10 main categories): cxsell's itemsets over the hierarchy
# against a Perl recount (test/perl/CxsellOracle.pm) over the baskets
# extended with each item's categories, no itemset holding an item and its
# category.  UCI Online Retail (a 20,000-line sample): each customer's
# revenue (quantity x price) as the weight, every itemset's weighted support
# against a direct SQL sum (numeric) over the customers holding it: equal to
# 1e-9, each line's weight being rounded to 2^-32 before its exact sum.  Parallel plans give
# the serial plans' values.

use strict;
use warnings;

use File::Spec;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use CxsellTest qw(data_file);
use CxsellOracle qw(read_baskets item_bitmaps perl_mine);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $node = PostgreSQL::Test::Cluster->new('hierarchy');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION cxsell');
my $tmp = File::Spec->rel2abs(PostgreSQL::Test::Utils::tempdir);

# The itemsets (tab-joined sorted items) and counts a query returns.
sub counted
{
	my ($sql) = @_;
	my %set;
	for my $line (split /\n/, $node->safe_psql('postgres', $sql))
	{
		my ($items, $count) = split /\|/, $line;
		$set{ join("\t", sort split(/\t/, $items, -1)) } = $count;
	}
	return \%set;
}

# The keys whose counts differ between two hashes, a few named.
sub differences
{
	my ($expect, $got) = @_;
	my @d = ((map { "missing {$_}" } grep { !exists $got->{$_} } sort keys %$expect),
		(map { "extra {$_}" } grep { !exists $expect->{$_} } sort keys %$got),
		(map { "{$_}: $got->{$_} for $expect->{$_}" }
			  grep { exists $got->{$_} && $got->{$_} != $expect->{$_} } sort keys %$expect));
	return @d ? scalar(@d) . ' differences: ' . join('; ', @d[ 0 .. ($#d < 4 ? $#d : 4) ]) : '';
}

# A query's aggregate runs in a parallel plan and gives the serial plan's value.
my $parallel_settings = "SET max_parallel_workers_per_gather = 2; SET parallel_setup_cost = 0;"
  . " SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;";
sub parallel_same
{
	my ($query, $name) = @_;
	like($node->safe_psql('postgres', "$parallel_settings EXPLAIN (COSTS OFF) $query"),
		qr/Partial Aggregate/, "$name: a parallel plan");
	my $serial = $node->safe_psql('postgres',
		"SET max_parallel_workers_per_gather = 0; SELECT md5(($query)::text)");
	my $parallel = $node->safe_psql('postgres',
		"$parallel_settings SET parallel_leader_participation = off; SELECT md5(($query)::text)");
	is($parallel, $serial, "$name: the parallel value is the serial one");
}

# --- Groceries over its category levels -----------------------------------------

my $baskets = read_baskets(data_file('groceries', 'groceries.csv'), sub { split /,/, $_[0], -1 });
my %parents;    # item -> [subcategory, main category], as the tests name them
open(my $lv, '<', data_file('groceries', 'groceries_levels.tsv')) or die $!;
<$lv>;
while (my $line = <$lv>)
{
	$line =~ s/\n\z//;
	my ($item, $level2, $level1) = split /\t/, $line, -1;
	$parents{$item} = [ "$level2*", "$level1**" ];
}
close $lv;
is(scalar(keys %parents), 169, 'the levels name 169 items');

my $copy = "$tmp/groceries.tsv";
open(my $out, '>', $copy) or die "cannot write $copy: $!";
for my $b (@$baskets)
{
	print $out "$b->[0]\t$_\n" for @{ $b->[1] };
}
close $out;
open($out, '>', "$tmp/levels.tsv") or die $!;
print $out "$_\t$parents{$_}[0]\t$parents{$_}[1]\n" for sort keys %parents;
close $out;
$node->safe_psql('postgres',
	"CREATE TABLE groceries (basket int, item text); COPY groceries FROM '$copy';"
	  . "CREATE TABLE levels (item text PRIMARY KEY, level2 text, level1 text);"
	  . "COPY levels FROM '$tmp/levels.tsv';"
	  . "CREATE TABLE lines AS SELECT g.basket, g.item, ARRAY[l.level2, l.level1] AS ancestors"
	  . " FROM groceries g JOIN levels l USING (item);"
	  . "ALTER TABLE lines SET (parallel_workers = 2); ANALYZE lines");

# the extended baskets; an item and its ancestors are never together
my %ancestors = map { $_ => { map { $_ => 1 } @{ $parents{$_} } } } keys %parents;
for my $p (values %parents)
{
	$ancestors{ $p->[0] }{ $p->[1] } = 1;
}
my $apart = sub { $ancestors{ $_[0] }{ $_[1] } || $ancestors{ $_[1] }{ $_[0] } };
my @extended = map {
	my %seen;
	[ $_->[0], [ grep { !$seen{$_}++ } map { ($_, @{ $parents{$_} }) } @{ $_->[1] } ] ]
} @$baskets;
my ($n, $bm, $cnt) = item_bitmaps(\@extended);
undef @extended;

for my $s (0.01, 0.002)
{
	my $t0 = time;
	my ($count) = perl_mine($n, $bm, $cnt, $s, $apart);
	my $perl = time - $t0;
	$t0 = time;
	$node->safe_psql('postgres',
		"CREATE TABLE \"p_$s\" AS SELECT cxsell.mine(basket, item, $s, 0, ancestors) AS p FROM lines");
	my $mine = time - $t0;
	my $got = counted("SELECT array_to_string(items, E'\\t'), count FROM \"p_$s\", cxsell.itemsets(p)");
	is(differences($count, $got), '',
		"groceries at $s over the levels: the itemsets and counts of the recount ("
		  . scalar(keys %$count) . ')');
	note(sprintf('groceries at %s over the levels: %d itemsets, mined in %.0f ms (Perl recount %.0f ms)',
		  $s, scalar(keys %$count), $mine * 1000, $perl * 1000));
	next if $s < 0.01;
	my ($plain, $rules, $interesting, $departments, $complements) = split /\|/, $node->safe_psql('postgres',
		"SELECT (SELECT count(*) FROM cxsell.itemsets((SELECT cxsell.mine(basket, item, $s) FROM groceries))),"
		  . " (SELECT count(*) FROM cxsell.rules(p)),"
		  . " (SELECT count(*) FROM cxsell.rules(p, ancestor_interest => 1.1)),"
		  . " (SELECT count(*) FROM cxsell.item_pairs(p, depth => 0)),"
		  . " (SELECT count(*) FROM cxsell.item_pairs(p, depth => 0) WHERE relation = 'complement')"
		  . " FROM \"p_$s\"");
	note(sprintf('groceries at %s: %d itemsets over the levels (%d without them), %d rules,'
		  . ' %d R-interesting at R = 1.1; %d pairs of main categories, %d complements',
		  $s, scalar(keys %$count), $plain, $rules, $interesting, $departments, $complements));
	cmp_ok($interesting, '<', $rules, "groceries at $s: R-interesting rules are fewer");
}

# the main categories' pairs: observed co-occurrence of the recount's extended baskets
my $pairs = counted("SELECT item_a || E'\\t' || item_b, observed FROM \"p_0.01\", cxsell.item_pairs(p, depth => 0)");
my %expect;
my @mains = sort grep { /\*\*\z/ && $cnt->{$_} / $n >= 0.01 } keys %$cnt;
for my $i (0 .. $#mains)
{
	for my $j ($i + 1 .. $#mains)
	{
		$expect{"$mains[$i]\t$mains[$j]"} =
		  CxsellOracle::popcount($bm->{ $mains[$i] } & $bm->{ $mains[$j] });
	}
}
is(differences(\%expect, $pairs), '', 'item_pairs at depth 0: every pair of main categories ('
	  . scalar(keys %expect) . ')');

parallel_same('SELECT cxsell.mine(basket, item, 0.002, 0, ancestors) FROM lines',
	'groceries over the levels');

# --- Online retail: revenue as the weight -------------------------------------------

$node->safe_psql('postgres',
	"CREATE TABLE retail (invoice text, stock_code text, description text, quantity int,"
	  . " invoice_date timestamp, unit_price numeric, customer text, country text);"
	  . "COPY retail FROM '" . data_file('online_retail_sample', 'online_retail_sample.csv')
	  . "' (FORMAT csv, HEADER true, NULL 'NA');"
	  . "CREATE TABLE sales AS SELECT customer, stock_code, quantity * unit_price AS revenue FROM retail"
	  . " WHERE customer IS NOT NULL AND quantity > 0 AND unit_price > 0 AND invoice NOT LIKE 'C%';"
	  . "ALTER TABLE sales SET (parallel_workers = 2); ANALYZE sales;"
	  . "CREATE TABLE held AS SELECT customer, array_agg(DISTINCT stock_code) AS items,"
	  . " sum(revenue) AS revenue FROM sales GROUP BY customer;");
my $t0 = time;
$node->safe_psql('postgres',
	"CREATE TABLE pw AS SELECT cxsell.mine(customer, stock_code, 0.0015, 0, revenue::float8) AS p FROM sales");
my $mine = time - $t0;
my ($total, $itemsets, $bad, $worst) = split /\|/, $node->safe_psql('postgres',
	"WITH s AS (SELECT items, support FROM pw, cxsell.itemsets(p)),"
	  . " o AS (SELECT s.items, s.support, (SELECT sum(h.revenue) FROM held h WHERE h.items @> s.items)"
	  . "  / (SELECT sum(revenue) FROM held) AS expect FROM s)"
	  . " SELECT (SELECT sum(revenue) FROM held), count(*),"
	  . " count(*) FILTER (WHERE abs(support - expect::float8) > 1e-9 * expect::float8),"
	  . " max(abs(support - expect::float8) / expect::float8) FROM o");
is($bad, 0, "online retail by customer, revenue-weighted: every itemset's weighted support is its SQL sum ($itemsets itemsets, largest relative difference $worst)");
cmp_ok($itemsets, '>', 100, 'online retail: itemsets of several sizes to check');
my ($rules, $rbad, $revenue_bad) = split /\|/, $node->safe_psql('postgres',
	"WITH r AS (SELECT antecedent, consequent, confidence, lift FROM pw, cxsell.rules(p)),"
	  . " w AS (SELECT r.*, (SELECT sum(revenue) FROM held WHERE items @> (r.antecedent || r.consequent)) AS ac,"
	  . "  (SELECT sum(revenue) FROM held WHERE items @> r.antecedent) AS a,"
	  . "  (SELECT sum(revenue) FROM held WHERE items @> r.consequent) AS c,"
	  . "  (SELECT sum(revenue) FROM held) AS t FROM r)"
	  . " SELECT count(*), count(*) FILTER (WHERE abs(confidence - (ac / a)::float8) > 1e-12"
	  . "   OR abs(lift - (ac * t / (a * c))::float8) > 1e-9 * lift),"
	  . " (SELECT count(*) FROM pw, cxsell.bundles(p) b"
	  . "  WHERE abs(cxsell.itemset_weight(p, b.items) - (SELECT sum(revenue) FROM held WHERE items @> b.items)::float8) > 1e-6)"
	  . " FROM w");
is($rbad, 0, "online retail: the weighted confidence and lift of every rule from the SQL sums ($rules rules)");
cmp_ok($rules, '>', 50, 'online retail: rules to check');
is($revenue_bad, 0, 'online retail: every bundle\'s revenue is its SQL sum');
my ($plain_rules) = $node->safe_psql('postgres',
	"SELECT count(*) FROM cxsell.rules((SELECT cxsell.mine(customer, stock_code, 0.0015) FROM sales))");
note(sprintf('online retail sample by customer at 0.15%%: %d itemsets, %d rules, total revenue %s;'
	  . ' mined with weights in %.0f ms; the same rules by count: %d', $itemsets, $rules, $total,
	  $mine * 1000, $plain_rules));

parallel_same('SELECT cxsell.mine(customer, stock_code, 0.0015, 0, revenue::float8) FROM sales',
	'online retail, revenue-weighted');

$node->stop;
done_testing();
