#!/usr/bin/env python3
"""Writes a large moat config for bench/fw-apply.sh. Deterministic (seeded).

  gen-fw-config.py rules N STATE_DIR    N rules in policies between 10 zones
  gen-fw-config.py addrs N STATE_DIR    an ipset of N IPv4 addresses (hash)
  gen-fw-config.py cidrs N STATE_DIR    an ipset of N IPv4 CIDRs (interval)

The config goes to stdout. STATE_DIR is where moat keeps fw.state, so that
the benchmark never writes to /var/lib/moat."""
import ipaddress
import random
import sys

ZONES = ["wan", "lan", "dmz", "iot", "guest", "voip", "cam", "srv", "mgmt",
         "lab"]
RULES_PER_POLICY = 250


def head(out, state_dir):
    out.append('schema_version = "1.1"\n')
    out.append(f'state_dir      = "{state_dir}"\n\n')
    for i, z in enumerate(ZONES):
        out.append(f'interface "eth{i}" {{\n  zone = "{z}"\n'
                   f'  ipv4 = ["10.{i}.0.1/16"]\n}}\n')
        out.append(f'zone "{z}" {{}}\n')
    out.append("\n")


def ports(rnd):
    """One port, a few, or a range, weighted toward the common ones."""
    common = [22, 25, 53, 80, 123, 443, 465, 587, 993, 3306, 5432, 8080, 8443]
    k = rnd.random()
    if k < 0.5:
        return str(rnd.choice(common) if rnd.random() < 0.5
                   else rnd.randint(1024, 65000))
    if k < 0.8:
        v = sorted(set(rnd.sample(common, rnd.randint(2, 4))))
        return "[" + ", ".join(map(str, v)) + "]"
    lo = rnd.randint(1024, 60000)
    return f'"{lo}-{lo + rnd.randint(1, 500)}"'


def cidr(rnd):
    """A network from 10.0.0.0/8 with a length from /8 to /32."""
    n = rnd.choice([8, 12, 16, 20, 22, 24, 24, 24, 26, 28, 32, 32])
    a = ipaddress.ip_network((0x0A000000 | rnd.getrandbits(24), n),
                             strict=False)
    return str(a.network_address) if n == 32 else str(a)


def rule(rnd, i):
    lines = []
    proto = rnd.choices(["tcp", "udp", "tcp_udp", "icmp", "any"],
                        [60, 25, 5, 5, 5])[0]
    if proto != "any":
        lines.append(f'proto = "{proto}"')
    if proto in ("tcp", "udp", "tcp_udp"):
        lines.append(f"dest_port = {ports(rnd)}")
        if rnd.random() < 0.05:
            lines.append(f"src_port = {rnd.randint(1, 1023)}")
    if rnd.random() < 0.85:
        lines.append(f'src_ip = "{cidr(rnd)}"')
    if rnd.random() < 0.3:
        lines.append(f'dest_ip = "{cidr(rnd)}"')
    if rnd.random() < 0.2:
        lines.append('conn_state = "new"')
    action = rnd.choices(["accept", "drop", "reject"], [80, 15, 5])[0]
    if action == "reject" and proto == "tcp_udp":
        # moat compiled this to a rule nft refused (fixed in 6c44c46);
        # kept so that the numbers in bench/README.md stay comparable
        action = "drop"
    if rnd.random() < 0.05:
        lines.append("log = true")
        lines.append(f'limit = "{rnd.choice([5, 10, 30])}/minute"')
    elif rnd.random() < 0.03:
        lines.append(f'limit = "{rnd.choice([10, 100])}/second burst 20"')
    if rnd.random() < 0.1:
        lines.append("counter = true")
    lines.append(f'action = "{action}"')
    body = "".join(f"    {l}\n" for l in lines)
    return f'  rule "r{i}" {{\n{body}  }}\n'


def gen_rules(n, out):
    rnd = random.Random(1)
    pairs = [(a, b) for a in ZONES for b in ZONES if a != b]
    i = 0
    for a, b in pairs:
        if i >= n:
            break
        out.append(f'policy "{a}" "{b}" {{\n')
        if b == "wan":
            out.append("  masquerade = true\n")
        for _ in range(min(RULES_PER_POLICY, n - i)):
            out.append(rule(rnd, i))
            i += 1
        out.append("}\n")
    if i < n:
        sys.exit(f"at most {len(pairs) * RULES_PER_POLICY} rules")


def ipset(out, name, entries, interval):
    out.append(f'ipset "{name}" {{\n  type = "ipv4_addr"\n')
    if interval:
        out.append("  interval = true\n")
    out.append("  entries = [\n")
    out.append(",\n".join(f'    "{e}"' for e in entries))
    out.append("\n  ]\n}\n")
    out.append(f'policy "wan" "lan" {{\n  rule "blocklist" {{\n'
               f'    src_ipset = "{name}"\n    action = "drop"\n  }}\n'
               f'  rule "web" {{\n    proto = "tcp"\n'
               f'    dest_port = [80, 443]\n    action = "accept"\n  }}\n}}\n')


def gen_addrs(n, out):
    """n distinct addresses anywhere in 10.0.0.0/8, in random order."""
    rnd = random.Random(2)
    v = rnd.sample(range(1 << 24), n)
    ipset(out, "blocked_hosts",
          [str(ipaddress.IPv4Address(0x0A000000 | x)) for x in v], False)


def gen_cidrs(n, out):
    """n networks of /26 to /30, each at the start of its own /25 of
    10.0.0.0/8: never overlapping, never adjacent, so auto-merge keeps
    all n."""
    rnd = random.Random(3)
    if n > 1 << 17:
        sys.exit("at most 131072 networks")
    v = rnd.sample(range(1 << 17), n)
    ipset(out, "blocked_nets",
          [f"{ipaddress.IPv4Address(0x0A000000 | x << 7)}/"
           f"{rnd.randint(26, 30)}" for x in v], True)


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("rules", "addrs", "cidrs"):
        sys.exit(__doc__)
    out = []
    head(out, sys.argv[3])
    {"rules": gen_rules, "addrs": gen_addrs,
     "cidrs": gen_cidrs}[sys.argv[1]](int(sys.argv[2]), out)
    sys.stdout.write("".join(out))


main()
