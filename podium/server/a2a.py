"""A2A: an agent card and a JSON-RPC endpoint (the a2a-sdk package) on ``podium serve``.

Another agent reads the card at ``/.well-known/agent-card.json`` and sends a task to
``/a2a``: the text of its message is the request. It gets status updates as the run goes
(working, with each call as it ends), then the answer as an artifact and the state
completed; a run that stops early fails with its stop reason. A run that waits for
approvals asks for input (``input-required``) with the waiting calls as a data part; a
message on the same task with a data part ``{"decisions": {call_id: true|false}}`` decides
them (the sender needs ``approve:<tool>``) and the run goes on.

With tokens every request to ``/a2a`` needs one (401 otherwise) and the task runs as its
principal, in a thread of that principal named after the A2A context; the SDK's task
store keeps each principal's tasks apart. The card itself is public: it names no tools.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from a2a.auth.user import User
from a2a.helpers.proto_helpers import get_data_parts, new_data_part, new_text_part
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.context import ServerCallContext
from a2a.server.events import EventQueue
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.request_handlers.response_helpers import agent_card_to_dict
from a2a.server.routes import DefaultServerCallContextBuilder, create_jsonrpc_routes
from a2a.server.tasks import InMemoryTaskStore, TaskUpdater
from a2a.types import (
    AgentCapabilities,
    AgentCard,
    AgentInterface,
    AgentSkill,
    HTTPAuthSecurityScheme,
    SecurityRequirement,
    SecurityScheme,
    StringList,
    Task,
    TaskState,
    TaskStatus,
)
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from podium.errors import PodiumError
from podium.identity import Principal, namespaced
from podium.inputs import thread_named
from podium.server import doors
from podium.server.service import DONE, Service

if TYPE_CHECKING:
    from starlette.requests import Request as StarletteRequest

    from podium.planner.approvals import Approval
    from podium.results import RunResult

PATH = "/a2a"
CARD_PATH = "/.well-known/agent-card.json"
ENDED = ("answered",)


class PrincipalUser(User):
    """The caller as the A2A SDK sees it: its task store keeps tasks per user name."""

    def __init__(self, principal: Principal) -> None:
        self.principal = principal

    @property
    def is_authenticated(self) -> bool:
        """Always: the gate let the request in."""
        return True

    @property
    def user_name(self) -> str:
        """The principal's id."""
        return self.principal.id


class GateContext(DefaultServerCallContextBuilder):
    """Builds each request's call context with the principal its token names."""

    def __init__(self, service: Service) -> None:
        self.service = service

    def build(self, request: StarletteRequest) -> ServerCallContext:
        """The SDK's context of one request (headers, extensions), with its principal."""
        context = super().build(request)
        context.state["principal"] = self._principal(request)
        return context

    def build_user(self, request: StarletteRequest) -> User:
        """The principal as the SDK's user (BearerOnly already refused unknown tokens)."""
        return PrincipalUser(self._principal(request))

    def _principal(self, request: StarletteRequest) -> Principal:
        return self.service.gate.caller(request.headers.get("authorization"))


class PodiumExecutor(AgentExecutor):
    """Runs a task's message as a podium request and reports what happens to the task."""

    def __init__(self, service: Service) -> None:
        self.service = service

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        """Start the run (or resume it with decisions) and stream its progress."""
        who: Principal = context.call_context.state["principal"]
        task_id, context_id = context.task_id or "", context.context_id or ""
        if context.current_task is None and context.message is not None:
            await event_queue.enqueue_event(
                Task(
                    id=task_id,
                    context_id=context_id,
                    status=TaskStatus(state=TaskState.TASK_STATE_SUBMITTED),
                    history=[context.message],
                )
            )
        updater = TaskUpdater(event_queue=event_queue, task_id=task_id, context_id=context_id)
        await updater.start_work(updater.new_agent_message([new_text_part("working")]))
        try:  # a thread no route could name would wait for approvals nobody can give
            thread = namespaced(who.id, thread_named(f"a2a-{context_id}", "the contextId's thread"))
        except PodiumError as error:
            await _report(updater, error)
            return
        decisions = _decisions(context)
        if decisions is not None:
            items = doors.resume(self.service, thread, decisions, who)
        else:
            items = doors.start(self.service, thread, context.get_user_input(), who)
        while (item := await items.get()) is not DONE:
            await _report(updater, item)

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        """A run cannot be cut short from outside (its effects would be half done)."""
        from a2a.utils.errors import UnsupportedOperationError

        raise UnsupportedOperationError(
            message="podium runs to the end of a step; a waiting run can be denied instead"
        )


async def _report(updater: TaskUpdater, item: Any) -> None:
    """One item of the run as task updates: progress, then the end."""
    from podium.results import RunResult
    from podium.tracing.events import CallShown, RunStopped

    if isinstance(item, PodiumError):
        await updater.failed(updater.new_agent_message([new_text_part(str(item))]))
    elif isinstance(item, CallShown):
        note = f"{item.name} {item.status} in {item.duration_ms:.0f} ms"
        await updater.update_status(
            TaskState.TASK_STATE_WORKING, updater.new_agent_message([new_text_part(note)])
        )
    elif isinstance(item, RunStopped):
        note = f"stopping: {item.reason}: {item.detail}"
        await updater.update_status(
            TaskState.TASK_STATE_WORKING, updater.new_agent_message([new_text_part(note)])
        )
    elif isinstance(item, RunResult):
        await _finish(updater, item)


async def _finish(updater: TaskUpdater, result: RunResult) -> None:
    summary = {"stop_reason": result.stop_reason, "trace_id": result.trace_id}
    if result.pending_approvals:
        waiting = [w.model_dump(mode="json") for w in result.pending_approvals]
        ask = (
            f"{result.answer}\nDecide with a message on this task holding the data "
            '{"decisions": {"<call id>": true or false}}.'
        )
        await updater.requires_input(
            updater.new_agent_message(
                [new_text_part(ask), new_data_part({**summary, "waiting": waiting})]
            )
        )
        return
    await updater.add_artifact(
        [new_text_part(result.answer), new_data_part(summary)], name="answer", last_chunk=True
    )
    message = updater.new_agent_message([new_text_part(f"stop reason: {result.stop_reason}")])
    if result.stop_reason in ENDED:
        await updater.complete(message)
    else:
        await updater.failed(message)


def _decisions(context: RequestContext) -> dict[str, bool | Approval] | None:
    """The decisions a message carries (a data part ``{"decisions": {...}}``), if any."""
    from podium.planner.approvals import Approval

    if context.message is None:
        return None
    for data in get_data_parts(list(context.message.parts)):
        given = data.get("decisions") if isinstance(data, dict) else None
        if isinstance(given, dict):
            return {
                str(call): Approval(approved=value is True, reason="" if value else "denied")
                for call, value in given.items()
            }
    return None


def agent_card(service: Service, base_url: str) -> AgentCard:
    """The card that tells another agent what this one does and where to reach it."""
    card = AgentCard(
        name="podium",
        description=(
            "An orchestration agent: it plans, calls its tools under guards and a policy, "
            "and answers. Send a task with a request in plain words."
        ),
        version="0.1.0",
        capabilities=AgentCapabilities(streaming=True, push_notifications=False),
        default_input_modes=["text/plain", "application/json"],
        default_output_modes=["text/plain", "application/json"],
        skills=[
            AgentSkill(
                id="ask",
                name="ask",
                description="Carry out a request end to end and answer it.",
                tags=["orchestration"],
                examples=["What is 17 * (3 + 4)?"],
            )
        ],
        supported_interfaces=[
            AgentInterface(
                protocol_binding="JSONRPC",
                protocol_version="1.0",
                url=f"{base_url.rstrip('/')}{PATH}",
            )
        ],
    )
    if service.gate.tokens:
        card.security_schemes["bearer"].CopyFrom(
            SecurityScheme(http_auth_security_scheme=HTTPAuthSecurityScheme(scheme="bearer"))
        )
        card.security_requirements.append(
            SecurityRequirement(schemes={"bearer": StringList(list=[])})
        )
    return card


def a2a_routes(app: FastAPI, service: Service) -> None:
    """The agent card and the JSON-RPC endpoint ``/a2a``."""
    handler = DefaultRequestHandler(
        agent_executor=PodiumExecutor(service),
        task_store=InMemoryTaskStore(),
        agent_card=agent_card(service, "http://127.0.0.1"),
    )
    app.router.routes.extend(
        create_jsonrpc_routes(handler, rpc_url=PATH, context_builder=GateContext(service))
    )

    @app.get(CARD_PATH, include_in_schema=False)
    async def card(request: Request) -> JSONResponse:
        # The URL the caller reached this service by, behind whatever proxy it went through.
        return JSONResponse(agent_card_to_dict(agent_card(service, str(request.base_url))))
