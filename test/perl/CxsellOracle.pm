#
# CxsellOracle.pm -- exact frequent-itemset mining in plain Perl, the
# independent oracle the real-data tests compare cxsell with.
#
package CxsellOracle;

use strict;
use warnings;

use Exporter 'import';

our @EXPORT_OK = qw(read_baskets item_bitmaps perl_mine min_count popcount);

# Returns an array ref of [basket_id, [distinct items in first-seen order]],
# one entry per line (basket id = 1-based line number).  $split is a code ref
# turning one line (without its "\n") into its list of item tokens.
sub read_baskets
{
	my ($path, $split) = @_;
	open(my $fh, '<', $path) or die "cannot open $path: $!";
	my @baskets;
	my $line_no = 0;
	while (my $line = <$fh>)
	{
		$line_no++;
		$line =~ s/\n\z//;
		my %seen;
		my @items = grep { !$seen{$_}++ } $split->($line);
		for (@items)
		{
			die "$path line $line_no: item with tab/newline/backslash: '$_'"
			  if /[\t\n\r\\]/;
		}
		push @baskets, [ $line_no, \@items ];
	}
	close $fh;
	return \@baskets;
}

# Number of set bits in a bitmap string.
sub popcount { return unpack('%32b*', $_[0]); }

# Builds per-item basket bitmaps.  Returns (n, \%bitmap, \%count), where n is
# the number of baskets holding at least one item.
sub item_bitmaps
{
	my ($baskets) = @_;
	my (%bm, %cnt);
	my $n = 0;
	for my $bk (@$baskets)
	{
		next unless @{ $bk->[1] };
		my $idx = $n++;
		for my $it (@{ $bk->[1] })
		{
			$bm{$it} = '' unless defined $bm{$it};
			vec($bm{$it}, $idx, 1) = 1;
			$cnt{$it}++;
		}
	}
	# pad every bitmap to the same length so that '&' is well defined
	my $len = int(($n + 7) / 8);
	for my $it (keys %bm)
	{
		$bm{$it} .= "\0" x ($len - length($bm{$it}));
	}
	return ($n, \%bm, \%cnt);
}

# Depth-first Eclat.  Returns a hash: join("\t", sorted items) => count.
# $apart, when given, is a code ref telling two items that may not be in one
# itemset (an item and its ancestor in a hierarchy).
sub perl_mine
{
	my ($n, $bm, $cnt, $minsup, $apart) = @_;
	my $frequent = sub { return $_[0] / $n >= $minsup; };    # float8 compare

	my @freq = sort { $a cmp $b } grep { $frequent->($cnt->{$_}) } keys %$cnt;
	my %result;

	my $extend;
	$extend = sub {
		my ($prefix, $cands) = @_;    # $cands: [ [item, bitmap, count], ... ]
		for my $i (0 .. $#$cands)
		{
			my ($item, $tids, $c) = @{ $cands->[$i] };
			my @set = (@$prefix, $item);
			$result{ join("\t", sort @set) } = $c;
			my @next;
			for my $j ($i + 1 .. $#$cands)
			{
				next if $apart && $apart->($item, $cands->[$j][0]);
				my $t2 = $tids & $cands->[$j][1];
				my $c2 = popcount($t2);
				push @next, [ $cands->[$j][0], $t2, $c2 ]
				  if $c2 > 0 && $frequent->($c2);
			}
			$extend->(\@set, \@next) if @next;
		}
	};
	$extend->([], [ map { [ $_, $bm->{$_}, $cnt->{$_} ] } @freq ]);
	undef $extend;
	return (\%result, \@freq);
}

# Smallest integer count c with c / n >= s (the float8 comparison).
sub min_count
{
	my ($n, $s) = @_;
	for my $c (0 .. $n)
	{
		return $c if $c / $n >= $s;
	}
	return $n + 1;
}

1;
