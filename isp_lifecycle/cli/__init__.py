"""The ``isp`` command. Each sub-command lives in its own module and is imported only
when it runs, so that ``isp check`` never pays for the store, Prefect or Jinja2.

Exit codes are mapped from the error hierarchy (``isp_lifecycle.errors``) here, once:
0 done, 1 a gate failed or an operation was refused, 2 bad input or bad usage.
"""

import gc
import importlib
import os
import sys

# In the ``isp`` process itself (its console script imports this module first), the cyclic
# garbage collector waits until the command's module is imported (``_import_quietly``) or the
# command ends (``run``): importing click alone otherwise runs collections that free nothing
# (about 3 ms of ``isp check``'s start-up). A process that imports the CLI to call ``main()``
# (a test run) keeps its collector as it was.
_IN_ISP = os.path.splitext(os.path.basename(sys.argv[0] if sys.argv else ""))[0] == "isp"
_PAUSED_AT_IMPORT = _IN_ISP and gc.isenabled()
if _PAUSED_AT_IMPORT:
    gc.disable()

import click  # noqa: E402

# command name -> "module:attribute"; add a line here to add a command.
COMMANDS = {
    "check": "isp_lifecycle.cli.check:check",
    "rules": "isp_lifecycle.cli.rules:rules",
    "import": "isp_lifecycle.cli.store:import_",
    "export": "isp_lifecycle.cli.store:export",
    "list": "isp_lifecycle.cli.store:list_",
    "show": "isp_lifecycle.cli.store:show",
    "history": "isp_lifecycle.cli.store:history",
    "audit": "isp_lifecycle.cli.store:audit",
    "db": "isp_lifecycle.cli.store:db",
    "advance": "isp_lifecycle.cli.lifecycle:advance",
    "approve": "isp_lifecycle.cli.lifecycle:approve",
    "pending": "isp_lifecycle.cli.lifecycle:pending",
    "serve": "isp_lifecycle.cli.lifecycle:serve",
    "notifications": "isp_lifecycle.cli.notifications:notifications",
    "demo": "isp_lifecycle.cli.demo:demo",
    "review": "isp_lifecycle.cli.review:review_",
    "report": "isp_lifecycle.cli.review:report",
    "token": "isp_lifecycle.cli.token:token",
    "web": "isp_lifecycle.cli.web:web",
    "login": "isp_lifecycle.cli.login:login",
    "lessons": "isp_lifecycle.cli.lessons:lessons",
}


from .options import SuggestingGroup, with_example  # noqa: E402


class LazyGroup(SuggestingGroup):
    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def get_command(self, ctx, name):
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, attr = target.split(":")
        return with_example(getattr(_import_quietly(module), attr), name)


# Set by ``run()``, the ``isp`` process's entry point (not by ``main()``, which tests call).
_whole_process = False


def _import_quietly(module: str):
    """Import a command's module; in the ``isp`` process, with the cyclic garbage collector
    paused, then frozen over what the import built.

    Importing pydantic and building the document models allocates many long-lived objects;
    the collector would otherwise scan them again and again (about 12 ms of ``isp check``'s
    start-up). Frozen objects are never scanned; anything allocated later is collected as
    usual. Only the command's own process does this: freezing inside a host process (a test
    run calling ``main()`` many times) would also keep its garbage of the moment for good.
    """
    if not (_whole_process and (gc.isenabled() or _PAUSED_AT_IMPORT)):
        return importlib.import_module(module)
    gc.disable()
    try:
        return importlib.import_module(module)
    finally:
        gc.freeze()
        gc.enable()


def _version() -> str:
    from importlib.metadata import version

    return version("isp-lifecycle")


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="isp-lifecycle", prog_name="isp", message="%(prog)s %(version)s")
def cli():
    """Run intersectoral partnerships through the ISP Handbook's stage gates.

    \b
    Start with:
      isp demo                            the whole story in a fresh workspace
      isp check partnership.yaml          which handbook conditions does it meet?
      isp rules explain ISP101            one rule: the handbook's words and the fix
    \b
    With a store (ISP_HOME, default ~/.isp; ISP_DATABASE_URL for PostgreSQL):
      isp import *.yaml  /  isp list  /  isp show ID
      isp advance ID --as EMAIL           run the gate, ask the mission director
      isp approve ID --as EMAIL           decide; the stage moves
      isp serve                           schedules, reminders and resumed approvals
    """


def main(argv=None) -> int:
    from ..errors import IspError

    try:
        rv = cli.main(args=argv, prog_name="isp", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return 2
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 130
    except IspError as exc:
        click.echo(f"isp: {exc}", err=True)
        return getattr(exc, "exit_code", 2)
    except BrokenPipeError:
        return 1
    return rv if isinstance(rv, int) else 0


# Commands that hold no resources needing clean-up at exit (no store, no Prefect, no
# atexit handlers of their own): once their output is flushed, the process ends at once
# instead of tearing down every module (about 25 ms of ``isp check``'s 130).
FAST_EXIT = frozenset({"check", "rules"})


def run() -> None:
    global _whole_process
    _whole_process = True
    try:
        status = main()
    finally:
        if _PAUSED_AT_IMPORT:
            gc.enable()  # a command that imported no module (--help, a usage error) ends as usual
    if len(sys.argv) > 1 and sys.argv[1] in FAST_EXIT:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except BrokenPipeError:
            status = status or 1
        os._exit(status)
    sys.exit(status)
