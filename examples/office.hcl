# A small office: staff and servers on VLANs of one trunk, a VoIP phone
# VLAN, two uplinks with policy routing (the phones use the second one).

schema_version = "1.1"
ip_forwarding  = true
mss_clamping   = true

interface "eth0" {
  description = "Primary uplink (fiber)"
  zone        = "wan"
  ipv4        = ["203.0.113.10/29"]
  gateway     = "203.0.113.9"
}

interface "eth1" {
  description = "Backup uplink (cable)"
  zone        = "wan"
  ipv4        = ["198.51.100.20/24"]
}

interface "eth2" {
  description = "Trunk to the office switch"

  vlan "10" {
    description = "Staff"
    zone        = "staff"
    ipv4        = ["10.10.10.1/24"]
  }
  vlan "20" {
    description = "Servers"
    zone        = "servers"
    ipv4        = ["10.10.20.1/24"]
  }
  vlan "30" {
    description = "Phones"
    zone        = "voice"
    ipv4        = ["10.10.30.1/24"]
  }
}

zone "wan" {}

zone "staff" {
  services {
    dhcp = true
    dns  = true
  }
  management {
    ssh  = true
    web  = true
    icmp = true
  }
}

zone "servers" {}

zone "voice" {
  services {
    dhcp = true
    port "tftp" {
      protocol = "udp"
      port     = 69
    }
  }
}

ipset "admins" {
  type    = "ipv4_addr"
  entries = ["10.10.10.5", "10.10.10.6"]
}

policy "staff" "wan" {
  masquerade = true
  rule "allow" {
    action = "accept"
  }
}

policy "staff" "servers" {
  rule "web_and_files" {
    proto      = "tcp"
    dest_ports = [80, 443, 445]
    action     = "accept"
  }
  rule "ssh_for_admins" {
    proto     = "tcp"
    dest_port = 22
    src_ipset = "admins"
    action    = "accept"
  }
}

policy "voice" "wan" {
  masquerade = true
  rule "sip" {
    proto     = "udp"
    dest_port = "5060-5061"
    action    = "accept"
  }
  rule "rtp" {
    proto     = "udp"
    dest_port = "10000-20000"
    action    = "accept"
  }
}

nat "backup_uplink" {
  type          = "masquerade"
  out_interface = "eth1"
}

routing_table "voice_uplink" {
  id = 100
  route "default" {
    destination = "0.0.0.0/0"
    gateway     = "198.51.100.1"
    interface   = "eth1"
  }
}

policy_route "phones_via_backup" {
  priority = 100
  from     = "10.10.30.0/24"
  table    = 100
  comment  = "keep calls off the busy fiber"
}

route "partner" {
  destination = "192.0.2.0/24"
  gateway     = "203.0.113.14"
  metric      = 50
}
