# A home gateway: an uplink, a trusted LAN, smart-home devices kept apart,
# a guest network that only reaches the internet, and a DMZ web server
# reachable from outside through a port forward.
#
#   internet -- eth0 [gw] eth1 -- lan   10.0.0.0/24
#                         eth2 -- iot   10.0.20.0/24
#                         eth3 -- guest 10.0.30.0/24
#                         eth4 -- dmz   10.0.50.0/24 (web server .10)

schema_version = "1.1"
ip_forwarding  = true
mss_clamping   = true
state_dir      = "/var/lib/moat"

interface "eth0" {
  description = "WAN uplink"
  zone        = "wan"
  ipv4        = ["198.51.100.2/24"]
  gateway     = "198.51.100.1"
}

interface "eth1" {
  description = "LAN"
  zone        = "lan"
  ipv4        = ["10.0.0.1/24"]
}

interface "eth2" {
  description = "IoT devices"
  zone        = "iot"
  ipv4        = ["10.0.20.1/24"]
}

interface "eth3" {
  description = "Guests"
  zone        = "guest"
  ipv4        = ["10.0.30.1/24"]
}

interface "eth4" {
  description = "DMZ"
  zone        = "dmz"
  ipv4        = ["10.0.50.1/24"]
}

zone "wan" {
  description = "The internet"
}

zone "lan" {
  description = "Trusted devices"
  services {
    dhcp = true
    dns  = true
  }
  management {
    web = true
    ssh = true
    api = true
  }
}

zone "iot" {
  description = "Smart devices: internet only, never the LAN"
  services {
    dhcp = true
    dns  = true
  }
}

zone "guest" {
  services {
    dhcp = true
    dns  = true
  }
}

zone "dmz" {
  description = "Servers reachable from the internet"
}

ipset "blocked" {
  description = "Addresses nobody may reach"
  type        = "ipv4_addr"
  entries     = ["203.0.113.0/24", "192.0.2.66"]
}

policy "lan" "wan" {
  masquerade = true
  rule "not_blocked" {
    dest_ipset = "blocked"
    action     = "drop"
  }
  rule "allow_all" {
    action = "accept"
  }
}

policy "iot" "wan" {
  masquerade = true
  rule "web_only" {
    proto      = "tcp"
    dest_ports = [80, 443]
    action     = "accept"
  }
  rule "ntp" {
    proto     = "udp"
    dest_port = 123
    action    = "accept"
  }
}

policy "guest" "wan" {
  masquerade = true
  rule "allow_all" {
    action = "accept"
  }
}

policy "lan" "iot" {
  rule "manage_devices" {
    action = "accept"
  }
}

policy "iot" "lan" {
  action = "drop"
  rule "log_attempts" {
    action     = "drop"
    log        = true
    log_prefix = "iot->lan "
    limit      = "10/minute"
  }
}

policy "lan" "dmz" {
  rule "admin" {
    proto     = "tcp"
    dest_port = 22
    action    = "accept"
  }
}

policy "wan" "dmz" {
  # The forward is filtered after nat "web_forward" rewrote it: to the
  # server's address and port, 10.0.50.10:8080.
  rule "web" {
    proto     = "tcp"
    dest_port = 8080
    dest_ip   = "10.0.50.10"
    action    = "accept"
  }
}

nat "web_forward" {
  description  = "HTTP to the public address goes to the DMZ web server"
  type         = "dnat"
  in_interface = "eth0"
  dest_ip      = "198.51.100.2"
  proto        = "tcp"
  dest_port    = "80"
  to_ip        = "10.0.50.10"
  to_port      = "8080"
  hairpin      = true
}
