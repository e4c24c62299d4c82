"""`podium chat`: a conversation in one thread, with line editing, history and /commands.

Lines are read with GNU readline when the terminal has one (arrows, Ctrl-R, and a history
kept in ``$PODIUM_HOME/chat_history``). Ctrl-C during a turn cancels that turn and the
conversation goes on; at the prompt it clears the line; Ctrl-D or /quit ends the session.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from podium.cli.common import (
    AsOption,
    MCPOption,
    MemoryOption,
    PolicyOption,
    build_agent,
    checked_policy,
)
from podium.cli.run import VerboseOption, run_one

if TYPE_CHECKING:
    from rich.console import Console

    from podium.agent import Agent

HISTORY_FILE = "chat_history"
HISTORY_LINES = 1000
COMMANDS = {
    "/help": "show these commands",
    "/new": "start a new thread",
    "/thread": "show the thread's id (podium threads show ID shows its history)",
    "/tools": "list the tools the agent can call",
    "/quit": "end the session (also /exit, Ctrl-D)",
}
# "/etc/hosts, what is in it?" is a request: a command is a slash and letters alone.
_COMMAND = re.compile(r"/[A-Za-z]+")


class LineReader:
    """Reads the person's lines: with readline's editing and history on a terminal."""

    def __init__(self, console: Console, history: Path) -> None:
        self.console = console
        self.history = history
        self.readline = None
        if console.is_terminal:
            try:
                import readline
            except ImportError:  # a Python without readline: plain lines
                pass
            else:
                self.readline = readline
                readline.set_history_length(HISTORY_LINES)
                try:
                    readline.read_history_file(history)
                except OSError:  # no history yet, or unreadable: start afresh
                    pass

    def read(self) -> str:
        """One line; EOFError at the end of input, KeyboardInterrupt on Ctrl-C."""
        if self.readline is None:
            return self.console.input("[bold]you>[/] ")
        # The prompt goes to input() so that readline redraws it with the line; the escape
        # codes are bracketed (\001 \002) so that it does not count them as characters.
        return input("\001\033[1m\002you>\001\033[0m\002 ")

    def save(self) -> None:
        """Keep the history for the next session (a file that cannot be written is skipped)."""
        if self.readline is not None:
            try:
                self.history.parent.mkdir(parents=True, exist_ok=True)
                self.readline.write_history_file(self.history)
            except OSError:
                pass


def help_text() -> str:
    """The commands chat understands, one a line."""
    return "\n".join(f"{name:<8} {what}" for name, what in COMMANDS.items())


def command(line: str, agent: Agent, thread: str, console: Console) -> str | None:
    """Carry out a /command: the thread to go on with, or None to end the session."""
    from podium.cli.render import tools_table

    name = line.split()[0].lower()
    if name in ("/quit", "/exit"):
        return None
    if name == "/new":
        thread = uuid.uuid4().hex
        console.print(f"[dim]new thread {thread}[/]")
    elif name == "/thread":
        console.print(f"thread {thread}")
    elif name == "/tools":
        console.print(tools_table(agent.registry))
    elif name == "/help":
        console.print(help_text(), markup=False, highlight=False)
    else:
        console.print(
            f"[yellow]unknown command {escape(name)}[/]: /help lists the commands (to send "
            "it to the agent, put a word before it)",
            highlight=False,
        )
    return thread


def cancelled_turn(agent: Agent, thread: str, console: Console) -> None:
    """End the turn Ctrl-C interrupted, so that the thread takes the next request."""
    from podium import thread_admin
    from podium.loop import run_sync, wind_down

    wind_down(2.0)  # the cancelled run undoes its side effects first
    run_sync(thread_admin.cancel(agent, thread))
    console.print("[yellow]interrupted:[/] the turn was cancelled; the conversation goes on")


def chat(
    thread: Annotated[str | None, typer.Option(help="Continue this conversation thread.")] = None,
    verbose: VerboseOption = False,
    memory: MemoryOption = True,
    who: AsOption = None,
    policy: PolicyOption = None,
    mcp: MCPOption = None,
) -> None:
    """Talk with the agent in one thread: /help lists the commands, /quit or Ctrl-D ends."""
    from rich.console import Console

    from podium.errors import InvalidRequest

    console = Console()
    checked = checked_policy(policy, who)
    agent, principal = build_agent(memory, checked, mcp), checked.principal
    thread_id = thread or uuid.uuid4().hex
    reader = LineReader(console, agent.settings.home_dir / HISTORY_FILE)
    console.print(f"[dim]thread {escape(thread_id)} · /help for commands · Ctrl-D to quit[/]")
    try:
        while True:
            try:
                line = reader.read()
            except EOFError:
                break
            except KeyboardInterrupt:  # at the prompt: a fresh line, as shells do
                console.print()
                continue
            text = line.strip()
            if not text:
                continue
            if _COMMAND.fullmatch(text.split()[0]):
                went_on = command(text, agent, thread_id, console)
                if went_on is None:
                    break
                thread_id = went_on
                continue
            try:
                run_one(agent, line, thread_id, verbose, console, principal)
            except InvalidRequest as error:  # the thread stays usable after a bad request
                console.print(f"[red]error:[/] {escape(error.problem)}", highlight=False)
                if error.fix:
                    console.print(f"  fix: {escape(error.fix)}", highlight=False)
            except KeyboardInterrupt:
                console.print()
                cancelled_turn(agent, thread_id, console)
    finally:
        reader.save()
