b { a = 1 }
b { }
b {}
match { interface = "eth0" }
host "10.0.0.1" { hostnames = ["a", "b"] }
