# Copyright (c) cxsell contributors
#
# 003_kmeans_quality.pl -- cxsell.kmeans against scikit-learn's KMeans.
#
# Two data sets:
#   telco    IBM's Telco Customer Churn sample (7,043 fictional customers):
#            tenure, MonthlyCharges, TotalCharges and 0/1 flags for the
#            services and a few customer attributes (16 features);
#   mixture  a seeded Gaussian mixture generated here: 5 clusters of
#            different sizes and spreads in 6 dimensions whose features have
#            very different scales (3,000 points).
#
# For each data set and k = 2..8, cxsell's inertia with {"standardize": true}
# (default 10 restarts) must be at most 1% above that of
#   KMeans(n_clusters=k, init='k-means++', n_init=10, random_state=0)
#     .fit(StandardScaler().fit_transform(X)).inertia_
# computed by /usr/bin/python3 (Debian's python3-sklearn) on the very numbers
# the database holds: the features are exported with COPY to a CSV that
# Python reads (float8 output is shortest-exact, so both see identical
# doubles).  Lower than scikit-learn is fine.  On the mixture, cxsell with the
# true k must recover the generating clusters: adjusted Rand index (computed
# by sklearn.metrics.adjusted_rand_score from cxsell.cluster() labels) > 0.95.
#
# The telco data ships with the repository (test/data).

use strict;
use warnings;

use File::Spec;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use CxsellTest qw(data_file);
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $t0 = time();

my $PYTHON = '/usr/bin/python3';
my @K = (2 .. 8);
my $TOLERANCE = 1.01;    # cxsell inertia <= sklearn inertia * this

# ---------------------------------------------------------------------------
# Locate the data and scikit-learn
# ---------------------------------------------------------------------------

my $telco_csv = data_file('telco_churn', 'Telco-Customer-Churn.csv');

BAIL_OUT("$PYTHON cannot import sklearn: install Debian's python3-sklearn")
  unless system($PYTHON, '-c', 'import sklearn') == 0;

# ---------------------------------------------------------------------------
# The scikit-learn side
# ---------------------------------------------------------------------------

my $tmp = File::Spec->rel2abs(PostgreSQL::Test::Utils::tempdir);
my $py = File::Spec->catfile($tmp, 'sk_kmeans.py');
open(my $pyfh, '>', $py) or die "cannot write $py: $!";
print $pyfh <<'PY';
import sys
import numpy as np
import sklearn
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score
from sklearn.preprocessing import StandardScaler

mode, path = sys.argv[1], sys.argv[2]
if mode == "inertia":
    # one point per line, features separated by commas
    X = np.loadtxt(path, delimiter=",", dtype=np.float64, ndmin=2)
    Z = StandardScaler().fit_transform(X)
    for k in range(int(sys.argv[3]), int(sys.argv[4]) + 1):
        km = KMeans(n_clusters=k, init="k-means++", n_init=10,
                    random_state=0).fit(Z)
        print("%d %r %d" % (k, float(km.inertia_), km.n_iter_))
    print("sklearn %s numpy %s n %d d %d" % (sklearn.__version__,
          np.__version__, X.shape[0], X.shape[1]))
elif mode == "ari":
    # true label, predicted label
    L = np.loadtxt(path, delimiter=",", dtype=np.int64, ndmin=2)
    print(repr(float(adjusted_rand_score(L[:, 0], L[:, 1]))))
else:
    sys.exit("unknown mode " + mode)
PY
close $pyfh;

# Runs the script; returns its stdout lines (dies on failure).
sub python
{
	my @args = @_;
	my ($stdout, $stderr);
	my $ok = IPC::Run::run([ $PYTHON, $py, @args ], '>', \$stdout, '2>', \$stderr);
	die "python @args failed:\n$stderr" unless $ok;
	return split /\n/, $stdout;
}

# ---------------------------------------------------------------------------
# Server
# ---------------------------------------------------------------------------

my $node = PostgreSQL::Test::Cluster->new('kmeans');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION cxsell');

sub quote_literal { (my $s = $_[0]) =~ s/'/''/g; return "'$s'"; }

# ---------------------------------------------------------------------------
# Telco Customer Churn
# ---------------------------------------------------------------------------

# The file has no quoting (SOURCE.md); parse it here and hand it to COPY as
# tab-separated text, all columns as text.
my @telco_cols;
{
	open(my $fh, '<', $telco_csv) or die "cannot open $telco_csv: $!";
	my $header = <$fh>;
	$header =~ s/\r?\n\z//;
	@telco_cols = map { lc } split /,/, $header, -1;
	die "unexpected header in $telco_csv" unless @telco_cols == 21 && $telco_cols[0] eq 'customerid';
	my $tsv = File::Spec->catfile($tmp, 'telco.tsv');
	open(my $out, '>', $tsv) or die "cannot write $tsv: $!";
	while (my $line = <$fh>)
	{
		$line =~ s/\r?\n\z//;
		my @f = split /,/, $line, -1;
		die "$telco_csv line $.: " . scalar(@f) . " fields" unless @f == 21;
		die "$telco_csv line $.: unexpected character" if $line =~ /[\t\\"]/;
		print $out join("\t", @f), "\n";
	}
	close $out;
	close $fh;
	$node->safe_psql('postgres',
		'CREATE TABLE telco_raw (' . join(', ', map { "$_ text" } @telco_cols) . ");\n"
		  . 'COPY telco_raw FROM ' . quote_literal($tsv) . ';');
}

is( $node->safe_psql('postgres',
		"SELECT count(*), count(DISTINCT customerid), "
		  . "count(*) FILTER (WHERE btrim(totalcharges) = ''), "
		  . "count(*) FILTER (WHERE btrim(totalcharges) = '' AND tenure = '0') FROM telco_raw"),
	'7043|7043|11|11',
	'telco: 7,043 customers; TotalCharges blank in 11 rows, all with tenure 0');

# Features, one row per customer.  A blank TotalCharges is taken as 0: those
# 11 customers have tenure 0, so nothing has been billed yet (dropping them
# instead would change little).  Yes/No columns are 1/0; "No internet
# service" and "No phone service" count as 0; InternetService is 1 unless
# "No"; SeniorCitizen is already 0/1.
my @yes_no = qw(partner dependents phoneservice multiplelines onlinesecurity
  onlinebackup deviceprotection techsupport streamingtv streamingmovies
  paperlessbilling);
$node->safe_psql('postgres',
	"CREATE TABLE telco AS SELECT row_number() OVER (ORDER BY customerid) AS id, ARRAY[\n"
	  . "  tenure::float8, monthlycharges::float8,\n"
	  . "  CASE WHEN btrim(totalcharges) = '' THEN 0 ELSE totalcharges::float8 END,\n"
	  . "  seniorcitizen::float8, (internetservice <> 'No')::int::float8,\n  "
	  . join(",\n  ", map { "($_ = 'Yes')::int::float8" } @yes_no)
	  . "] AS f, NULL::int AS label FROM telco_raw;\n"
	  . "ANALYZE telco;");

# ---------------------------------------------------------------------------
# Seeded Gaussian mixture
# ---------------------------------------------------------------------------

# Perl's rand() is its own drand48 since 5.20: the same numbers everywhere.
srand(20240917);
sub gauss
{
	my $u1 = 1.0 - rand();    # (0, 1]
	my $u2 = rand();
	return sqrt(-2.0 * log($u1)) * cos(6.283185307179586 * $u2);
}

# 5 clusters in 6 dimensions: centre, spread (sd per dimension) and size.
my @mix = (
	{ c => [ 0,  0,  0,  0,  0,  0 ], sd => 1.0, n => 1000 },
	{ c => [ 8,  8,  0,  0,  0,  0 ], sd => 0.5, n => 700 },
	{ c => [ 0,  8,  8,  -8, 0,  0 ], sd => 1.5, n => 600 },
	{ c => [ -8, 0,  0,  8,  8,  0 ], sd => 2.0, n => 450 },
	{ c => [ 8,  -8, 0,  0,  -8, 8 ], sd => 0.8, n => 250 },);
my $mix_k = scalar(@mix);
# each feature then gets its own unit and offset, so that standardising matters
my @unit   = (1, 1, 10, 0.1, 100, 1);
my @offset = (0, 50, -20, 3, 1000, 0);
{
	my $tsv = File::Spec->catfile($tmp, 'mixture.tsv');
	open(my $out, '>', $tsv) or die "cannot write $tsv: $!";
	my $id = 0;
	for my $c (0 .. $#mix)
	{
		for (1 .. $mix[$c]{n})
		{
			my @x = map {
				sprintf('%.17g', $offset[$_] + $unit[$_] * ($mix[$c]{c}[$_] + $mix[$c]{sd} * gauss()))
			} 0 .. 5;
			printf $out "%d\t{%s}\t%d\n", ++$id, join(',', @x), $c + 1;
		}
	}
	close $out;
	$node->safe_psql('postgres',
		"CREATE TABLE mixture (id bigint, f float8[], label int);\n"
		  . 'COPY mixture FROM ' . quote_literal($tsv) . ";\n"
		  . "ANALYZE mixture;");
}
is($node->safe_psql('postgres', 'SELECT count(*), count(DISTINCT label) FROM mixture'),
	"3000|$mix_k", "mixture: 3,000 points from $mix_k clusters");

# ---------------------------------------------------------------------------
# Inertia, k = 2..8, cxsell vs scikit-learn
# ---------------------------------------------------------------------------

my %ratios;
for my $ds (qw(telco mixture))
{
	my $csv = File::Spec->catfile($tmp, "$ds.csv");
	$node->safe_psql('postgres',
		"COPY (SELECT array_to_string(f, ',') FROM $ds ORDER BY id) TO " . quote_literal($csv));

	my $t_sk = time();
	my @lines = python('inertia', $csv, $K[0], $K[-1]);
	my $info = pop @lines;
	my %sk;
	for (@lines)
	{
		my ($k, $inertia, $iter) = split ' ';
		$sk{$k} = [ $inertia, $iter ];
	}
	note("$ds: $info; scikit-learn took " . (time() - $t_sk) . " s for k = $K[0]..$K[-1]");

	my $t_cx = time();
	my %cx;
	for my $k (@K)
	{
		my $row = $node->safe_psql('postgres',
			"SELECT k, points, inertia, iterations, converged, standardized, restarts "
			  . "FROM cxsell.summary((SELECT cxsell.kmeans(f, $k, '{\"standardize\": true}') FROM $ds))");
		my ($kk, $points, $inertia, $iter, $conv, $std, $restarts) = split /\|/, $row;
		die "$ds k=$k: unexpected summary $row" unless $kk == $k && $std eq 't' && $restarts == 10;
		$cx{$k} = [ $inertia, $iter, $conv, $points ];
	}
	note("$ds: cxsell took " . (time() - $t_cx) . " s for k = $K[0]..$K[-1]");

	note(sprintf("%-8s %2s %18s %5s %18s %5s %9s", 'dataset', 'k', 'cxsell inertia',
			'iter', 'sklearn inertia', 'iter', 'cx/sk'));
	for my $k (@K)
	{
		my ($cxi, $cxit, $conv) = @{ $cx{$k} };
		my ($ski, $skit) = @{ $sk{$k} // [ 'NaN', '-' ] };
		my $ratio = $cxi / $ski;
		$ratios{$ds}{$k} = $ratio;
		note(sprintf("%-8s %2d %18.6f %5s %18.6f %5s %9.5f%s", $ds, $k, $cxi, $cxit,
				$ski, $skit, $ratio, $conv eq 't' ? '' : ' (cxsell not converged)'));
		cmp_ok($cxi, '<=', $ski * $TOLERANCE,
			sprintf('%s k=%d: cxsell inertia %.4f <= 1.01 x sklearn %.4f (ratio %.5f)',
				$ds, $k, $cxi, $ski, $ratio));
	}
}

# ---------------------------------------------------------------------------
# Recovery of the mixture's clusters
# ---------------------------------------------------------------------------

{
	$node->safe_psql('postgres',
		"CREATE TABLE mix_model AS SELECT cxsell.kmeans(f, $mix_k, '{\"standardize\": true}') AS m FROM mixture");
	my $csv = File::Spec->catfile($tmp, 'mixture_labels.csv');
	$node->safe_psql('postgres',
		"COPY (SELECT label, cxsell.cluster((SELECT m FROM mix_model), f) FROM mixture ORDER BY id) "
		  . "TO " . quote_literal($csv) . " (FORMAT csv)");
	my ($ari) = python('ari', $csv);
	note("mixture k=$mix_k: adjusted Rand index of cxsell.cluster() labels vs the generating labels: $ari");
	cmp_ok($ari, '>', 0.95, "mixture k=$mix_k: cxsell recovers the clusters (ARI $ari > 0.95)");

	# cluster sizes against the generating sizes
	my $sizes = $node->safe_psql('postgres',
		"SELECT string_agg(size::text, ',' ORDER BY size DESC) FROM cxsell.centroids((SELECT m FROM mix_model))");
	note("mixture: cxsell cluster sizes $sizes; generated "
		  . join(',', sort { $b <=> $a } map { $_->{n} } @mix));
	my ($n_labels) = $node->safe_psql('postgres',
		"SELECT count(DISTINCT cxsell.cluster((SELECT m FROM mix_model), f)) FROM mixture");
	is($n_labels, $mix_k, "mixture: cxsell.cluster() uses all $mix_k clusters");
}

$node->stop;
note(sprintf('003_kmeans_quality.pl ran in %d s', time() - $t0));

done_testing();
