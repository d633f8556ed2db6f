"""Database layer: typed ORM models, engine and per-request sessions, query builders."""
