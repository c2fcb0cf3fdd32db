"""Orchestration: validate once, benchmark once, plan jobs, execute them, write the site."""
