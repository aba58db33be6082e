"""The door's web side, shared by its controllers: who is at the door (``access``), what
the door says (``verdicts``), its counters (``counters``) and how it answers (``answers``).
The rules are in events/services/door.py; its input policy in
events/services/door_input.py."""
