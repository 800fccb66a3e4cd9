"""The dashboard's charts: one module a chart, and the pieces the charts share."""
