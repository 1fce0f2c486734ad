"""Renderers: pure functions from results to text (DOT, Mermaid, HTML, JUnit, SARIF, tables,
listener origins), sorted and deterministic.  Writing files and running ``dot`` belong to the CLI.
"""

__all__ = ["diagram", "jsontext", "junit", "listeners", "mermaid", "plain", "report", "sarif", "tables", "text"]
