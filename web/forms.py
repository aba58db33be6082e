"""What browsers send, as typed structures. Every field is a string (browsers send
strings; a checkbox sends "on"); services do the real validation."""

from __future__ import annotations

import msgspec


class LoginForm(msgspec.Struct):
    email: str = ""
    password: str = ""
    next: str = ""


class SignupForm(msgspec.Struct):
    email: str = ""
    display_name: str = ""
    password: str = ""
    next: str = ""


class CommunityForm(msgspec.Struct):
    name: str = ""
    description: str = ""


class InvitationForm(msgspec.Struct):
    email: str = ""
    role: str = "door"


class RoleForm(msgspec.Struct):
    role: str = ""


def safe_next(target: str | None, default: str = "/manage") -> str:
    """Only same-site relative paths, so ?next= cannot send anyone to another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target
