# Every rule feature: protocols, ports, addresses, sets, states, inversion,
# verdicts, logging, limits, counters, comments.
interface "eth0" {
  zone = "wan"
}
interface "eth1" {
  zone = "lan"
}
ipset "bad4" {
  entries = ["192.0.2.1"]
}
ipset "bad6" {
  type    = "ipv6_addr"
  entries = ["2001:db8::1"]
}
ipset "macs" {
  type    = "ether_addr"
  entries = ["AA:BB:CC:DD:EE:FF"]
}

policy "lan" "wan" {
  name       = "outbound"
  action     = "accept"
  log        = true
  log_prefix = "lan-out"
  rule "web" {
    proto      = "tcp"
    dest_ports = [80, 443, "8000-8100"]
    comment    = "the \"web\"\\stuff"
    action     = "accept"
  }
  rule "dns_both" {
    dest_port = 53
    action    = "accept"
  }
  rule "tcp_udp" {
    proto     = "tcp_udp"
    src_port  = "1024-65535"
    dest_port = 5060
    action    = "accept"
  }
  rule "icmp" {
    proto  = "icmp"
    limit  = "10/second burst 20"
    action = "accept"
  }
  rule "icmp6" {
    proto   = "icmpv6"
    dest_ip = "2001:db8::/32"
    action  = "accept"
  }
  rule "gre" {
    proto  = "gre"
    action = "accept"
  }
  rule "ospf" {
    proto  = "89"
    action = "drop"
  }
  rule "hostbits" {
    src_ip  = "10.1.2.3/8"
    dest_ip = "198.51.100.7"
    action  = "drop"
    counter = true
  }
  rule "not_lan" {
    src_ip     = "192.168.0.0/16"
    invert_src = true
    action     = "drop"
    log        = true
  }
  rule "sets" {
    dest_ipset  = "bad4"
    invert_dest = false
    action      = "reject"
  }
  rule "sets6" {
    src_ipset = "bad6"
    action    = "reject"
    proto     = "udp"
  }
  rule "mac" {
    src_ipset = "macs"
    action    = "drop"
  }
  rule "reject_dns" {
    dest_port = 53
    action    = "reject"
  }
  rule "reject_sip" {
    proto     = "tcp_udp"
    dest_port = 5060
    action    = "reject"
  }
  rule "states" {
    conn_state = "NEW, untracked"
    proto      = "tcp"
    dest_port  = 22
    action     = "reject"
  }
  rule "to_audit" {
    action      = "jump"
    jump_target = "audit"
  }
  rule "off" {
    disabled = true
    action   = "drop"
  }
}
policy "wan" "lan" {
  action = "reject"
}
policy "lan" "lan" {
  name = "audit"
  rule "log_it" {
    log        = true
    log_prefix = "audit: "
    action     = "return"
  }
}
