"""Background jobs: progress polling, approval expiry, crash recovery, outbox sweeps."""
