a = 1 # café is latin-1 in a comment
