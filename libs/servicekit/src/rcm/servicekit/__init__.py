"""What every service shares: settings, broker and database wiring, inbox, outbox, retries, telemetry."""
