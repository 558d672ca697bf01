b "${HOME}" {}
