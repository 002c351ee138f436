"""The X12 5010 engine: read, validate and build HIPAA transactions."""
