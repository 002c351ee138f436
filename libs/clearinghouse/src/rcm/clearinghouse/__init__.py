"""Transports to payers: SFTP batch and CAQH CORE real-time HTTP, with retry policies."""
