"""Crawl pipeline: dispatch one message per source, crawl it politely, keep every release."""
