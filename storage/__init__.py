"""Persistence: tables, the database engine, repositories and the unit of work."""
