"""Renderers: pure functions from results to text (DOT, Mermaid, HTML, JUnit, SARIF, tables,
listener origins; swarm services as the diagram and the report show them), sorted and deterministic.
Writing files and running ``dot`` belong to the CLI.
"""

__all__ = ["diagram", "jsontext", "junit", "listeners", "mermaid", "plain", "problems", "report", "sarif", "services", "tables", "text"]
