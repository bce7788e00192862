#
# CxsellTest.pm -- helpers shared by cxsell's TAP tests (test/t).
#
package CxsellTest;

use strict;
use warnings;

use Digest::SHA;
use Exporter 'import';
use File::Basename;
use File::Spec;
use File::Temp;
use IPC::Run;
use IO::Uncompress::Gunzip qw(gunzip $GunzipError);

our @EXPORT_OK = qw(data_file load_sample_data wilson95);

# The repository's test data folder (test/data), or $CXSELL_DATA_DIR.
sub data_dir
{
	return $ENV{CXSELL_DATA_DIR}
	  // File::Spec->catdir(dirname(__FILE__), File::Spec->updir, 'data');
}

# sha256 of each data file, uncompressed, from SHA256SUMS beside the data.
sub checksums
{
	my %sum;
	my $list = File::Spec->catfile(data_dir(), 'SHA256SUMS');
	open(my $fh, '<', $list) or return \%sum;
	while (<$fh>)
	{
		$sum{$2} = $1 if /^([0-9a-f]{64})\s+\*?(\S+)$/;
	}
	close $fh;
	return \%sum;
}

my $scratch;

# The absolute path of a plain copy of data file (folder, file): the file as
# it is, or its .gz decompressed into a scratch folder, checked against
# SHA256SUMS.  Dies, naming every path it looked for, when it is missing.
sub data_file
{
	my ($folder, $file) = @_;
	my $plain = File::Spec->rel2abs(File::Spec->catfile(data_dir(), $folder, $file));
	my $gz = "$plain.gz";
	my $path;
	if (-r $plain)
	{
		$path = $plain;
	}
	elsif (-r $gz)
	{
		$scratch //= File::Temp->newdir('cxsell_data_XXXX', TMPDIR => 1);
		$path = File::Spec->catfile($scratch->dirname, "$folder-$file");
		gunzip($gz => $path) or die "cannot decompress $gz: $GunzipError";
	}
	else
	{
		die "test data file not found: looked for $plain and $gz\n"
		  . "The data sets ship with the repository in test/data; "
		  . "CXSELL_DATA_DIR, when set, replaces that folder.\n";
	}
	my $want = checksums()->{"$folder/$file"};
	if (defined $want)
	{
		my $got = Digest::SHA->new(256)->addfile($path)->hexdigest;
		die "test data file $path has sha256 $got, not $want (SHA256SUMS)\n"
		  unless $got eq $want;
	}
	return $path;
}

# Load tools/sample_data.sql (the README's sample tables, from the data
# files of test/data) into database $db of $node, as the README does: psql
# run from the repository root, or from a folder whose test/data is
# $CXSELL_DATA_DIR when that is set.
sub load_sample_data
{
	my ($node, $db) = @_;
	my $root = File::Spec->rel2abs(File::Spec->catdir(dirname(__FILE__), File::Spec->updir,
			File::Spec->updir));
	my $script = File::Spec->catfile($root, 'tools', 'sample_data.sql');
	my $dir = $root;
	my $tmp;
	if ($ENV{CXSELL_DATA_DIR})
	{
		$tmp = File::Temp->newdir('cxsell_sample_XXXX', TMPDIR => 1);
		$dir = $tmp->dirname;
		mkdir "$dir/test" or die "cannot create $dir/test: $!";
		symlink(File::Spec->rel2abs($ENV{CXSELL_DATA_DIR}), "$dir/test/data")
		  or die "cannot link $dir/test/data: $!";
	}
	my ($out, $err) = ('', '');
	my $ok = IPC::Run::run(
		[ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr($db), '-f', $script ],
		'<', \undef, '>', \$out, '2>', \$err,
		init => sub { chdir $dir or die "cannot enter $dir: $!" });
	die "loading $script into $db failed:\n$err$out" unless $ok;
	return;
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
