"""``python -m localvpc`` is the ``localvpc`` command."""

from localvpc.cli.main import main

main()
