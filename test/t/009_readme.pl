#
# 009_readme.pl -- the README, run as a test.
#
# Every ```sql block of README.md runs, in order, in one psql session on a
# fresh database that holds the extension and tools/sample_data.sql (as the
# README tells its reader to set up).  A block followed by a plain ``` block
# must print exactly that block (trailing spaces and psql's row-count
# footers aside); a block without one must not fail.  A ```sql norun block
# is shown, not run: the README says why next to it.  The pg_cron blocks run
# on a server with pg_cron preloaded.
#
# CXSELL_README_OUT=FILE writes the README with every output block replaced
# by what the blocks print, to update the README after a change.

use strict;
use warnings;

use File::Basename;
use File::Spec;
use Cwd;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $root = File::Spec->rel2abs(File::Spec->catdir(dirname(__FILE__), '..', '..'));
my $readme = File::Spec->catfile($root, 'README.md');
open(my $fh, '<', $readme) or die "cannot read $readme: $!";
my @lines = <$fh>;
close $fh;

# The fenced blocks: { info, body, first, last } (line numbers, 0-based, of
# the fences).
my @blocks;
for (my $i = 0; $i < @lines; $i++)
{
	next unless $lines[$i] =~ /^```(.*)$/;
	my $info = $1;
	my $first = $i;
	my $body = '';
	for ($i++; $i < @lines && $lines[$i] !~ /^```\s*$/; $i++)
	{
		$body .= $lines[$i];
	}
	die "README.md: the block opened on line " . ($first + 1) . " is not closed\n"
	  if $i >= @lines;
	push @blocks, { info => $info, body => $body, first => $first, last => $i };
}

# The SQL blocks to run, each with the output block that follows it (only
# blank lines between), if any.
my @cases;
for my $k (0 .. $#blocks)
{
	my $b = $blocks[$k];
	next unless $b->{info} =~ /^sql\s*$/;
	my $next = $blocks[ $k + 1 ];
	my $expect;
	if (   $next
		&& $next->{info} eq ''
		&& join('', @lines[ $b->{last} + 1 .. $next->{first} - 1 ]) =~ /^\s*$/)
	{
		$expect = $next;
	}
	push @cases, { block => $b, expect => $expect };
}
ok(scalar(@cases) > 0, 'README.md has SQL blocks to run (' . scalar(@cases) . ')');

my $node = PostgreSQL::Test::Cluster->new('readme');
$node->init(extra => [ '--locale=C', '--encoding=UTF8' ]);
my $cron_lib = $node->config_data('--pkglibdir') . '/pg_cron.so';
die "pg_cron is not installed for this server ($cron_lib not found)\n"
  if !-e $cron_lib && $ENV{CXSELL_REQUIRE_PG_CRON};
$node->append_conf('postgresql.conf',
	"shared_preload_libraries = 'pg_cron'\ncron.database_name = 'shop'\n")
  if -e $cron_lib;
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE shop');

# One psql session, from the repository root (sample_data.sql reads
# test/data from there), with a marker between blocks.
my $script = "CREATE EXTENSION cxsell;\n\\i tools/sample_data.sql\n\\set ON_ERROR_STOP 0\n"
  . "\\pset footer off\n";
for my $k (0 .. $#cases)
{
	$script .= "\\echo '\@\@block $k\@\@'\n" . $cases[$k]{block}{body};
}
$script .= "\\echo '\@\@end\@\@'\n";
my $output;
my @cmd = (
	'psql', '-X', '-q', '-d', $node->connstr('shop'),
	'-v', 'ON_ERROR_STOP=1');
my $cwd = Cwd::getcwd();
chdir $root or die "cannot enter $root: $!";
IPC::Run::run(\@cmd, '<', \$script, '>&', \$output);
chdir $cwd;

my %got;
my $current;
for my $line (split /\n/, $output)
{
	if ($line =~ /^\@\@block (\d+)\@\@$/)
	{
		$current = $1;
		$got{$current} = '';
	}
	elsif ($line eq '@@end@@')
	{
		undef $current;
	}
	elsif (defined $current)
	{
		$got{$current} .= "$line\n";
	}
	else
	{
		diag("before the first block: $line");
	}
}

sub normalise
{
	my ($text) = @_;
	$text = join("\n", map { s/\s+$//r } split(/\n/, $text // ''));
	$text =~ s/^\n+//;
	$text =~ s/\n+$//;
	return $text;
}

my @replace;    # [first, last, new body] of output blocks to rewrite
for my $k (0 .. $#cases)
{
	my $case = $cases[$k];
	my $line = $case->{block}{first} + 1;
	my $got = normalise($got{$k});
	if ($case->{expect})
	{
		is($got, normalise($case->{expect}{body}), "README.md line $line: the output shown");
		push @replace, [ $case->{expect}{first}, $case->{expect}{last}, "$got\n" ];
	}
	else
	{
		unlike($got, qr/^(ERROR|FATAL|psql:)/m, "README.md line $line: runs without error")
		  or diag($got);
	}
}

if ($ENV{CXSELL_README_OUT})
{
	my @out = @lines;
	for my $r (reverse @replace)
	{
		splice(@out, $r->[0] + 1, $r->[1] - $r->[0] - 1, $r->[2]);
	}
	open(my $oh, '>', $ENV{CXSELL_README_OUT}) or die "cannot write $ENV{CXSELL_README_OUT}: $!";
	print $oh @out;
	close $oh;
}

$node->stop;
done_testing();
