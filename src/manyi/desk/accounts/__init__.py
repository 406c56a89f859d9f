"""Staff accounts: agents, managers and analysts, and their roles."""
