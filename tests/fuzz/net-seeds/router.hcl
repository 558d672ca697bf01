interface "eth0" {
  ipv4 = ["198.51.100.2/24"]
  ipv6 = ["2001:db8::2/64"]
  gateway = "198.51.100.1"
  gateway_v6 = "2001:db8::1"
  mtu = 1400
}
interface "eth1" {
  ipv4 = ["10.0.0.1/24"]
  table = 100
  vlan "20" {
    ipv4 = ["10.0.20.1/24"]
  }
}
interface "eth2.30" {
  ipv4 = ["10.0.30.1/24"]
  disabled = true
}
routing_table "t100" {
  id = 100
  route "def" {
    destination = "default"
    gateway = "198.51.100.1"
  }
}
route "office" {
  destination = "10.9.0.0/16"
  gateway = "10.0.0.254"
  metric = 10
}
route "v6" {
  destination = "2001:db8:5::/48"
  interface = "eth1"
}
policy_route "voip" {
  mark = "0x40"
  mark_mask = "0xff"
  table = 100
  priority = 100
}
policy_route "tv" {
  from = "10.0.0.50/32"
  iif = "eth1"
  table = 100
}
policy_route "bh" {
  to = "2001:db8:66::/48"
  blackhole = true
}
