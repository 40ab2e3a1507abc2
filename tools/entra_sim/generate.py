"""`python -m tools.entra_sim.generate --users 300 --groups 20 --seed 1 > FILE`: a repeatable directory
file with two snapshots. The first is an organisation (a manager tree, department and project groups, a
few disabled accounts); the second changes it the way a working day does: attribute updates, a
userPrincipalName rename, disables and re-enables, a hard delete, new users, manager changes and one
cleared manager, a group rename, membership adds and removes, a new group and a deleted group."""

from __future__ import annotations

import argparse
import json
import random
import sys
import uuid
from typing import Any

DOMAIN = "contoso.example"
FIRST_NAMES = (
    "Ada",
    "Alan",
    "Amir",
    "Anna",
    "Aiko",
    "Bea",
    "Boris",
    "Carla",
    "Chen",
    "Dara",
    "Diego",
    "Elif",
    "Emma",
    "Farah",
    "Femi",
    "Grace",
    "Hana",
    "Ivan",
    "Jonas",
    "Kai",
    "Lena",
    "Luis",
    "Maya",
    "Nils",
    "Noor",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sami",
    "Sofia",
    "Tariq",
    "Uma",
    "Vera",
    "Wei",
    "Yara",
    "Zoe",
)
SURNAMES = (
    "Adams",
    "Bauer",
    "Costa",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Haddad",
    "Ito",
    "Jensen",
    "Kowalski",
    "Larsen",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Petrov",
    "Quispe",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Urban",
    "Varga",
    "Weber",
    "Yilmaz",
    "Zhang",
)
DEPARTMENTS = {
    "Engineering": ("Software Engineer", "Senior Software Engineer", "SRE", "Engineering Manager"),
    "Sales": ("Account Executive", "Sales Engineer", "Sales Manager"),
    "Marketing": ("Content Strategist", "Product Marketing Manager"),
    "Finance": ("Accountant", "Financial Analyst", "Controller"),
    "People": ("Recruiter", "HR Business Partner"),
    "Support": ("Support Engineer", "Support Lead"),
}
PROJECTS = (
    "Apollo",
    "Borealis",
    "Cobalt",
    "Delta",
    "Ember",
    "Fjord",
    "Granite",
    "Helix",
    "Iris",
    "Juniper",
    "Kestrel",
    "Lumen",
)
STREETS = ("Main Street", "Harbour Road", "Station Square", "Elm Avenue", "Mill Lane", "Park Row")


def _guid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _phone(rng: random.Random) -> str:
    return f"+1 425 555 {rng.randrange(10000):04d}"


def _user(rng: random.Random, number: int, manager: str | None) -> dict[str, Any]:
    given, surname = rng.choice(FIRST_NAMES), rng.choice(SURNAMES)
    nickname = f"{given}.{surname}{number}".lower()
    department = rng.choice(sorted(DEPARTMENTS))
    user: dict[str, Any] = {
        "id": _guid(rng),
        "userPrincipalName": f"{nickname}@{DOMAIN}",
        "mailNickname": nickname,
        "displayName": f"{given} {surname}",
        "givenName": given,
        "surname": surname,
        "mail": f"{nickname}@{DOMAIN}",
        "jobTitle": rng.choice(DEPARTMENTS[department]),
        "department": department,
        "employeeId": f"E{100000 + number}",
        "telephoneNumber": _phone(rng),
        "streetAddress": f"{rng.randrange(1, 200)} {rng.choice(STREETS)}",
        "postalCode": f"{rng.randrange(10000, 99999)}",
    }
    if rng.random() < 0.5:
        user["mobile"] = _phone(rng)
    if rng.random() < 0.3:
        user["physicalDeliveryOfficeName"] = f"Building {rng.randrange(1, 9)}"
    if manager is not None:
        user["manager"] = manager
    user["accountEnabled"] = rng.random() >= 0.03
    return user


def _managers(user_count: int) -> int:
    return max(2, user_count // 10)


def _first_snapshot(rng: random.Random, user_count: int, group_count: int) -> dict[str, Any]:
    users: list[dict[str, Any]] = []
    managers = _managers(user_count)
    for number in range(user_count):
        # User 0 leads the organisation, the next managers report to it, everyone else to one of them.
        boss = None if number == 0 else users[0]["id"] if number < managers else users[rng.randrange(managers)]["id"]
        users.append(_user(rng, number, boss))
    groups = []
    for number in range(group_count):
        if number < len(DEPARTMENTS):
            name = sorted(DEPARTMENTS)[number]
            members = [u["id"] for u in users if u["department"] == name]
            display = f"Dept {name}"
        else:
            display = f"Project {PROJECTS[(number - len(DEPARTMENTS)) % len(PROJECTS)]} {number}"
            members = [u["id"] for u in users if rng.random() < 0.15]
        groups.append({"id": _guid(rng), "displayName": display, "members": members})
    return {"users": users, "groups": groups}


def _second_snapshot(rng: random.Random, first: dict[str, Any], managers: int) -> dict[str, Any]:
    users = [dict(u) for u in first["users"]]
    groups = [dict(g, members=list(g["members"])) for g in first["groups"]]
    step = max(1, len(users) // 50)
    # Each change picks fresh individual contributors, so no user carries two kinds of change.
    pool = [u for u in users[managers:] if u["accountEnabled"]]
    rng.shuffle(pool)

    def take(count: int) -> list[dict[str, Any]]:
        return [pool.pop() for _ in range(min(count, len(pool)))]

    updates = (
        ("jobTitle", lambda u: "Principal " + u["jobTitle"]),
        ("mobile", lambda u: _phone(rng)),
        ("surname", lambda u: rng.choice([s for s in SURNAMES if s != u["surname"]])),
        ("mail", lambda u: f"{u['mailNickname']}@mail.{DOMAIN}"),
        ("department", lambda u: rng.choice([d for d in sorted(DEPARTMENTS) if d != u["department"]])),
    )
    for index, user in enumerate(take(2 * step)):
        attribute, change = updates[index % len(updates)]
        user[attribute] = change(user)
        if attribute == "surname":
            user["displayName"] = f"{user['givenName']} {user['surname']}"
    for user in take(1):
        user["userPrincipalName"] = f"renamed.{user['userPrincipalName']}"
    for user in users:
        user["accountEnabled"] = True  # re-enables whoever the first snapshot had disabled
    for user in take(step):
        user["accountEnabled"] = False
    for user in take(step):
        user["manager"] = rng.choice([u["id"] for u in users[:managers] if u["id"] != user.get("manager")])
    for user in take(1):
        user.pop("manager", None)
    deleted = {u["id"] for u in take(1)}
    users = [u for u in users if u["id"] not in deleted]
    newcomers = [
        _user(rng, len(first["users"]) + n, users[0]["id"]) | {"accountEnabled": True} for n in range(max(2, step))
    ]
    users += newcomers

    for group in groups:
        group["members"] = [m for m in group["members"] if m not in deleted]
    if groups:
        groups[0]["members"] += [u["id"] for u in newcomers]
    for group in groups[1:3]:
        outsiders = [u["id"] for u in users if u["id"] not in group["members"]]
        group["members"] = group["members"][1:] + rng.sample(outsiders, min(2, len(outsiders)))
    if len(groups) >= 2:
        groups[-1]["displayName"] += " (renamed)"
    if len(groups) >= 3:
        groups.pop(-2)
        groups.append({"id": _guid(rng), "displayName": "Project Newcomers", "members": [u["id"] for u in newcomers]})
    return {"users": users, "groups": groups}


def generate(users: int, groups: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    first = _first_snapshot(rng, users, groups)
    return {"snapshots": [first, _second_snapshot(rng, first, _managers(users))]}


def dumps(directory: dict[str, Any]) -> str:
    """JSON with one user or group per line: readable, and diffs of the committed sample stay small."""

    def objects(items: list[dict[str, Any]]) -> str:
        return "[\n" + ",\n".join("      " + json.dumps(item) for item in items) + "\n    ]"

    snapshots = ",\n".join(
        f'    {{"users": {objects(s["users"])},\n     "groups": {objects(s["groups"])}}}'
        for s in directory["snapshots"]
    )
    return '{"snapshots": [\n' + snapshots + "\n]}\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.entra_sim.generate", description="Write a two-snapshot directory file to stdout."
    )
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--groups", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if args.users < 10 or args.groups < 0:
        parser.error("use at least 10 users and a non-negative number of groups")
    sys.stdout.write(dumps(generate(args.users, args.groups, args.seed)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
