"""What checkpoints are written with: LangGraph's serializer, with secrets taken out first.

Every checkpoint and pending write passes ``dumps_typed`` on its way to the database,
whichever node put the text into the state (a model's reply, a tool's output, an error, a
request) and whatever the guards were configured to do, so this one place keeps every
secret (by shape, and the registered values: podium.known_secrets) out of threads.sqlite.
Reading is unchanged: what was stored is what comes back.
"""

from __future__ import annotations

from typing import Any

from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

from podium.redaction import without_secrets


class RedactingSerializer(JsonPlusSerializer):
    """JsonPlusSerializer that redacts secrets from every text of what it serializes.

    A subclass, not a wrapper, so that LangGraph's msgpack allow-list still applies to it.
    """

    def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
        """Serialize ``obj`` with every secret inside it replaced by [SECRET]."""
        if isinstance(obj, dict) and _BOOKKEEPING.issubset(obj):
            # A checkpoint: its ids, timestamps and channel versions are LangGraph's own and
            # change at every step (each a text never seen before); what the run put in it
            # is in channel_values and pending_sends.
            kept = {key: obj[key] for key in _CARRIED if key in obj}
            cleaned = without_secrets(kept)
            return super().dumps_typed(obj if cleaned is kept else {**obj, **cleaned})
        return super().dumps_typed(without_secrets(obj))


# The keys of a LangGraph checkpoint, and those among them that carry the run's data.
_BOOKKEEPING = frozenset({"v", "id", "ts", "channel_values", "channel_versions", "versions_seen"})
_CARRIED = ("channel_values", "pending_sends")
