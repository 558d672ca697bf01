# A road-warrior VPN server: laptops and phones reach the LAN and the
# internet through WireGuard. Add more peers with `moat wg peer add`.

schema_version = "1.1"
ip_forwarding  = true

interface "eth0" {
  description = "Uplink"
  zone        = "wan"
  ipv4        = ["198.51.100.2/24"]
  gateway     = "198.51.100.1"
}

interface "eth1" {
  description = "LAN"
  zone        = "lan"
  ipv4        = ["192.168.1.1/24"]
}

zone "wan" {
  services {
    port "wireguard" {
      protocol = "udp"
      port     = 51820
    }
  }
}

zone "lan" {
  management {
    ssh = true
  }
}

vpn {
  wireguard "wg0" {
    enabled          = true
    interface        = "wg0"
    zone             = "vpn"
    private_key_file = "/var/lib/moat/wg0.key"
    listen_port      = 51820
    address          = ["10.8.0.1/24"]
    dns              = ["10.8.0.1"]
    mtu              = 1420

    peer "alice-laptop" {
      public_key           = "X/puW7K9PTID5DHSPvYDa901/BkFzlGF3EN2/Rfv4KY="
      allowed_ips          = ["10.8.0.2/32"]
      persistent_keepalive = 25
    }

    peer "bob-phone" {
      public_key  = "+IBeVJXA+3IJx9BledaxDd+thE6pwaSUoTlyjpkxve8="
      allowed_ips = ["10.8.0.3/32"]
    }
  }
}

policy "vpn" "lan" {
  rule "allow" {
    action = "accept"
  }
}

policy "vpn" "wan" {
  masquerade = true
  rule "allow" {
    action = "accept"
  }
}
