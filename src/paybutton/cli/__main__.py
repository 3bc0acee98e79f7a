"""`python -m paybutton.cli`: the same as the `paybutton` command."""

from paybutton.cli import main

main()
