
# Copyright (c) cxsell contributors
#
# 011_itemset_kinds.pl -- closed and maximal itemsets and non-redundant rules
# on real data, against their definitions applied to an independent Perl
# recount of every frequent itemset (test/perl/CxsellOracle.pm).
#
# Closed: no frequent itemset one item larger has the same count; maximal:
# none is frequent (counts only shrink as itemsets grow, so one item larger
# decides for every larger one).  The min-max basis: every rule G -> C \ G
# with C closed and G a generator (no subset one item smaller has its count).  A rule A -> C is redundant when a rule
# A' -> C, A' a non-empty proper subset of A, has at least its confidence,
# compared exactly as count(A' u C) * count(A) >= count(A u C) * count(A').
# Data: FIMI chess and mushroom (dense), FIMI retail and arules Groceries
# (sparse), all shipped in test/data.

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

my $node = PostgreSQL::Test::Cluster->new('kinds');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION cxsell');
my $tmp = File::Spec->rel2abs(PostgreSQL::Test::Utils::tempdir);

my $by_space = sub { split ' ', $_[0] };
my $by_comma = sub { split /,/, $_[0], -1 };
my @cases = (
	# name, folder, file, item type, split, support, check the redundant
	# rules, check the basis
	[ 'chess',     'chess',     'chess.dat',     'int',  $by_space, 0.8,   0, 1 ],
	[ 'mushroom',  'mushroom',  'mushroom.dat',  'int',  $by_space, 0.3,   0, 1 ],
	[ 'retail',    'retail',    'retail.dat',    'int',  $by_space, 0.005, 1, 1 ],
	[ 'groceries', 'groceries', 'groceries.csv', 'text', $by_comma, 0.005, 1, 1 ],);

# The itemsets (tab-joined sorted items) of an "items" text[] column.
sub keys_of
{
	my ($sql) = @_;
	my %set;
	for my $line (split /\n/, $node->safe_psql('postgres', $sql))
	{
		$set{ join("\t", sort split(/\t/, $line, -1)) } = 1;
	}
	return \%set;
}

# The rules (antecedent => consequent, each tab-joined and sorted) a query
# of antecedent and consequent returns.
sub rule_keys
{
	my ($sql) = @_;
	my %set;
	for my $line (split /\n/, $node->safe_psql('postgres',
			"SELECT array_to_string(antecedent, E'\\t') || '|' || array_to_string(consequent, E'\\t') "
			  . "FROM ($sql) r"))
	{
		my ($a, $c) = split /\|/, $line, 2;
		$set{ join("\t", sort split(/\t/, $a, -1)) . ' => ' . join("\t", sort split(/\t/, $c, -1)) } = 1;
	}
	return \%set;
}

# The keys in one hash and not the other, a few named.
sub differences
{
	my ($expect, $got) = @_;
	my @d = ((map { "missing {$_}" } grep { !$got->{$_} } sort keys %$expect),
		(map { "extra {$_}" } grep { !$expect->{$_} } sort keys %$got));
	return @d ? scalar(@d) . ' differences: ' . join('; ', @d[ 0 .. ($#d < 4 ? $#d : 4) ]) : '';
}

for my $case (@cases)
{
	my ($name, $folder, $file, $type, $split, $s, $with_rules, $with_basis) = @$case;
	my $baskets = read_baskets(data_file($folder, $file), $split);

	my $copy = "$tmp/$name.tsv";
	open(my $out, '>', $copy) or die "cannot write $copy: $!";
	for my $b (@$baskets)
	{
		print $out "$b->[0]\t$_\n" for @{ $b->[1] };
	}
	close $out;
	$node->safe_psql('postgres',
		"CREATE TABLE $name (basket int, item $type); COPY $name FROM '$copy';"
		  . "CREATE TABLE p_$name AS SELECT cxsell.mine(basket, item, $s) AS p FROM $name");

	my ($n, $bm, $cnt) = item_bitmaps($baskets);
	undef $baskets;
	my ($count, $freq) = perl_mine($n, $bm, $cnt, $s);

	# the definitions, over the Perl recount
	my (%closed, %maximal);
	for my $key (keys %$count)
	{
		my @set = split /\t/, $key, -1;
		my %in = map { $_ => 1 } @set;
		my ($is_closed, $is_maximal) = (1, 1);
		for my $i (@$freq)
		{
			next if $in{$i};
			my $larger = join("\t", sort(@set, $i));
			next unless exists $count->{$larger};
			$is_maximal = 0;
			$is_closed = 0 if $count->{$larger} == $count->{$key};
		}
		$closed{$key} = 1 if $is_closed;
		$maximal{$key} = 1 if $is_maximal;
	}
	my $label = "$name at $s";
	note(sprintf('%s: %d frequent itemsets, %d closed, %d maximal (Perl recount)',
			$label, scalar(keys %$count), scalar(keys %closed), scalar(keys %maximal)));
	is(differences(\%closed, keys_of(
				"SELECT array_to_string(items, E'\\t') FROM p_$name, cxsell.itemsets(p, 'closed')")),
		'', "$label: the closed itemsets are those of the definition (" . scalar(keys %closed) . ')');
	is(differences(\%maximal, keys_of(
				"SELECT array_to_string(items, E'\\t') FROM p_$name, cxsell.itemsets(p, 'maximal')")),
		'', "$label: the maximal itemsets are those of the definition (" . scalar(keys %maximal) . ')');
	my %bundles = map { $_ => 1 } grep { /\t/ } keys %closed;
	# the min-max basis: G -> C \ G, C closed, G a generator inside it (no
	# subset one item smaller has its count; no single item in every basket)
	my %generator;
	for my $key (keys %$count)
	{
		my @set = split /\t/, $key, -1;
		my $gen = !(@set == 1 && $count->{$key} == $n);
		for my $drop (0 .. $#set)
		{
			last unless $gen && @set > 1;
			my $sub = join("\t", sort @set[ grep { $_ != $drop } 0 .. $#set ]);
			$gen = 0 if $count->{$sub} == $count->{$key};
		}
		$generator{$key} = 1 if $gen;
	}
	my %basis;
	if ($with_basis)
	{
		for my $c (keys %closed)
		{
			my @set = split /\t/, $c, -1;
			for my $mask (1 .. (1 << @set) - 2)
			{
				my @g = map { $set[$_] } grep { $mask & (1 << $_) } 0 .. $#set;
				next unless $generator{ join("\t", sort @g) };
				my @rest = map { $set[$_] } grep { !($mask & (1 << $_)) } 0 .. $#set;
				$basis{ join("\t", sort @g) . ' => ' . join("\t", sort @rest) } = 1;
			}
		}
		is(differences(\%basis, rule_keys("SELECT antecedent, consequent FROM p_$name, cxsell.rules(p, basis => true)")),
			'', "$label: the min-max basis is that of the definition (" . scalar(keys %basis) . ' rules)');
	}
	is(differences(\%bundles, keys_of(
				"SELECT array_to_string(items, E'\\t') FROM p_$name, cxsell.bundles(p)")),
		'', "$label: the bundles are the closed itemsets of two or more items");

	next unless $with_rules;

	# every rule, and whether a more general one has at least its confidence
	my (%kept, $rules);
	for my $key (keys %$count)
	{
		my @set = split /\t/, $key, -1;
		my $k = scalar(@set);
		next if $k < 2;
		for my $mask (1 .. (1 << $k) - 2)
		{
			my @a = map { $set[$_] } grep { $mask & (1 << $_) } 0 .. $k - 1;
			my @c = map { $set[$_] } grep { !($mask & (1 << $_)) } 0 .. $k - 1;
			my $n_a = $count->{ join("\t", sort @a) };
			my $redundant = 0;
			for my $sub (1 .. $mask - 1)
			{
				next if ($sub & ~$mask) != 0;
				my @a2 = map { $set[$_] } grep { $sub & (1 << $_) } 0 .. $k - 1;
				my $n_a2 = $count->{ join("\t", sort @a2) };
				my $n_a2c = $count->{ join("\t", sort(@a2, @c)) };
				if ($n_a2c * $n_a >= $count->{$key} * $n_a2)
				{
					$redundant = 1;
					last;
				}
			}
			$rules++;
			$kept{ join("\t", sort @a) . ' => ' . join("\t", sort @c) } = 1 unless $redundant;
		}
	}
	my $got = rule_keys("SELECT antecedent, consequent FROM p_$name, cxsell.rules(p, redundant => false)");
	note(sprintf('%s: %d rules, %d not redundant (Perl recount)', $label, $rules, scalar(keys %kept)));
	is($node->safe_psql('postgres', "SELECT count(*) FROM p_$name, cxsell.rules(p)"),
		$rules, "$label: every rule ($rules)");
	is(differences(\%kept, $got), '',
		"$label: the non-redundant rules are those of the definition (" . scalar(keys %kept) . ')');
}

done_testing();
