"""The open-space board's web side, shared by its controllers: who facilitates
(``access``), the live views kept current across processes (``live``) and what the pages
show of a board (``views``). The rules are in events/services/board*.py."""
