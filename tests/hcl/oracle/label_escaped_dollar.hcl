b "cost $${x} %%{y}" {}
