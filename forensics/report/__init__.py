"""Reports: the HTML page, later the JSON findings and the Markdown post-mortem."""
