#!/usr/bin/perl
# images/efivars.pl IN OUT PARTNUM START SIZE PARTGUID PATH DESC
#
# Write an OVMF variable store (OUT) from an empty one (IN, e.g.
# /usr/share/OVMF/OVMF_VARS.fd) holding one boot entry, Boot0001,
# HD(PARTNUM,GPT,PARTGUID,START,SIZE)/PATH, and BootOrder = 0001: what
# `efibootmgr -c -d /dev/sda -p PARTNUM -L DESC -l PATH` leaves in a
# VMware VM's NVRAM after a Debian UEFI install.  No tool in Debian 12
# writes one offline, so the (small, documented) format is written here:
# edk2 MdeModulePkg/Include/Guid/VariableFormat.h, authenticated variable
# headers, each 4-byte aligned, data right after the name; UEFI spec 2.x, 3.1.3 (EFI_LOAD_OPTION) and
# 10.3.5.1 (hard drive media device path).
use strict;
use warnings;

die "usage: $0 IN OUT PARTNUM START SIZE PARTGUID PATH DESC\n" unless @ARGV == 8;
my ($in, $out, $partnum, $start, $size, $guid, $path, $desc) = @ARGV;

open my $fh, '<:raw', $in or die "$in: $!\n";
local $/;
my $fd = <$fh>;
close $fh;

# GUIDs are stored with their first three fields little-endian.
sub guid_bytes {
  my ($g) = @_;
  $g =~ /^([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$/i
    or die "$g: not a GUID\n";
  return pack ('VvvH4H12', hex $1, hex $2, hex $3, $4, $5);
}
sub utf16z { return join ('', map { pack 'v', ord } split //, $_[0]) . "\0\0"; }

my $auth_var_guid = guid_bytes ('aaf32c78-947b-439a-a180-2e144ec37792');
my $global_guid = guid_bytes ('8be4df61-93ca-11d2-aa0d-00e098032b8c');

# The variable store follows the firmware volume header.
my $fv_hdr_len = unpack ('v', substr ($fd, 0x30, 2));
substr ($fd, 0x28, 4) eq '_FVH' or die "$in: not a firmware volume\n";
substr ($fd, $fv_hdr_len, 16) eq $auth_var_guid
  or die "$in: not an authenticated variable store\n";
my $store_size = unpack ('V', substr ($fd, $fv_hdr_len + 16, 4));
my $pos = $fv_hdr_len + 28;
substr ($fd, $pos, 2) eq "\xff\xff" or die "$in: the variable store is not empty\n";

sub add_var {
  my ($name, $data) = @_;
  my $n = utf16z ($name);
  my $hdr = pack ('vCCVQ<', 0x55aa, 0x3f, 0, 0x7, 0)    # VAR_ADDED, NV|BS|RT
    . ("\0" x 16)                                        # EFI_TIME
    . pack ('VVV', 0, length $n, length $data) . $global_guid;
  my $v = $hdr . $n . $data;    # ALIGNMENT is 1 on x86: no padding
  $v .= "\xff" x ((4 - length ($v) % 4) % 4);
  $pos + length ($v) <= $fv_hdr_len + $store_size or die "$in: store full\n";
  substr ($fd, $pos, length $v) = $v;
  $pos += length $v;
}

my $hd = pack ('CCv', 4, 1, 42) . pack ('VQ<Q<', $partnum, $start, $size)
  . guid_bytes ($guid) . pack ('CC', 2, 2);              # GPT, GUID signature
my $p = utf16z ($path);
my $file = pack ('CCv', 4, 4, 4 + length $p) . $p;
my $end = pack ('CCv', 0x7f, 0xff, 4);
my $dp = $hd . $file . $end;
add_var ('Boot0001', pack ('Vv', 1, length $dp) . utf16z ($desc) . $dp);
add_var ('BootOrder', pack ('v', 1));

open $fh, '>:raw', "$out.tmp" or die "$out.tmp: $!\n";
print $fh $fd or die "$out.tmp: $!\n";
close $fh or die "$out.tmp: $!\n";
rename "$out.tmp", $out or die "$out: $!\n";
