"""The `engagement-api` command: serve, migrate, seed, token, export-schema."""

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import ValidationError, create_model

from engagement_api.settings import Settings, get_settings


def _serve(args: argparse.Namespace) -> int:
    from engagement_api.cli.server import serve

    return serve(host=args.host, port=args.port, workers=args.workers, demo=args.demo)


def _migrate(args: argparse.Namespace) -> int:
    from engagement_api.db import migrate
    from engagement_api.db.engine import resolve_database_url

    before, after = migrate.migrate_to(resolve_database_url(get_settings()), args.revision)
    if before == after:
        print(f"already at {after or 'base'}: nothing to do")
    else:
        print(f"migrated from {before or 'base'} to {after or 'base'}")
    return 0


def _seed(args: argparse.Namespace) -> int:
    from engagement_api.cli.seed import run_seed

    return run_seed(scale=args.scale)


def _token(args: argparse.Namespace) -> int:
    from engagement_api.cli.tokens import print_token

    return print_token(user_id=args.user_id, email=args.email, org=args.org, hours=args.hours)


def _export_schema(args: argparse.Namespace) -> int:
    from engagement_api.schema.export import export_schema

    return export_schema(args.output)


def _parser() -> argparse.ArgumentParser:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="engagement-api", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    def add(
        name: str, handler: Callable[[argparse.Namespace], int], help_: str
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_)
        sub.set_defaults(handler=handler)
        return sub

    serve = add("serve", _serve, "run the HTTP and WebSocket server on Uvicorn")
    serve.add_argument("--host", default=settings.host)
    serve.add_argument("--port", type=setting_value("port"), default=settings.port)
    serve.add_argument("--workers", type=setting_value("workers"), default=settings.workers)
    serve.add_argument(
        "--demo", action="store_true", help="migrate, seed demo data and print tokens first"
    )

    migrate = add("migrate", _migrate, "migrate the database up or down to a revision")
    migrate.add_argument(
        "revision", nargs="?", default="head", help="a revision id, head (default) or base"
    )

    seed = add("seed", _seed, "fill a demo organization (deterministic)")
    seed.add_argument("--scale", type=int, default=1, help="grow the data set (benchmarks)")

    token = add("token", _token, "print a bearer token for a user")
    who = token.add_mutually_exclusive_group(required=True)
    who.add_argument("--user-id")
    who.add_argument("--email")
    token.add_argument("--org", help="organization name or id, when the email is not unique")
    token.add_argument("--hours", type=float, default=24.0)

    export = add("export-schema", _export_schema, "write the served SDL")
    export.add_argument(
        "output", nargs="?", default="schema.graphql", help="a file, or - for standard output"
    )
    return parser


def setting_value(name: str) -> Callable[[str], Any]:
    """An argparse type checking a flag as the setting `name` is checked (its type and
    range, the same message), so a flag cannot pass what the variable may not."""
    field = Settings.model_fields[name]
    definition: dict[str, Any] = {name: (field.annotation, field)}
    flag = create_model(f"Flag_{name}", **definition)

    def parse(value: str) -> Any:
        try:
            return getattr(flag.model_validate({name: value}), name)
        except ValidationError as error:
            raise argparse.ArgumentTypeError(str(error.errors()[0]["msg"])) from None

    return parse


def main(argv: Sequence[str] | None = None) -> int:
    from alembic.util import CommandError

    from engagement_api.cli.failures import database_problem
    from engagement_api.db.engine import DatabaseNotConfiguredError

    try:
        args = _parser().parse_args(argv)
        handler: Callable[[argparse.Namespace], int] = args.handler
        return handler(args)
    except ValidationError as error:
        for problem in setting_problems(error):
            print(f"engagement-api: {problem}", file=sys.stderr)
        return 2
    except (DatabaseNotConfiguredError, CommandError) as error:
        print(f"engagement-api: {error}", file=sys.stderr)
        return 2
    except Exception as error:
        refusal = database_problem(error, get_settings().database_url)
        if refusal is None:
            raise
        print(f"engagement-api: {refusal}", file=sys.stderr)
        return 2


def setting_problems(error: ValidationError) -> list[str]:
    """One line per invalid setting, named as its environment variable."""
    problems = []
    for item in error.errors():
        name = "_".join(str(part) for part in item["loc"]).upper()
        message = str(item["msg"]).removeprefix("Value error, ")
        problems.append(f"invalid setting {name}: {message}" if name else message)
    return problems


if __name__ == "__main__":
    sys.exit(main())
