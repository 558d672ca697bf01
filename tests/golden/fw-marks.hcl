# Mark rules: the marks policy routing steers by. Every match (protocols,
# ports, addresses, interfaces, zones, sets, states), masks, saving and
# restoring the connection's mark, and the rules output leaves out.
interface "eth0" {
  zone = "wan"
}
interface "eth1" {
  zone = "lan"
  ipv4 = ["192.168.1.1/24"]
}
interface "wg0" {}
interface "eth2" {
  zone = "dmz"
}
zone "vpn_office" {
  interface = "wg+"
}
# wg0 is also matched by vpn_office's wg+: the exact name wins
zone "admin" {
  interface = "wg0"
}
# part of eth1 is the guests': they are not the lan
zone "guest" {
  match {
    interface = "eth1"
    src       = "192.168.1.128/25"
  }
}
ipset "voip_providers" {
  entries = ["198.51.100.0/24"]
}
ipset "voip6" {
  type    = "ipv6_addr"
  entries = ["2001:db8:50::/48"]
}
ipset "phones" {
  type    = "ether_addr"
  entries = ["00:11:22:33:44:55"]
}

routing_table "voip" {
  id = 200
  route "default-voip" {
    destination = "0.0.0.0/0"
    gateway     = "203.0.113.5"
  }
}
policy_route "voip" {
  mark  = "0x40"
  table = 200
}

mark_rule "sip" {
  proto    = "udp"
  dst_port = 5060
  mark     = "0x40"
  comment  = "SIP signalling"
}
# no protocol: tcp and udp
mark_rule "rtp" {
  dst_ports = ["10000-20000", 5004]
  mark      = "0x40"
}
mark_rule "icmp_v6_net" {
  proto  = "icmpv6"
  src_ip = "2001:db8:1::1/48"
  mark   = "64"
}
# a byte of the mark, the rest kept; saved to the connection
mark_rule "bulk" {
  proto      = "tcp"
  src_port   = "1024-65535"
  dst_ip     = "192.0.2.0/24"
  mark       = "0x200"
  mask       = "0xff00"
  save_mark  = true
  conn_state = ["new"]
}
# restored for every later packet of a connection whose mark was saved
mark_rule "uplink2" {
  in_interface = "eth0"
  conn_state   = ["new", "established"]
  mark         = "0x2"
  mask         = "0xff"
  save_mark    = true
  restore_mark = true
}
mark_rule "wg_any" {
  in_interface = "wg+"
  mark         = "0x10"
}
mark_rule "from_dmz" {
  src_zone = "dmz"
  mark     = "0x3"
}
# the lan without its guests
mark_rule "from_lan" {
  src_zone = "lan"
  proto    = "tcp"
  mark     = "0x4"
}
mark_rule "from_guest" {
  src_zone = "guest"
  mark     = "0x5"
}
# wg+ without admin's wg0
mark_rule "from_vpn" {
  src_zone = "vpn_office"
  mark     = "0x6"
}
# both: the zone's members on that interface
mark_rule "lan_web" {
  src_zone     = "lan"
  in_interface = "eth1"
  proto        = "tcp"
  dst_ports    = [80, 443]
  mark         = "0x8"
}
mark_rule "voip_dest" {
  ipset = "voip_providers"
  mark  = "0x40"
}
mark_rule "voip_dest6" {
  ipset = "voip6"
  mark  = "0x40"
}
mark_rule "phones" {
  ipset = "phones"
  mark  = "0x40"
}
mark_rule "own_dns" {
  src_zone = "self"
  proto    = "udp"
  dst_port = 53
  mark     = "0x7"
}
mark_rule "off" {
  enabled = false
  mark    = "0x99"
}

policy "lan" "wan" {
  action = "accept"
}
