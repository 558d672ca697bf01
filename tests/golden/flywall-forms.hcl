# Flywall's forms moat normalizes: ports as numbers, strings and ranges,
# the one-label policy, bools and numbers written as strings, escapes.
ip_forwarding = "true"

interface "eth0" {
  zone = "wan"
  mtu  = "1500"
}

interface "eth1" {
  zone = "lan"
  ipv4 = ["10.0.0.1/24"]
  vlan "20" {
    zone = "iot"
    ipv4 = ["10.0.20.1/24"]
  }
}

zone "lan" {
  match { interface = "eth1" }
  management {
    ssh = true
  }
}

policy "outbound" {
  from = "lan"
  to   = "wan"
  masquerade = true
  rule "web" {
    proto      = "TCP"
    dest_port  = "80,443"
    src_ports  = ["1024-65535"]
    conn_state = "new"
    action     = "ACCEPT"
    comment    = "quote \" backslash \\ dollar $${x} percent %%{y}"
  }
}

nat "forward_range" {
  type         = "dnat"
  in_interface = "eth0"
  dest_port    = "8000-8010"
  to_ip        = "10.0.0.5"
  to_port      = 9000
}

ipset "ports" {
  type    = "inet_service"
  entries = [22, "80"]
}
