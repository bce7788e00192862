#
# 005_campaigns.pl -- campaign statistics on real data, checked against
# independent computations in Perl:
#
# - UCI bank marketing (test/data/bank_marketing):
#   response (y) by contact channel with Wilson intervals and the
#   two-proportion test against the best channel (channel_report), the
#   chi-square test of channel x response (chi_square), and the gains table
#   and AUC of a documented score (gains, auc).
# - Groceries (test/data/groceries): the backtest of rule-based
#   recommendations against the popularity baseline (backtest), recomputed
#   here from the training itemsets, which are themselves recounted.

use strict;
use warnings;

use File::Spec;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use CxsellTest qw(data_file load_sample_data wilson95);
use POSIX qw(erfc floor);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $bank_csv = data_file('bank_marketing', 'bank-full.csv');
my $groceries_csv = data_file('groceries', 'groceries.csv');    # checked against SHA256SUMS; loaded by sample_data.sql

sub close_rel
{
	my ($got, $want, $tol) = @_;
	return 1 if $got == $want;
	return abs($got - $want) <= $tol * abs($want);
}

# --- bank marketing: the independent computation --------------------------
open(my $fh, '<', $bank_csv) or die "cannot open $bank_csv: $!";
my $header = <$fh>;
chomp $header;
my @cols = map { s/"//gr } split /;/, $header;
my %col;
@col{@cols} = (0 .. $#cols);
my (%contacts, %responses, @scored);
while (my $line = <$fh>)
{
	chomp $line;
	my @f = map { s/"//gr } split /;/, $line, -1;
	my $ch = $f[ $col{contact} ];
	my $yes = $f[ $col{y} ] eq 'yes' ? 1 : 0;
	$contacts{$ch}++;
	$responses{$ch} += $yes;
	# the documented score: a success in the previous campaign 3, reached on a
	# mobile 1, no housing loan 1, called in March, September, October or
	# December 2, aged 60 or over 1, plus the balance up to 20,000 as a
	# fraction of 20,000 (negative balances count 0)
	my $balance = $f[ $col{balance} ];
	$balance = 0 if $balance < 0;
	$balance = 20000 if $balance > 20000;
	my $score = 3 * ($f[ $col{poutcome} ] eq 'success')
	  + ($ch eq 'cellular')
	  + ($f[ $col{housing} ] eq 'no')
	  + 2 * ($f[ $col{month} ] =~ /^(mar|sep|oct|dec)$/ ? 1 : 0)
	  + ($f[ $col{age} ] >= 60)
	  + $balance / 20000;
	push @scored, [ $score, $yes ];
}
close $fh;
is(scalar(@scored), 45211, 'the file holds 45,211 contacts');

my $node = PostgreSQL::Test::Cluster->new('campaigns');
$node->init(extra => [ '--locale=C', '--encoding=UTF8' ]);
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION cxsell');
# the README's tables: bank and groceries (tools/sample_data.sql)
load_sample_data($node, 'postgres');

# channels: rate, Wilson interval, p-value against the best (pooled z test)
my @by_rate = sort {
	$responses{$b} / $contacts{$b} <=> $responses{$a} / $contacts{$a}
	  or $contacts{$b} <=> $contacts{$a} or $a cmp $b
} keys %contacts;
my $best = $by_rate[0];
my $out = $node->safe_psql('postgres',
	q{SELECT * FROM cxsell.channel_report('SELECT channel, responded FROM bank')});
my @rows = split /\n/, $out;
is(scalar(@rows), scalar(keys %contacts), 'one row per channel');
my $ok = 1;
note('channel | contacts | responses | rate | 95% interval | p vs best');
for my $i (0 .. $#rows)
{
	my ($ch, $n, $s, $rate, $lo, $hi, $isbest, $p) = split /\|/, $rows[$i];
	my ($elo, $ehi) = wilson95($responses{$ch}, $contacts{$ch});
	my $ep;
	if ($ch ne $best)
	{
		my ($x1, $n1, $x2, $n2) =
		  ($responses{$ch}, $contacts{$ch}, $responses{$best}, $contacts{$best});
		my $pool = ($x1 + $x2) / ($n1 + $n2);
		my $z = ($x1 / $n1 - $x2 / $n2) / sqrt($pool * (1 - $pool) * (1 / $n1 + 1 / $n2));
		$ep = erfc(abs($z) / sqrt(2));
	}
	note(sprintf('%-9s | %8d | %9d | %.4f | [%.4f, %.4f] | %s',
		$ch, $n, $s, $rate, $lo, $hi, $p eq '' ? '-' : sprintf('%.3g', $p)));
	$ok &&= $ch eq $by_rate[$i] && $n == $contacts{$ch} && $s == $responses{$ch}
	  && close_rel($lo, $elo, 1e-9) && close_rel($hi, $ehi, 1e-9)
	  && ($isbest eq 't') == ($ch eq $best)
	  && (defined $ep ? close_rel($p, $ep, 1e-9) : $p eq '');
}
ok($ok, 'channel counts, Wilson intervals and p-values against the best match');

# chi-square test of independence: channel x responded, df = 2, whose
# survival function is exp(-x/2)
my $total = 0;
my $total_yes = 0;
for my $ch (keys %contacts)
{
	$total += $contacts{$ch};
	$total_yes += $responses{$ch};
}
my $stat = 0;
for my $ch (keys %contacts)
{
	for my $cell ([ $responses{$ch}, $total_yes ],
		[ $contacts{$ch} - $responses{$ch}, $total - $total_yes ])
	{
		my $e = $contacts{$ch} * $cell->[1] / $total;
		$stat += ($cell->[0] - $e)**2 / $e;
	}
}
my ($cstat, $cdf, $cp) = split /\|/, $node->safe_psql('postgres',
	q{SELECT (c).statistic, (c).df, (c).p_value
	  FROM (SELECT cxsell.chi_square(channel, responded::text) AS c FROM bank) x});
note(sprintf('chi-square %.4f, df %d, p %.6g (independent: %.4f, p %.6g)',
	$cstat, $cdf, $cp, $stat, exp(-$stat / 2)));
ok(close_rel($cstat, $stat, 1e-9) && $cdf == 2 && close_rel($cp, exp(-$stat / 2), 1e-9),
	'chi-square statistic, degrees of freedom and p-value match');

# gains table of the score: ranked highest first, ten nominal buckets of
# floor(N*b/10), a tie group never split (it stays in the bucket where its
# first member falls)
my @sorted = sort { $b->[0] <=> $a->[0] } @scored;
my $N = scalar(@sorted);
my $yes_all = 0;
$yes_all += $_->[1] for @sorted;
my @want;
my ($start, $cum_n, $cum_y) = (0, 0, 0);
for my $b (1 .. 10)
{
	last if $start >= $N;
	my $end = floor($N * $b / 10);
	next if $end <= $start;
	$end++ while $end < $N && $sorted[$end][0] == $sorted[ $end - 1 ][0];
	my ($n, $y) = ($end - $start, 0);
	$y += $sorted[$_][1] for $start .. $end - 1;
	$cum_n += $n;
	$cum_y += $y;
	push @want, [ $b, $n, $y, $y / $n, 100 * $cum_n / $N, 100 * $cum_y / $yes_all,
		($y / $n) / ($yes_all / $N), ($cum_y / $cum_n) / ($yes_all / $N) ];
	$start = $end;
}
$out = $node->safe_psql('postgres', q{
	SELECT (g).bucket, (g).customers, (g).responders, (g).response_rate,
	       (g).cumulative_customers_pct, (g).cumulative_responders_pct, (g).lift, (g).cumulative_lift
	FROM (SELECT unnest(cxsell.gains(score, responded)) AS g FROM bank) x});
@rows = split /\n/, $out;
is(scalar(@rows), scalar(@want), 'gains: the same buckets');
$ok = 1;
note('bucket | customers | responders | rate | cum. customers % | gain % | lift | cum. lift');
for my $i (0 .. $#rows)
{
	my @g = split /\|/, $rows[$i];
	note(sprintf('%6d | %9d | %10d | %.4f | %6.2f | %6.2f | %.3f | %.3f', @g));
	$ok &&= $g[0] == $want[$i][0] && $g[1] == $want[$i][1] && $g[2] == $want[$i][2];
	$ok &&= close_rel($g[$_], $want[$i][$_], 1e-9) for 3 .. 7;
}
ok($ok, 'gains table equals the independent computation');

# AUC by Mann-Whitney: ties count one half
my %at;
$at{ $_->[0] }[ $_->[1] ]++ for @scored;
my ($wins, $neg_below) = (0, 0);
for my $s (sort { $a <=> $b } keys %at)
{
	my ($neg, $pos) = map { $_ // 0 } @{ $at{$s} }[ 0, 1 ];
	$wins += $pos * ($neg_below + $neg / 2);
	$neg_below += $neg;
}
my $auc = $wins / ($yes_all * ($N - $yes_all));
my $cauc = $node->safe_psql('postgres', 'SELECT cxsell.auc(score, responded) FROM bank');
note(sprintf('AUC %.6f (independent %.6f)', $cauc, $auc));
ok(close_rel($cauc, $auc, 1e-9), 'AUC matches');

# --- groceries: backtest of recommendations -------------------------------

# The split and the hidden items follow their documented definition and use
# only PostgreSQL's built-in hash; everything after is recomputed here.
my %lines;    # basket => { items => [...], test => 0/1, hidden => item }
for my $row (split /\n/, $node->safe_psql('postgres', q{
	WITH l AS (SELECT DISTINCT basket::text AS basket, item FROM groceries)
	SELECT basket, item,
	       ((hashtextextended(basket, 0) & 9223372036854775807)::float8
	        / 9223372036854775808.0) < 0.2,
	       row_number() OVER (PARTITION BY basket
	                          ORDER BY hashtextextended(item, hashtextextended(basket, 0)), item)
	FROM l}))
{
	my ($b, $item, $test, $pos) = split /\|/, $row;
	push @{ $lines{$b}{items} }, $item;
	$lines{$b}{test} = $test eq 't';
	$lines{$b}{hidden} = $item if $pos == 1;
}
my @train = grep { !$lines{$_}{test} } keys %lines;
my @cases = grep { $lines{$_}{test} && @{ $lines{$_}{items} } >= 2 } sort keys %lines;

# independent recommendation: per candidate item its best rule A -> {c}
# (A held, A u {c} frequent, lift >= 1), ranked; popularity fills the rest
sub recommend
{
	my ($model, $held, $n, $method) = @_;
	my %best;
	if ($method eq 'rules')
	{
		for my $set (@{ $model->{sets} })
		{
			my @items = @$set;
			next if @items < 2;
			my @missing = grep { !$held->{$_} } @items;
			next unless @missing == 1;
			my $c = $missing[0];
			my @a = grep { $_ ne $c } @items;
			my $cnt = $model->{count}{ join("\x01", @items) };
			my $na = $model->{count}{ join("\x01", @a) };
			my $conf = $cnt / $na;
			my $lift = ($cnt * $model->{n}) / ($na * $model->{count}{$c});
			next if $lift < 1;    # recommend's default min_lift
			my $cur = $best{$c};
			my $better = !$cur || $conf > $cur->{conf}
			  || ($conf == $cur->{conf} && ($cnt > $cur->{cnt}
				|| ($cnt == $cur->{cnt} && (@a < @{ $cur->{a} }
				  || (@a == @{ $cur->{a} } && join("\x01", @a) lt join("\x01", @{ $cur->{a} }))))));
			$best{$c} = { conf => $conf, lift => $lift, cnt => $cnt, a => \@a } if $better;
		}
	}
	my @ranked = sort {
		$best{$b}{conf} <=> $best{$a}{conf} or $best{$b}{lift} <=> $best{$a}{lift}
		  or $best{$b}{cnt} <=> $best{$a}{cnt} or $a cmp $b
	} keys %best;
	my @recs = map { [ $_, 'rule' ] } @ranked;
	my @pop = grep { !$held->{$_} && !$best{$_} } @{ $model->{popular} };
	push @recs, map { [ $_, 'popularity' ] } @pop;
	splice(@recs, $n) if @recs > $n;
	return @recs;
}

for my $min_support (0.01, 0.005)
{
	my $model = { n => scalar(@train) };
	my $rows = $node->safe_psql('postgres', qq{
		WITH l AS (SELECT DISTINCT basket::text AS basket, item FROM groceries),
		train AS (SELECT * FROM l
		          WHERE NOT ((hashtextextended(basket, 0) & 9223372036854775807)::float8
		                     / 9223372036854775808.0) < 0.2)
		SELECT array_to_string(i.items, chr(1)), i.count
		FROM (SELECT cxsell.mine(basket, item, $min_support) AS p FROM train) m,
		     cxsell.itemsets(m.p) i});
	for my $row (split /\n/, $rows)
	{
		my ($key, $count) = split /\|/, $row;
		$model->{count}{$key} = $count;
		push @{ $model->{sets} }, [ split /\x01/, $key ];
	}

	# recount every itemset on the training baskets, and check that no
	# frequent single item is missing
	my (%single, %recount);
	for my $b (@train)
	{
		my %in = map { $_ => 1 } @{ $lines{$b}{items} };
		$single{$_}++ for keys %in;
		for my $set (@{ $model->{sets} })
		{
			next unless @$set > 1;
			next if grep { !$in{$_} } @$set;
			$recount{ join("\x01", @$set) }++;
		}
	}
	my $min_count = POSIX::ceil($min_support * @train - 1e-9);
	my $counts_ok = !grep {
		my @s = split /\x01/;
		(@s == 1 ? $single{$_} : $recount{$_} // 0) != $model->{count}{$_}
	} keys %{ $model->{count} };
	$counts_ok &&= !grep { $single{$_} >= $min_count && !exists $model->{count}{$_} } keys %single;
	ok($counts_ok, "groceries at $min_support: training itemsets recounted");
	$model->{popular} = [ sort { $single{$b} <=> $single{$a} or $a cmp $b }
		  grep { exists $model->{count}{$_} } keys %single ];

	my %want;
	for my $method ('rules', 'popularity')
	{
		my ($hits, $covered, %items) = (0, 0);
		for my $b (@cases)
		{
			my %held = map { $_ => 1 } grep { $_ ne $lines{$b}{hidden} } @{ $lines{$b}{items} };
			my @recs = recommend($model, \%held, 5, $method);
			$hits++ if grep { $_->[0] eq $lines{$b}{hidden} } @recs;
			my $own = $method eq 'rules' ? 'rule' : 'popularity';
			$covered++ if grep { $_->[1] eq $own } @recs;
			$items{ $_->[0] } = 1 for @recs;
		}
		$want{$method} = [ scalar(@train), scalar(@cases), $hits, $hits / @cases,
			$covered / @cases, scalar(keys %items) ];
	}

	$out = $node->safe_psql('postgres', qq{
		SELECT method, train_baskets, test_baskets, hits, hit_rate, coverage, items_recommended,
		       hit_rate_lower, hit_rate_upper
		FROM cxsell.backtest('SELECT basket, item FROM groceries', $min_support, 5)});
	$ok = 1;
	for my $row (split /\n/, $out)
	{
		my ($method, @got) = split /\|/, $row;
		my ($lo, $hi) = splice(@got, 6);
		my $w = $want{$method};
		note(sprintf('min_support %s, n 5, %-10s: %d train, %d tested, %d hits, '
			  . 'hit rate %.4f [%.4f, %.4f], coverage %.4f, %d items',
			$min_support, $method, @got[ 0 .. 3 ], $lo, $hi, @got[ 4 .. 5 ]));
		$ok &&= $got[$_] == $w->[$_] for (0, 1, 2, 5);
		$ok &&= close_rel($got[3], $w->[3], 1e-12) && close_rel($got[4], $w->[4], 1e-12);
	}
	ok($ok, "groceries at $min_support: backtest figures equal the independent computation");
}

$node->stop;
done_testing();
