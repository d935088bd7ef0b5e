"""What several services need and nothing more: event schemas, settings, infrastructure adapters."""
