"""Compiling a model: lowering, the planner, the machine graph, its vertices and keys, and the board's data."""
