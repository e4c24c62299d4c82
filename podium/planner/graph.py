"""The planner's StateGraph: nodes and edges only.

What each node does: nodes.py (with authorize.py and memories.py).
"""

from __future__ import annotations

import functools
from typing import Any

from langgraph.graph import END, START, StateGraph

from podium.planner import memories, nodes
from podium.planner.context import RunContext
from podium.planner.state import RunState, planned_reply

# Edges read where a run stands from what the nodes wrote anyway (a stop reason, the last
# message), not from a channel of their own: every channel a node writes is one more row
# and blob at each checkpoint. They are coroutines: LangGraph runs a plain function given as
# an edge on a thread of the executor, a thread hop at every edge of every step.


async def _after_begin(state: RunState) -> str:
    """To plan, or to the answer checks when a guard blocked the request."""
    return "finish" if state.get("stop_reason") else "plan"


async def _after_plan(state: RunState) -> str:
    """To act when the reply asks for calls, back to plan after a retry note, else on."""
    if state.get("stop_reason"):
        return "finish"
    return "act" if planned_reply(state) is not None else "plan"


async def _after_finish(state: RunState) -> str:
    """Back to the planner when an answer check asked for another answer, else the end."""
    return "plan" if state.get("stop_reason") is None else END


@functools.cache
def build_graph() -> StateGraph[RunState, RunContext, Any, Any]:
    """The planner graph: begin, plan, act, finish.

    begin checks the request and recalls memories for it; plan asks the model for the first
    round. act authorizes that round's calls (policy, argument screens, approvals), runs
    those allowed, and plans the next round, until the planner answers or a limit stops it:
    one node, so each tool step writes one checkpoint, where a bare ReAct agent writes two
    (its model node, its tools node). A run interrupted for approval, or killed, starts act
    again from its authorization, which decides the same way, and the ledger keeps
    completed side effects from repeating. finish checks the answer, then undoes a failed
    run's side effects or remembers what the run learned.

    The planner's reply picks the edge out of plan and act: more calls, or the answer (a
    stop reason). A reply that needs another try (a retry note) goes to plan. A blocked
    request goes from begin straight to finish; an answer a check rejects (reask) goes back
    to plan. Each node is a checkpoint: a run of one tool step writes five (its input,
    begin, plan, act, finish). A round that cannot be replayed (a person decided calls of
    it, it called a sub-agent, or a side effect in it failed) returns from act alone and
    goes on to plan: it is checkpointed before the next plan, as every round was before.
    A thread saved by the graph in which act went on to plan
    resumes as it would have: act now plans itself, and plan is still there. The graph
    holds no configuration (that comes with each run's RunContext), so one build serves
    every agent.
    """
    graph = StateGraph(RunState, context_schema=RunContext)
    graph.add_node("begin", nodes.begin)
    graph.add_node("plan", nodes.plan)
    graph.add_node("act", nodes.act)
    graph.add_node("finish", nodes.finish)
    graph.add_edge(START, "begin")
    graph.add_conditional_edges("begin", _after_begin, ["plan", "finish"])
    graph.add_conditional_edges("plan", _after_plan, ["act", "finish", "plan"])
    graph.add_conditional_edges("act", _after_plan, ["act", "finish", "plan"])
    graph.add_conditional_edges("finish", _after_finish, ["plan", END])
    _add_earlier_nodes(graph)
    return graph


def _add_earlier_nodes(graph: StateGraph[RunState, RunContext, Any, Any]) -> None:
    """The nodes of the six-node graph that the four replace, which no new run enters.

    A thread checkpointed by that graph on its way into one of them (killed, or stopped by
    a deploy, between two nodes) is saved with that node as its next: LangGraph restores
    only the channels a graph declares, so without them such a thread would look finished,
    its answer never checked and a failed run's side effects never undone. Each does what
    the node it stood for did, and goes on as it did.
    """
    graph.add_node("screen_input", nodes.begin)  # the checks, then the recall it led to
    graph.add_node("recall", memories.recall)
    graph.add_node("screen_output", nodes.finish)  # the checks, then what finish did
    graph.add_conditional_edges("screen_input", _after_begin, ["plan", "finish"])
    graph.add_edge("recall", "plan")
    graph.add_conditional_edges("screen_output", _after_finish, ["plan", END])


def recursion_limit(max_steps: int) -> int:
    """A LangGraph recursion limit that the planner's own step limit always reaches first."""
    return 3 * max_steps + 10
