#
# 004_telco_segments.pl -- segmentation, segment profiles and depth of
# relationship versus retention on the IBM telco customers
# (test/data/telco_churn), checked against an independent computation
# in Perl.
#
# Depth of relationship is the number of services a customer holds (phone,
# multiple lines, internet, online security, online backup, device
# protection, tech support, streaming TV, streaming movies); retained means
# Churn = 'No'.  For each depth the test checks customers, retained, the
# retention rate and its 95% Wilson interval.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/../perl";
use CxsellTest qw(data_file load_sample_data wilson95);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $csv = data_file('telco_churn', 'Telco-Customer-Churn.csv');

my @services = qw(PhoneService MultipleLines InternetService OnlineSecurity
  OnlineBackup DeviceProtection TechSupport StreamingTV StreamingMovies);

# --- the independent computation -------------------------------------------
open(my $fh, '<', $csv) or die "cannot open $csv: $!";
my $header = <$fh>;
chomp $header;
my @cols = split /,/, $header;
my %col;
@col{@cols} = (0 .. $#cols);
my (%customers, %retained);
my $rows = 0;
while (my $line = <$fh>)
{
	chomp $line;
	my @f = split /,/, $line, -1;
	my $depth = 0;
	for my $s (@services)
	{
		my $v = $f[ $col{$s} ];
		$depth++ if ($s eq 'InternetService' ? $v ne 'No' : $v eq 'Yes');
	}
	$customers{$depth}++;
	$retained{$depth}++ if $f[ $col{Churn} ] eq 'No';
	$rows++;
}
close $fh;
is($rows, 7043, 'the file holds 7,043 customers');

# --- cxsell ------------------------------------------------------------------
my $node = PostgreSQL::Test::Cluster->new('telco');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION cxsell');
# the README's tables: telco_customers, telco_services (tools/sample_data.sql)
load_sample_data($node, 'postgres');

# depth of relationship vs retention, with 95% Wilson intervals
my $out = $node->safe_psql('postgres', q{
	SELECT depth, count(*), count(*) FILTER (WHERE retained), w.rate, w.lower, w.upper
	FROM telco_customers telco, LATERAL (SELECT * FROM cxsell.wilson_interval(
	  (SELECT count(*) FROM telco_customers t2 WHERE t2.depth = telco.depth AND t2.retained),
	  (SELECT count(*) FROM telco_customers t2 WHERE t2.depth = telco.depth))) w
	GROUP BY depth, w.rate, w.lower, w.upper ORDER BY depth});
my $ok = 1;
note('depth | customers | retained | rate | 95% interval');
for my $line (split /\n/, $out)
{
	my ($depth, $n, $s, $rate, $lo, $hi) = split /\|/, $line;
	my ($elo, $ehi) = wilson95($retained{$depth} // 0, $customers{$depth});
	note(sprintf('%5d | %9d | %8d | %.3f | [%.3f, %.3f]', $depth, $n, $s, $rate, $lo, $hi));
	$ok &&= ($n == $customers{$depth} && $s == ($retained{$depth} // 0)
		  && abs($lo - $elo) < 1e-12 && abs($hi - $ehi) < 1e-12);
}
ok($ok, 'customers, retained and Wilson intervals per depth match the independent count');
is(scalar(split /\n/, $out), scalar(keys %customers), 'every depth is reported');

# segmentation by usage: k-means on standardised tenure and charges
$node->safe_psql('postgres', q{
	CREATE TABLE telco_model AS
	SELECT cxsell.kmeans(ARRAY[tenure, monthly, total], 4, '{"standardize": true, "seed": 1}') AS m
	FROM telco_customers;
	CREATE TABLE telco_segments AS
	SELECT customer, cxsell.cluster(m, ARRAY[tenure, monthly, total]) AS segment
	FROM telco_customers, telco_model;
});
is($node->safe_psql('postgres', 'SELECT sum(size) FROM telco_model, cxsell.centroids(m)'),
	'7043', 'every customer is in a segment');
is($node->safe_psql('postgres', q{
	SELECT bool_and(c.size = s.n) FROM telco_model, cxsell.centroids(m) c
	JOIN (SELECT segment, count(*) AS n FROM telco_segments GROUP BY segment) s ON s.segment = c.cluster}),
	't', 'cluster() reproduces the model\'s cluster sizes');

# segment profiles: consistent with a plain count, and some segment over-indexes
my $profiles = q{cxsell.segment_profiles('SELECT customer, segment FROM telco_segments',
                                          'SELECT customer, service FROM telco_services')};
is($node->safe_psql('postgres', qq{
	SELECT count(*) FROM $profiles p
	JOIN (SELECT s.segment::text, h.service, count(*) AS holders
	      FROM telco_segments s JOIN telco_services h USING (customer)
	      GROUP BY 1, 2) c ON c.segment = p.segment AND c.service = p.product
	WHERE c.holders <> p.holders}), '0', 'holders per segment and service match a plain count');
is($node->safe_psql('postgres', qq{
	SELECT count(*) FROM $profiles
	WHERE abs(index - adoption_rate / overall_rate) > 1e-12
	   OR abs(p_value - cxsell.p_value_two_sided(holders, customers,
	            round(overall_rate * 7043)::bigint, 7043)) > 1e-15}),
	'0', 'index and p-value follow from the counts');
my $over = $node->safe_psql('postgres', qq{
	SELECT segment || ' ' || product || ' ' || round(index::numeric, 2)
	FROM $profiles WHERE direction = 'over' ORDER BY index DESC LIMIT 5});
note("segments that over-index most:\n$over");
ok($over ne '', 'some segment over-indexes on some service');

$node->stop;
done_testing();
