"""Adopted grid plans of one street office in PostgreSQL (twin.store.PlanTable): every web process on the database
installs the same plan in force."""

from __future__ import annotations

from psycopg.rows import dict_row

from twin.plans import META


class PostgresPlans:
    """The grid_plans rows of `office`, through a shared psycopg pool."""

    def __init__(self, pool, office: str):
        self.pool = pool
        self.office = office

    def close(self) -> None:
        """Nothing to do: the pool belongs to the PostgresStore."""

    def insert(self, row: dict) -> int:
        """Add a plan row; its new id."""
        cols = ["office", *row]
        with self.pool.connection() as conn:
            cur = conn.execute(
                f"INSERT INTO grid_plans ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))}) RETURNING id",
                [self.office, *row.values()],
            )
            return int(cur.fetchone()[0])

    def rows(self) -> list[dict]:
        """Every plan's record and summary, by id."""
        with self.pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            sql = f"SELECT {', '.join(META)}, summary FROM grid_plans WHERE office = %s ORDER BY id"
            return cur.execute(sql, (self.office,)).fetchall()

    def grids(self, plan_id: int) -> str | None:
        """A plan's grids as GeoJSON text."""
        with self.pool.connection() as conn:
            row = conn.execute(
                "SELECT grids FROM grid_plans WHERE office = %s AND id = %s", (self.office, int(plan_id))
            ).fetchone()
        return row[0] if row else None

    def update(self, plan_id: int, values: dict) -> None:
        """Set fields of one plan."""
        with self.pool.connection() as conn:
            conn.execute(
                f"UPDATE grid_plans SET {', '.join(f'{k} = %s' for k in values)} WHERE office = %s AND id = %s",
                [*values.values(), self.office, int(plan_id)],
            )
