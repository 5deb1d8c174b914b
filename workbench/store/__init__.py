"""Persistence: the embedded StateStore (SQLite, WAL) and recovery."""

from workbench.store.sqlite_store import StateStore, StoreError

__all__ = ["StateStore", "StoreError"]
