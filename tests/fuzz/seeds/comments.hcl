a = 1 /* x */
b = 2 // c
c = 3 # d
/* multi
line */
d { # after brace
  e = 4 // trailing
}
f { /* only a comment */ }
g = [1, # in a list
  2]
