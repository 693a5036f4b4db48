"""Who has which roles and positions: the administrator's list of users and positions."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from domain.access import Position, Role, User
from projections.base import Projection, handles
from projections.rows import Row


class AccessDirectoryProjection(Projection):
    name = "access_directory"
    version = 1
    tables = ("access_users", "access_user_roles", "access_user_positions", "access_positions",
              "access_position_companies")
    ddl = (
        "CREATE TABLE IF NOT EXISTS access_users (user_id {uuid} PRIMARY KEY, username TEXT NOT NULL,"
        " display_name TEXT NOT NULL, created_on {date} NOT NULL)",
        "CREATE TABLE IF NOT EXISTS access_user_roles (user_id {uuid} NOT NULL, role TEXT NOT NULL,"
        " PRIMARY KEY (user_id, role))",
        "CREATE TABLE IF NOT EXISTS access_user_positions (user_id {uuid} NOT NULL, position_id {uuid} NOT NULL,"
        " PRIMARY KEY (user_id, position_id))",
        "CREATE TABLE IF NOT EXISTS access_positions (position_id {uuid} PRIMARY KEY, name TEXT NOT NULL,"
        " all_companies {bool} NOT NULL)",
        "CREATE TABLE IF NOT EXISTS access_position_companies (position_id {uuid} NOT NULL,"
        " company_id {uuid} NOT NULL, PRIMARY KEY (position_id, company_id))",
    )

    @handles(User.Created)
    def user_created(self, cur: Any, e: User.Created) -> None:
        cur.execute("INSERT INTO access_users (user_id, username, display_name, created_on) VALUES (%s, %s, %s, %s)",
                    (e.originator_id, e.username, e.display_name, e.business_date))

    @handles(User.RoleGranted)
    def role_granted(self, cur: Any, e: User.RoleGranted) -> None:
        cur.execute("INSERT INTO access_user_roles (user_id, role) VALUES (%s, %s)", (e.originator_id, str(e.role)))

    @handles(User.RoleRevoked)
    def role_revoked(self, cur: Any, e: User.RoleRevoked) -> None:
        cur.execute("DELETE FROM access_user_roles WHERE user_id = %s AND role = %s", (e.originator_id, str(e.role)))

    @handles(User.PositionAssigned)
    def position_assigned(self, cur: Any, e: User.PositionAssigned) -> None:
        cur.execute("INSERT INTO access_user_positions (user_id, position_id) VALUES (%s, %s)",
                    (e.originator_id, e.position_id))

    @handles(User.PositionUnassigned)
    def position_unassigned(self, cur: Any, e: User.PositionUnassigned) -> None:
        cur.execute("DELETE FROM access_user_positions WHERE user_id = %s AND position_id = %s",
                    (e.originator_id, e.position_id))

    @handles(Position.Created)
    def position_created(self, cur: Any, e: Position.Created) -> None:
        cur.execute("INSERT INTO access_positions (position_id, name, all_companies) VALUES (%s, %s, %s)",
                    (e.originator_id, e.name, e.all_companies))
        self._companies(cur, e.originator_id, e.company_ids)

    @handles(Position.CompaniesChanged)
    def position_changed(self, cur: Any, e: Position.CompaniesChanged) -> None:
        cur.execute("UPDATE access_positions SET all_companies = %s WHERE position_id = %s",
                    (e.all_companies, e.originator_id))
        cur.execute("DELETE FROM access_position_companies WHERE position_id = %s", (e.originator_id,))
        self._companies(cur, e.originator_id, e.company_ids)

    @staticmethod
    def _companies(cur: Any, position_id: Any, company_ids: tuple) -> None:
        if company_ids:
            cur.executemany("INSERT INTO access_position_companies (position_id, company_id) VALUES (%s, %s)",
                            [(position_id, c) for c in company_ids])


class PositionRef(Row):
    position_id: UUID
    name: str


class UserRow(Row):
    user_id: UUID
    username: str
    display_name: str
    created_on: date
    roles: list[Role]
    positions: list[PositionRef]


class PositionRow(Row):
    position_id: UUID
    name: str
    all_companies: bool
    company_ids: list[UUID]


def list_users(cur: Any) -> list[dict[str, Any]]:
    cur.execute("SELECT user_id, username, display_name, created_on FROM access_users ORDER BY username")
    users = {str(u["user_id"]): {**u, "roles": [], "positions": []} for u in cur.fetchall()}
    cur.execute("SELECT user_id, role FROM access_user_roles ORDER BY role")
    for row in cur.fetchall():
        users[str(row["user_id"])]["roles"].append(row["role"])
    cur.execute("SELECT up.user_id, p.position_id, p.name FROM access_user_positions up"
                " JOIN access_positions p ON p.position_id = up.position_id ORDER BY p.name")
    for row in cur.fetchall():
        users[str(row["user_id"])]["positions"].append({"position_id": row["position_id"], "name": row["name"]})
    return list(users.values())


def list_positions(cur: Any) -> list[dict[str, Any]]:
    cur.execute("SELECT position_id, name, all_companies FROM access_positions ORDER BY name")
    positions = {str(p["position_id"]): {**p, "all_companies": bool(p["all_companies"]), "company_ids": []}
                 for p in cur.fetchall()}
    cur.execute("SELECT position_id, company_id FROM access_position_companies ORDER BY company_id")
    for row in cur.fetchall():
        positions[str(row["position_id"])]["company_ids"].append(row["company_id"])
    return list(positions.values())
