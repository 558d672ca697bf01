# Zones and dispatch: zone blocks, `zone =` on interfaces and VLANs,
# wildcards, address-narrowed members, self policies, several policies on
# one pair.
interface "eth0" {
  zone = "wan"
}
interface "eth1" {
  ipv4 = ["192.168.1.1/24"]
  vlan "20" {
    zone = "iot"
  }
}
interface "eth3" {}
interface "eth4" {}

zone "lan" {
  interfaces = ["eth1", "eth4"]
  management {
    ssh  = true
    web  = true
    icmp = true
  }
  services {
    dhcp = true
    dns  = true
    ntp  = true
    port "syslog" {
      protocol = "udp"
      port     = 514
    }
    port "iperf" {
      protocol = "tcp"
      port     = 5201
      port_end = 5210
    }
  }
}
zone "vpn_office" {
  interface = "wg+"
}
# wg0 is also matched by vpn_office's wg+: the exact name wins
zone "admin" {
  interface = "wg0"
}
zone "vpn_home" {
  interface = "eth3"
}
zone "guest" {
  match {
    interface = "eth1"
    src       = "192.168.1.128/25"
  }
}

policy "lan" "wan" {
  action = "accept"
}
policy "vpn*" "lan" {
  action = "accept"
}
policy "any" "wan" {
  priority = 10
  rule "no_smtp" {
    proto     = "tcp"
    dest_port = 25
    action    = "reject"
  }
}
policy "admin" "lan" {
  action = "accept"
}
policy "guest" "wan" {
  action = "accept"
}
policy "lan" "self" {
  rule "snmp" {
    proto     = "udp"
    dest_port = 161
    action    = "accept"
  }
}
policy "self" "wan" {
  action = "accept"
}
policy "eth3" "lan" {
  disabled = true
  action   = "accept"
}
