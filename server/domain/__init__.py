"""Pure rules of the turn engine: no Flask, no SQLAlchemy, no I/O."""
