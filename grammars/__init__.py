"""How each kind of evidence file is read: pyparsing grammars and their regex twins.

This package knows nothing of polars, plotly or click.
"""
