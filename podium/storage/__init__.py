"""Where durable state lives, behind one small interface per kind (base.py).

SQLite files under the home directory are the embedded default (sqlite.py): thread
checkpoints, the side-effect ledger and the handoff desk. Approvals live in the thread's
checkpoints (a LangGraph interrupt), so they move with them. A second backend implements
``Storage`` and the interfaces it hands out.
"""
