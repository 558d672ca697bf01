a = {x=1
y:2, "z"=3, 4=5, true=1, null=2,}
b = {}
c = {
  x = 1

  y = 2
}
d = {x=[1,2], y={z=true}}
e = {x=1, x=2}
f = {"a b" = 1, "${HOME}" = 2}
g = { a-b = 1, _c = 2 }
