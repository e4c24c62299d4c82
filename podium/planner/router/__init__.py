"""The offline router: the embedded default planner and a deterministic test double.

It matches each clause of a request against the tools' names and descriptions and fills
arguments from the text (model.py, with its helpers beside it); it does not reason.
"""

from podium.planner.router.model import RouterChatModel

__all__ = ["RouterChatModel"]
