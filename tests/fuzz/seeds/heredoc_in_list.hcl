a = [<<EOT
x
EOT
, 2]
