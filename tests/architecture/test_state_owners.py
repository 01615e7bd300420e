"""One owner per state machine: only recordings/services.py writes Recording.state, only
meetings/services.py writes LiveSession.state (DESIGN.md "State lives in the database").

Read from the source: a write is `<Model>...update(state=...)`, `<Model>...create(state=...)`,
`<Model>(state=...)`, `update_or_create`/`get_or_create` defaults with "state", or an
assignment to `<anything>.state`. The admin cannot write either: both are read-only there
(tests/foundation/test_admin_sessions.py and the recording admin's readonly_fields).
"""

from __future__ import annotations

import ast

from tests.architecture.conftest import product_modules

OWNERS = {"Recording": "recordings.services", "LiveSession": "meetings.services"}
WRITES = {"update", "create", "get_or_create", "update_or_create", "bulk_update", "bulk_create"}


def _root_name(node: ast.AST) -> str | None:
    """The name a call chain starts from: `Recording` in `Recording.objects.filter(...).update(...)`."""
    while True:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute):
            node = node.value
        elif isinstance(node, ast.Name):
            return node.id
        else:
            return None


def _writes_state(call: ast.Call) -> bool:
    for keyword in call.keywords:
        if keyword.arg == "state":
            return True
        if keyword.arg == "defaults" and isinstance(keyword.value, ast.Dict):
            if any(isinstance(k, ast.Constant) and k.value == "state" for k in keyword.value.keys):
                return True
    return False


def state_writes(module: str, tree: ast.Module) -> list[str]:
    """Every write of a guarded model's state in `module` that its owner did not make."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _writes_state(node):
            model = _root_name(node)
            is_write = isinstance(node.func, ast.Name) or (
                isinstance(node.func, ast.Attribute) and node.func.attr in WRITES
            )
            if model in OWNERS and is_write and OWNERS[model] != module:
                found.append(f"{module}:{node.lineno} writes {model}.state")
        elif isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Attribute) and target.attr == "state" and module not in OWNERS.values():
                    found.append(f"{module}:{node.lineno} assigns .state")
    return sorted(found, key=lambda hit: int(hit.split(":")[1].split()[0]))


def test_only_the_owning_services_write_state() -> None:
    offenders = [hit for module, _, tree in product_modules() for hit in state_writes(module, tree)]
    assert offenders == []


def test_the_state_check_can_fail() -> None:
    tree = ast.parse(
        "Recording.objects.filter(pk=1).update(state='failed')\n"
        "LiveSession.objects.create(room=r, state='live')\n"
        "LiveSession.objects.update_or_create(room=r, defaults={'state': 'ended'})\n"
        "recording.state = 'available'\n"
        "Fragment.objects.filter(pk=1).update(state='done')\n"  # not a guarded model
    )
    assert state_writes("media_library.services", tree) == [
        "media_library.services:1 writes Recording.state",
        "media_library.services:2 writes LiveSession.state",
        "media_library.services:3 writes LiveSession.state",
        "media_library.services:4 assigns .state",
    ]
    assert state_writes("recordings.services", ast.parse("Recording.objects.update(state='x')")) == []
