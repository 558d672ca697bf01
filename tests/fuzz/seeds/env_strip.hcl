a = "  ${HOME~}  x"
b = "x  ${~HOME}"
