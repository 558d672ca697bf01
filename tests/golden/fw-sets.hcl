# Sets of every type: hash and interval, CIDRs with host bits, duplicates,
# timeouts, sizes.
interface "eth0" {
  zone = "wan"
}
interface "eth1" {
  zone = "lan"
}
ipset "hosts" {
  entries = ["192.0.2.2", "192.0.2.1", "192.0.2.2"]
}
ipset "nets" {
  description = "CIDRs make it an interval set"
  entries     = ["10.0.0.0/8", "172.16.5.4/12", "192.0.2.0/25", "192.0.2.128/25"]
}
ipset "nets6" {
  type     = "ipv6_addr"
  interval = true
  entries  = ["2001:db8::/48", "2001:db8:1::1"]
}
ipset "ports" {
  type    = "inet_service"
  entries = ["22", "443"]
}
ipset "banned" {
  timeout = "1h"
  size    = 65536
}
ipset "banned_long" {
  timeout = 86400
}
ipset "macs" {
  type    = "ether_addr"
  entries = ["00:11:22:33:44:55"]
}

policy "wan" "lan" {
  rule "drop_banned" {
    src_ipset = "banned"
    action    = "drop"
  }
  rule "drop_nets" {
    src_ipset = "nets"
    action    = "drop"
  }
  rule "drop_nets6" {
    src_ipset = "nets6"
    action    = "drop"
  }
}
