"""``python -m rcm.cli`` is the ``rcm`` command."""

from rcm.cli import main

main()
