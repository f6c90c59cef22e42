""" "1+2": cadres log their grassroots days; committees see who is on track."""
