"""The command line: a thin typer app (main.py) with one module per command group.

Every module here imports only typer and rich at load time, so ``podium --help`` stays
fast; the rest of podium loads inside the command that needs it.
"""
