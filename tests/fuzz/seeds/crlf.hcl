a = "x"
b {
  c = [1,
    2]
}
d = <<EOT
line
EOT
