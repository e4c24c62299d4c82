"""`podium memory`: long-term memory per tenant (add, list, search, forget, stats)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from podium.cli.common import EXIT_FAILED, fail, handles_errors, memory_store
from podium.terminal import one_line, printable

app = typer.Typer(help="Long-term memory: add, list, search, forget, stats.", no_args_is_help=True)
TenantOption = Annotated[str, typer.Option("--tenant", help="The namespace (tenant).")]


@app.command("add")
@handles_errors
def memory_add(
    text: Annotated[str, typer.Argument(help="What to remember.")],
    tenant: TenantOption = "default",
    tag: Annotated[list[str] | None, typer.Option(help="A tag (repeatable).")] = None,
    ttl: Annotated[float | None, typer.Option(help="Forget after this many seconds.")] = None,
) -> None:
    """Remember a text."""
    memory_id = memory_store().remember(
        text, tenant, {"source": "cli"}, tags=tag or (), ttl_seconds=ttl
    )
    print(memory_id)


@app.command("list")
@handles_errors
def memory_list(
    tenant: TenantOption = "default",
    limit: Annotated[int, typer.Option(help="The newest N.")] = 20,
) -> None:
    """The newest memories of a tenant, with their ids (which forget takes)."""
    from rich.console import Console
    from rich.table import Table

    found = memory_store().listed(tenant, limit)
    if not found:
        print(f"no memories for tenant {tenant!r} yet")
        return
    table = Table(title=f"{len(found)} newest memories of {tenant!r}", title_justify="left")
    table.add_column("id", no_wrap=True)  # whole: forget takes it
    table.add_column("source", no_wrap=True)
    table.add_column("text", overflow="fold", ratio=1)
    for memory in found:
        source = str(memory.metadata.get("source", "?"))
        table.add_row(memory.id, escape(printable(source)), escape(one_line(memory.text)))
    Console().print(table)


@app.command("search")
@handles_errors
def memory_search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    tenant: TenantOption = "default",
    limit: Annotated[int, typer.Option(help="At most this many.")] = 5,
) -> None:
    """The memories closest to a query."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"memories of {tenant!r}")
    for column in ("id", "similarity", "text"):
        table.add_column(column, overflow="fold")
    for memory in memory_store().recall(query, tenant, limit):
        table.add_row(memory.id, f"{memory.similarity:.3f}", escape(one_line(memory.text)))
    Console().print(table)


@app.command("forget")
@handles_errors
def memory_forget(
    memory_id: Annotated[str | None, typer.Argument(help="The memory's id.")] = None,
    tenant: TenantOption = "default",
    tag: Annotated[str | None, typer.Option(help="Forget every memory with this tag.")] = None,
    thread: Annotated[str | None, typer.Option(help="Forget what this thread left.")] = None,
    expired: Annotated[bool, typer.Option("--expired", help="Purge expired memories.")] = False,
) -> None:
    """Forget one memory, the memories of a tag or thread, or the expired ones."""
    if not (expired or memory_id or tag or thread):
        fail(
            "forget needs what to forget",
            "podium memory forget ID (ids: podium memory list), or --tag TAG, --thread ID, "
            "--expired",
        )
    store = memory_store()
    if expired:
        print(f"{store.purge_expired(tenant)} expired pieces removed")
    elif memory_id:
        if not store.forget(memory_id, tenant):
            fail(
                f"there is no memory {memory_id!r} for tenant {tenant!r}",
                "see the ids with: podium memory list",
                EXIT_FAILED,
            )
        print(f"forgot {memory_id}")
    else:
        print(f"{store.forget_where(tenant, thread=thread, tag=tag)} pieces removed")


@app.command("stats")
@handles_errors
def memory_stats() -> None:
    """Pieces stored per namespace (tenant)."""
    counts = [(n, c) for n, c in sorted(memory_store().stats().items()) if c]
    if not counts:
        print("no memories yet")
        return
    width = max(len(n) for n, _ in counts)
    for namespace, count in counts:
        print(f"{namespace:<{width}}  {count} piece{'s' if count != 1 else ''}")
