#
# CxsellTest.pm -- helpers shared by cxsell's TAP tests (test/t).
#
package CxsellTest;

use strict;
use warnings;

use Exporter 'import';
use File::Basename;
use File::Spec;
use Test::More;

our @EXPORT_OK = qw(data_file wilson95);

# The shared data folder: $CXSELL_DATA_DIR, or shared/data beside the
# repository.
sub data_dir
{
	return $ENV{CXSELL_DATA_DIR}
	  // File::Spec->catdir(dirname(__FILE__), File::Spec->updir,
		File::Spec->updir, File::Spec->updir, 'shared', 'data');
}

# The absolute path of a data file (folder, file); bails out when it cannot
# be read.
sub data_file
{
	my $f = File::Spec->rel2abs(File::Spec->catfile(data_dir(), @_));
	BAIL_OUT("data file not found: $f (set CXSELL_DATA_DIR to the shared data folder)")
	  unless -r $f;
	return $f;
}

# The 95% Wilson score interval of s successes in n trials, from the
# textbook formula (z = Phi^-1(0.975)).
sub wilson95
{
	my ($s, $n) = @_;
	my $z = 1.959963984540054;
	my $p = $s / $n;
	my $centre = $p + $z * $z / (2 * $n);
	my $half = $z * sqrt($p * (1 - $p) / $n + $z * $z / (4 * $n * $n));
	my $den = 1 + $z * $z / $n;
	return (($s == 0 ? 0 : ($centre - $half) / $den),
		($s == $n ? 1 : ($centre + $half) / $den));
}

1;
