"""The append-only, hash-chained audit trail: record(), verification, and its read API."""
