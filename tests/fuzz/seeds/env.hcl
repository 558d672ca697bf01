a = "${HOME}"
b = "home: ${HOME}!"
c = "${ HOME }"
d = ["${HOME}", 1]
e = { k = "${HOME}" }
