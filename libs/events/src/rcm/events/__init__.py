"""Event contracts: pydantic models, topics, keys, envelope, AsyncAPI."""
