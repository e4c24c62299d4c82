"""The shop's data in SQLite: customers, orders and refunds, each row owned by a tenant."""

from __future__ import annotations

import sqlite3
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS customers (id TEXT, tenant TEXT, name TEXT, PRIMARY KEY (tenant, id));
CREATE TABLE IF NOT EXISTS orders (
    id INTEGER, tenant TEXT, customer TEXT, total REAL, status TEXT, PRIMARY KEY (tenant, id)
);
CREATE TABLE IF NOT EXISTS refunds (order_id INTEGER, tenant TEXT, amount REAL);
"""
CUSTOMERS = [("C-17", "acme", "Ana Lima"), ("C-40", "globex", "Bo Berg")]
ORDERS = [
    (1001, "acme", "C-17", 120.0, "shipped"),
    (1002, "acme", "C-17", 480.0, "delivered"),
    (2001, "globex", "C-40", 75.0, "shipped"),
]


def seed(path: Path) -> Path:
    """Create the database at ``path`` with two tenants' customers and orders."""
    with sqlite3.connect(path) as db:
        db.executescript(SCHEMA)
        db.executemany("INSERT OR IGNORE INTO customers VALUES (?, ?, ?)", CUSTOMERS)
        db.executemany("INSERT OR IGNORE INTO orders VALUES (?, ?, ?, ?, ?)", ORDERS)
    return path


def order(path: Path, tenant: str, order_id: int) -> tuple[str, float, str] | None:
    """(customer, total, status) of a tenant's order, or None: another tenant's is not seen."""
    with sqlite3.connect(path) as db:
        row = db.execute(
            "SELECT customer, total, status FROM orders WHERE tenant = ? AND id = ?",
            (tenant, order_id),
        ).fetchone()
    return (str(row[0]), float(row[1]), str(row[2])) if row else None


def customer(path: Path, tenant: str, customer_id: str) -> tuple[str, int] | None:
    """(name, number of orders) of a tenant's customer, or None."""
    with sqlite3.connect(path) as db:
        row = db.execute(
            "SELECT c.name, count(o.id) FROM customers c LEFT JOIN orders o"
            " ON o.tenant = c.tenant AND o.customer = c.id"
            " WHERE c.tenant = ? AND c.id = ? GROUP BY c.id",
            (tenant, customer_id),
        ).fetchone()
    return (str(row[0]), int(row[1])) if row else None


class RefundRefused(ValueError):
    """A refund the order cannot take: not positive, or more than is left of what was paid."""


def _cents(amount: float) -> int:
    return round(amount * 100)


def add_refund(path: Path, tenant: str, order_id: int, amount: float) -> float:
    """Record a refund of a tenant's order; what is left to refund after it.

    The check (never more than was paid minus what was refunded already) and the insert
    are one transaction that holds the write lock, so refunds racing each other cannot
    together pass the total. A refund the order cannot take raises RefundRefused.
    """
    db = sqlite3.connect(path, isolation_level=None, timeout=30)  # transactions by hand
    try:
        db.execute("BEGIN IMMEDIATE")  # the write lock first: no refund slips in between
        row = db.execute(
            "SELECT total, (SELECT coalesce(sum(amount), 0) FROM refunds r"
            " WHERE r.tenant = o.tenant AND r.order_id = o.id)"
            " FROM orders o WHERE tenant = ? AND id = ?",
            (tenant, order_id),
        ).fetchone()
        if row is None:
            raise LookupError(f"there is no order {order_id} in this account")
        paid, refunded = float(row[0]), float(row[1])
        left = (_cents(paid) - _cents(refunded)) / 100
        if _cents(amount) <= 0:
            raise RefundRefused(f"a refund must be more than 0 EUR, not {amount:.2f} EUR")
        if _cents(amount) > _cents(left):
            raise RefundRefused(
                f"only {left:.2f} EUR of the {paid:.2f} EUR paid is left to refund"
                f" ({refunded:.2f} EUR refunded already)"
            )
        db.execute("INSERT INTO refunds VALUES (?, ?, ?)", (order_id, tenant, amount))
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    finally:
        db.close()
    return (_cents(left) - _cents(amount)) / 100


def refunds(path: Path, tenant: str) -> list[tuple[int, float]]:
    """The tenant's refunds."""
    with sqlite3.connect(path) as db:
        rows = db.execute(
            "SELECT order_id, amount FROM refunds WHERE tenant = ? ORDER BY order_id", (tenant,)
        ).fetchall()
    return [(int(r[0]), float(r[1])) for r in rows]
