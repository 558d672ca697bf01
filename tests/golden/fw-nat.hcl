# NAT: masquerade, snat, dnat with port mapping, redirect, hairpin, and the
# masquerade a policy asks for; mss clamping and forwarding.
ip_forwarding = true
mss_clamping  = true

interface "eth0" {
  zone = "wan"
  ipv4 = ["203.0.113.1/24", "203.0.113.5/24"]
}
interface "eth1" {
  zone = "lan"
  ipv4 = ["192.168.1.1/24"]
}
interface "ppp0" {
  zone = "wan2"
}

nat "out" {
  type          = "masquerade"
  out_interface = "eth0"
}
nat "out_v6_prefix" {
  type          = "masquerade"
  out_interface = "eth0"
  src_ip        = "fd00::/64"
}
nat "fixed" {
  type          = "snat"
  out_interface = "ppp0"
  src_ip        = "192.168.1.0/24"
  snat_ip       = "198.51.100.9"
}
nat "web" {
  type         = "dnat"
  in_interface = "eth0"
  proto        = "tcp"
  dest_port    = 80
  to_ip        = "192.168.1.10"
  to_port      = 8080
  hairpin      = true
}
nat "ssh_from_office" {
  type         = "dnat"
  in_interface = "eth0"
  src_ip       = "198.51.100.0/24"
  dest_ip      = "203.0.113.5"
  proto        = "tcp"
  dest_port    = 2222
  to_ip        = "192.168.1.20"
  to_port      = 22
  hairpin      = true
}
nat "games_same" {
  type         = "dnat"
  in_interface = "eth0"
  proto        = "udp"
  dest_port    = "10000-10010"
  to_ip        = "192.168.1.50"
  to_port      = "10000-10010"
}
nat "games_shifted" {
  type         = "dnat"
  in_interface = "eth0"
  proto        = "udp"
  dest_port    = "20000-20003"
  to_ip        = "192.168.1.50"
  to_port      = "30000-30003"
}
nat "keep_ports" {
  type         = "dnat"
  in_interface = "eth0"
  dest_port    = "6000-6010"
  to_ip        = "192.168.1.60"
}
nat "v6" {
  type         = "dnat"
  in_interface = "eth0"
  proto        = "tcp"
  dest_port    = 443
  to_ip        = "fd00::10"
  to_port      = 8443
}
nat "proxy" {
  type         = "redirect"
  in_interface = "eth1"
  proto        = "tcp"
  dest_port    = 80
  to_port      = 3128
}

policy "lan" "wan" {
  action     = "accept"
  masquerade = true
}
policy "lan" "wan2" {
  action = "accept"
}
policy "wan" "lan" {
  rule "forwards" {
    dest_ip = "192.168.1.0/24"
    action  = "accept"
  }
}
