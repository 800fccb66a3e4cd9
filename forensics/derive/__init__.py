"""What the readers' rows mean together: sessions, local domains, message paths."""
