é = 1
aé-b_1 = 2
_x = 3
block-name "l" {}
