"""Alembic migrations of the gateway's ledger (run by ``gateway.store.migrate``)."""
