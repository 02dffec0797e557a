"""The `tribu` command."""

import os
import sys


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tribu.settings")
    if argv and argv[0] == "manage":
        from django.core.management import execute_from_command_line

        execute_from_command_line(["tribu manage", *argv[1:]])
        return 0
    print("usage: tribu manage ...", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
