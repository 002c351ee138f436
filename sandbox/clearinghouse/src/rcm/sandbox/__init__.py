"""A clearinghouse and payer sandbox speaking SFTP and CAQH CORE on loopback."""
