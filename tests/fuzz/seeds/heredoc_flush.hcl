a = <<-EOT
	x
  y

EOT
b = <<-EOT
    x
  
      y
    EOT
c = <<-EOT
  x
	y
  EOT
d = <<-EOT
    x ${HOME}
  y
  EOT
e = <<-EOT
  ${HOME} x
    y
  EOT
f = <<-EOT

  x
EOT
g = <<-EOT
  x
   
  y
  EOT
