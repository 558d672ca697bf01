# The demo gateway: eth0 faces the internet, eth1 the home network.
state_dir     = "@STATE@"
ip_forwarding = true
mss_clamping  = true

interface "eth0" {
  zone = "wan"
  ipv4 = ["203.0.113.1/24"]
}
interface "eth1" {
  zone = "lan"
  ipv4 = ["192.168.77.1/24"]
}

zone "lan" {
  management {
    ssh  = true
    icmp = true
  }
}

ipset "blocked" {
  description = "destinations nobody may reach; moat set add/del at runtime"
}

policy "lan" "wan" {
  masquerade = true
  action     = "accept"
  rule "not_blocked" {
    dest_ipset = "blocked"
    action     = "reject"
  }
}
