a = <<EOT
hello
  world
EOT
b = <<-EOT
    x
      y
    EOT
c = <<EOT
EOT
d = <<EOT
x
  EOT
e = <<EOT
x
EOTX
EOT
f = <<EOT
x ${HOME} $${y} %%{z}
EOT
g = <<EOT
\n is not an escape
EOT
h = <<EOT
x
EOT  
