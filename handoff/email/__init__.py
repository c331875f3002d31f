"""Email as a second channel: ticket replies out over SMTP, customers' replies back in."""
