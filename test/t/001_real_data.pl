
# Copyright (c) cxsell contributors
#
# 001_real_data.pl -- cxsell.mine against an independent Perl oracle on real
# market-basket data.
#
# For each dataset (FIMI retail, arules Groceries, UCI Online Retail baskets)
# and each minimum support, the frequent itemsets are computed exactly in Perl
# (depth-first Eclat over per-item basket bitmaps, restricted to frequent
# items, extending only frequent itemsets) and compared, itemset by itemset and
# count by count, with cxsell.itemsets(cxsell.mine(...)).  On Groceries at 1%
# every row of cxsell.item_pairs is checked against the Perl co-occurrence
# counts, zeros included.
#
# The data sets ship with the repository (test/data, see its README.md);
# online retail is its first 8,000 invoices.

use strict;
use warnings;

use File::Spec;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use CxsellTest qw(data_file);
use CxsellOracle qw(read_baskets item_bitmaps perl_mine min_count popcount);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $t0 = time();

# ---------------------------------------------------------------------------
# Locate the data
# ---------------------------------------------------------------------------

my %files = (
	retail        => data_file('retail',    'retail.dat'),
	groceries     => data_file('groceries', 'groceries.csv'),
	online_retail => data_file('online_retail_baskets', 'online_retail_first8000.csv'),);

# ---------------------------------------------------------------------------
# How each dataset's lines split into items (read by CxsellOracle)
# ---------------------------------------------------------------------------

my %datasets = (
	retail => {
		type  => 'int',
		split => sub { split ' ', $_[0] },    # whitespace; trailing space
	},
	groceries => {
		type  => 'text',
		split => sub { split /,/, $_[0], -1 },    # keep labels exactly
	},
	online_retail => {
		type  => 'text',
		split => sub { split /,/, $_[0], -1 },    # StockCodes as text
	},);

# ---------------------------------------------------------------------------
# Comparing with the Perl oracle (test/perl/CxsellOracle.pm)
# ---------------------------------------------------------------------------

# Reports the first few differences between two itemset => count hashes.
sub compare_itemsets
{
	my ($label, $expect, $got) = @_;
	my @diffs;
	for my $k (sort keys %$expect)
	{
		if (!exists $got->{$k})
		{
			push @diffs, "missing from cxsell: {" . join(',', split /\t/, $k) . "} count $expect->{$k}";
		}
		elsif ($got->{$k} != $expect->{$k})
		{
			push @diffs, "count differs: {" . join(',', split /\t/, $k)
			  . "} cxsell $got->{$k}, expected $expect->{$k}";
		}
	}
	for my $k (sort keys %$got)
	{
		push @diffs, "extra in cxsell: {" . join(',', split /\t/, $k) . "} count $got->{$k}"
		  unless exists $expect->{$k};
	}
	ok(!@diffs, "$label: same itemsets and counts as the Perl oracle")
	  or diag(scalar(@diffs) . " differences; first ones:\n  "
		  . join("\n  ", @diffs[ 0 .. ($#diffs < 9 ? $#diffs : 9) ]));
}

# ---------------------------------------------------------------------------
# Server
# ---------------------------------------------------------------------------

my $node = PostgreSQL::Test::Cluster->new('real');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION cxsell');

my $tmp = File::Spec->rel2abs(PostgreSQL::Test::Utils::tempdir);

# COPY text-format escaping (items were checked to hold no tab/newline/\).
sub load_table
{
	my ($table, $type, $baskets) = @_;
	my $path = File::Spec->catfile($tmp, "$table.tsv");
	open(my $fh, '>', $path) or die "cannot write $path: $!";
	my $rows = 0;
	for my $bk (@$baskets)
	{
		# $bk->[2], when present, holds the raw tokens with their repeats
		for my $it (@{ $bk->[2] // $bk->[1] })
		{
			print $fh "$bk->[0]\t$it\n";
			$rows++;
		}
	}
	close $fh;
	(my $literal = $path) =~ s/'/''/g;
	$node->safe_psql('postgres',
		"CREATE TABLE $table (basket int, item $type);\n"
		  . "COPY $table FROM '$literal';\n"
		  . "ANALYZE $table;");
	return $rows;
}

my (%perl_pairs_input, %oracle_count);

for my $name (qw(retail groceries online_retail))
{
	my $ds = $datasets{$name};
	my $baskets = read_baskets($files{$name}, $ds->{split});

	# keep the raw token lists (with repeats) for loading, so that the
	# (basket, item) duplicates of online_retail reach cxsell as they are
	if ($name eq 'online_retail')
	{
		open(my $fh, '<', $files{$name}) or die;
		my $i = 0;
		while (my $line = <$fh>)
		{
			$line =~ s/\n\z//;
			$baskets->[$i++][2] = [ $ds->{split}->($line) ];
		}
		close $fh;
	}

	my $rows = load_table($name, $ds->{type}, $baskets);
	my $loaded = $node->safe_psql('postgres',
		"SELECT count(*), count(DISTINCT (basket, item)), count(DISTINCT basket) FROM $name");
	my $distinct_pairs = 0;
	$distinct_pairs += scalar(@{ $_->[1] }) for @$baskets;
	my $nonempty = grep { @{ $_->[1] } } @$baskets;
	is($loaded, "$rows|$distinct_pairs|$nonempty",
		"$name: loaded $rows rows, $distinct_pairs distinct (basket, item), $nonempty baskets");

	my ($n, $bm, $cnt) = item_bitmaps($baskets);
	undef $baskets;

	for my $s (qw(0.01 0.005))
	{
		my $label = "$name s=$s";
		my ($expect, $freq) = perl_mine($n, $bm, $cnt, $s);

		my $mt = "mined_${name}_" . ($s =~ tr/./_/r);
		$node->safe_psql('postgres',
			"CREATE TABLE $mt AS SELECT cxsell.mine(basket, item, ${s}::float8) AS p FROM $name");

		my $out = $node->safe_psql('postgres',
			"SELECT count || '|' || array_to_string(items, E'\\t') "
			  . "FROM cxsell.itemsets((SELECT p FROM $mt))");
		my %got;
		my $dups = 0;
		for my $line (split /\n/, $out)
		{
			my ($c, $items) = split /\|/, $line, 2;
			my $key = join("\t", sort split(/\t/, $items, -1));
			$dups++ if exists $got{$key};
			$got{$key} = $c;
		}
		my $n_expect = scalar(keys %$expect);
		my $n_got = scalar(split /\n/, $out);
		note("$label: n=$n, Perl oracle finds $n_expect frequent itemsets, cxsell returns $n_got");
		is($n_got, $n_expect, "$label: number of frequent itemsets ($n_expect)");
		is($dups, 0, "$label: no itemset returned twice");
		compare_itemsets($label, $expect, \%got);

		# items inside each array are sorted in the item type's order
		my $order = $ds->{type} eq 'int' ? 'x::int' : 'x';
		is( $node->safe_psql('postgres',
				"SELECT count(*) FROM cxsell.itemsets((SELECT p FROM $mt)) "
				  . "WHERE items <> ARRAY(SELECT x FROM unnest(items) x ORDER BY $order)"),
			'0',
			"$label: items sorted in $ds->{type} order inside every itemset");

		# summary agrees with the oracle
		my $maxsize = 0;
		for (keys %$expect)
		{
			my $k = scalar(split /\t/, $_, -1);
			$maxsize = $k if $k > $maxsize;
		}
		is( $node->safe_psql('postgres',
				"SELECT baskets, min_count, items, itemsets, max_itemset_size "
				  . "FROM cxsell.summary((SELECT p FROM $mt))"),
			join('|', $n, min_count($n, $s), scalar(@$freq), $n_expect, $maxsize),
			"$label: summary (baskets, min_count, items, itemsets, max_itemset_size)");

		$perl_pairs_input{$label} = [ $n, $bm, $cnt, $freq, $mt ];
		$oracle_count{$label} = $n_expect;
	}

	if ($name eq 'retail')
	{
		is($oracle_count{'retail s=0.01'}, 159,
			'retail: Perl oracle matches the published 159 frequent itemsets at 1%');
		is($oracle_count{'retail s=0.005'}, 580,
			'retail: Perl oracle matches the published 580 frequent itemsets at 0.5%');
		is($node->safe_psql('postgres', 'SELECT count(*) FROM cxsell.itemsets((SELECT p FROM mined_retail_0_01))'),
			'159', 'retail: cxsell finds 159 frequent itemsets at 1%');
		is($node->safe_psql('postgres', 'SELECT count(*) FROM cxsell.itemsets((SELECT p FROM mined_retail_0_005))'),
			'580', 'retail: cxsell finds 580 frequent itemsets at 0.5%');
	}

	# free the bitmaps of datasets no longer needed
	for my $s (qw(0.01 0.005))
	{
		delete $perl_pairs_input{"$name s=$s"}
		  unless $name eq 'groceries' && $s eq '0.01';
	}
}

# ---------------------------------------------------------------------------
# item_pairs on Groceries at 1%: observed co-occurrence of every frequent pair
# ---------------------------------------------------------------------------

{
	my ($n, $bm, $cnt, $freq, $mt) = @{ $perl_pairs_input{'groceries s=0.01'} };
	my $f = scalar(@$freq);
	my %expect;
	for my $i (0 .. $f - 1)
	{
		for my $j ($i + 1 .. $f - 1)
		{
			$expect{"$freq->[$i]\t$freq->[$j]"} =
			  popcount($bm->{ $freq->[$i] } & $bm->{ $freq->[$j] });
		}
	}
	my $zeros = grep { $_ == 0 } values %expect;

	my $out = $node->safe_psql('postgres',
		"SELECT item_a || E'\\t' || item_b || E'\\t' || count_a || E'\\t' || count_b "
		  . "|| E'\\t' || observed || E'\\t' || (item_a < item_b) "
		  . "FROM cxsell.item_pairs((SELECT p FROM $mt), 0.05)");
	my @rows = split /\n/, $out;
	is(scalar(@rows), $f * ($f - 1) / 2,
		"groceries s=0.01: item_pairs has F*(F-1)/2 rows (F=$f)");

	my (@diffs, %seen);
	for my $row (@rows)
	{
		my ($ia, $ib, $ca, $cb, $obs, $lt) = split /\t/, $row, -1;
		push @diffs, "item_a >= item_b: '$ia', '$ib'" unless $lt eq 'true';    # bool::text
		my $key = join("\t", sort ($ia, $ib));
		push @diffs, "pair returned twice: '$ia', '$ib'" if $seen{$key}++;
		if (!exists $expect{$key})
		{
			push @diffs, "pair of non-frequent items: '$ia', '$ib'";
			next;
		}
		push @diffs, "observed('$ia', '$ib') = $obs, expected $expect{$key}"
		  if $obs != $expect{$key};
		push @diffs, "count_a/count_b('$ia', '$ib') = $ca/$cb, expected $cnt->{$ia}/$cnt->{$ib}"
		  if $ca != $cnt->{$ia} || $cb != $cnt->{$ib};
	}
	for my $key (sort keys %expect)
	{
		push @diffs, "pair missing: '" . join("', '", split /\t/, $key) . "'"
		  unless $seen{$key};
	}
	ok(!@diffs,
		"groceries s=0.01: item_pairs observed/count_a/count_b match Perl for all pairs ($zeros never co-occur)"
	) or diag(scalar(@diffs) . " differences; first ones:\n  "
		  . join("\n  ", @diffs[ 0 .. ($#diffs < 9 ? $#diffs : 9) ]));
}

$node->stop;
note(sprintf('001_real_data.pl ran in %d s', time() - $t0));

done_testing();
