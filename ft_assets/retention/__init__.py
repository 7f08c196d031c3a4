"""Retention: delete stored artifacts that no recent materialization, production or rollback needs."""
