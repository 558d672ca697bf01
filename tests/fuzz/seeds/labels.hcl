b "x\ny" {}
b "a" "" {}
b "x" y {}
b ident "s" {}
c "é" {}
d "\u00e9\\" {}
