#!/usr/bin/perl
# tests/lib/mkmmdb.pl: write a small MaxMind-format database for tests
# with Debian's libmaxmind-db-writer-perl.
#
#	perl mkmmdb.pl asn OUT.mmdb <lines "NETWORK<TAB>ASN<TAB>ORGANISATION">
#	perl mkmmdb.pl country OUT.mmdb <lines "NETWORK<TAB>ISO-CODE">
#
# The records have the shape of GeoLite2-ASN (autonomous_system_number,
# autonomous_system_organization) and GeoLite2-Country (country.iso_code,
# registered_country.iso_code); NETWORK is IPv4 or IPv6 in CIDR form.
# Reserved networks (the documentation ranges the tests use) are kept.
use strict;
use warnings;
use MaxMind::DB::Writer::Tree;

binmode STDIN, ":encoding(UTF-8)";

my ($kind, $out) = @ARGV;
die "usage: mkmmdb.pl asn|country OUT.mmdb <spec\n"
    unless defined $out && ($kind eq 'asn' || $kind eq 'country');
my %types = (
	autonomous_system_number => 'uint32',
	autonomous_system_organization => 'utf8_string',
	country => 'map',
	registered_country => 'map',
	iso_code => 'utf8_string',
);
my $tree = MaxMind::DB::Writer::Tree->new(
	ip_version => 6,
	record_size => 24,
	database_type => $kind eq 'asn' ? 'GeoLite2-ASN' : 'GeoLite2-Country',
	languages => ['en'],
	description => { en => "dmarc-agent test $kind database" },
	map_key_type_callback => sub { $types{ $_[0] } },
	alias_ipv6_to_ipv4 => 1,
	remove_reserved_networks => 0,
);
while (my $line = <STDIN>) {
	chomp $line;
	next if $line =~ /^\s*(#|$)/;
	my @f = split /\t/, $line;
	if ($kind eq 'asn') {
		$tree->insert_network($f[0], {
		    autonomous_system_number => $f[1] + 0,
		    autonomous_system_organization => $f[2] });
	} else {
		$tree->insert_network($f[0], {
		    country => { iso_code => $f[1] },
		    registered_country => { iso_code => $f[1] } });
	}
}
open my $fh, '>:raw', $out or die "$out: $!\n";
$tree->write_tree($fh);
close $fh or die "$out: $!\n";
