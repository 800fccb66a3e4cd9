"""The core layer: frame schemas, evidence files, text, times, the shared expressions."""
