""" "1+1": every member brings one young person into the union's activities each year."""
