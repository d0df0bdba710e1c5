"""The `hamletbox` command. Each subcommand loads settings once and builds only what it needs."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from appliance import config
from appliance.config import Settings, SettingsError
from appliance.domain.catalog import CatalogError
from appliance.errors import HamletBoxError

if TYPE_CHECKING:
    from upstream.settings import UpstreamSettings

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return EXIT_BAD_INPUT
    try:
        return handler(args)
    except (SettingsError, CatalogError) as exc:
        print(f"hamletbox: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except HamletBoxError as exc:
        print(f"hamletbox: {exc}", file=sys.stderr)
        return EXIT_FAILED


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hamletbox", description="Hamlet Box appliance")
    parser.add_argument(
        "--config",
        type=Path,
        help=f"settings file (default: $HAMLETBOX_CONFIG or {config.DEFAULT_FILE})",
    )
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")

    cfg = sub.add_parser("config", help="settings").add_subparsers(metavar="ACTION")
    check = cfg.add_parser("check", help="print the effective settings, secrets masked")
    check.add_argument("file", nargs="?", type=Path)
    check.set_defaults(handler=_config_check)

    db = sub.add_parser("db", help="the box's store").add_subparsers(metavar="ACTION")
    up = db.add_parser("upgrade", help="apply schema migrations")
    up.add_argument("--revision", default="head")
    up.set_defaults(handler=_db_upgrade)

    cat = sub.add_parser("catalog", help="the procedure catalog").add_subparsers(metavar="ACTION")
    ccheck = cat.add_parser("check", help="validate a commune's catalog file")
    ccheck.add_argument("file", type=Path)
    ccheck.set_defaults(handler=_catalog_check)

    web = sub.add_parser("web", help="serve the web UI with waitress")
    web.add_argument("--host")
    web.add_argument("--port", type=int)
    web.set_defaults(handler=_web)

    poster = sub.add_parser("poster", help="print A4 PDF posters").add_subparsers(metavar="KIND")
    proc = poster.add_parser("procedure", help="QR board for one procedure")
    proc.add_argument("code")
    proc.add_argument("-o", "--output", type=Path, required=True)
    proc.add_argument("--lang", choices=("vi", "en"), default="vi")
    proc.set_defaults(handler=_poster_procedure)
    hot = poster.add_parser("hotspot", help="'connect here' poster with the Wi-Fi QR")
    hot.add_argument("-o", "--output", type=Path, required=True)
    hot.set_defaults(handler=_poster_hotspot)

    _intake_commands(sub)
    _relay_commands(sub)
    _sms_commands(sub)
    _body_commands(sub)
    _provision_commands(sub)

    demo = sub.add_parser("demo", help="run the whole box with simulated hardware and sample data")
    demo.add_argument("--dir", type=Path, default=Path(".demo"))
    demo.add_argument("--port", type=int, default=8080)
    demo.set_defaults(handler=_demo)
    return parser


def _intake_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Commands of the station's intake: ID cards, page scans, accounts, dossiers."""
    idc = sub.add_parser("id", help="citizen ID cards").add_subparsers(metavar="ACTION")
    read = idc.add_parser("read", help="decode the QR of ID-card photos; one JSON line each")
    read.add_argument("images", nargs="+", type=Path)
    read.set_defaults(handler=_id_read)

    scan = sub.add_parser("scan", help="photos of papers -> one compact PDF")
    scan.add_argument("images", nargs="+", type=Path)
    scan.add_argument("-o", "--output", type=Path, required=True)
    scan.add_argument("--mode", choices=("auto", "text", "color"), default="auto")
    scan.set_defaults(handler=_scan)

    user = sub.add_parser("user", help="station accounts").add_subparsers(metavar="ACTION")
    add = user.add_parser("add", help="add a volunteer or technician account")
    add.add_argument("name")
    add.add_argument("--role", choices=("volunteer", "technician"), required=True)
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    add.set_defaults(handler=_user_add)

    dossier = sub.add_parser("dossier", help="dossiers").add_subparsers(metavar="ACTION")
    create = dossier.add_parser("create", help="create a queued dossier as the station would")
    create.add_argument("--procedure", required=True)
    who = create.add_mutually_exclusive_group(required=True)
    who.add_argument("--id-qr", help="the text of the applicant's ID-card QR")
    who.add_argument("--name", help="the applicant's full name, typed")
    create.add_argument("--phone", required=True)
    create.add_argument("--page", type=Path, nargs="+", default=[], help="photos of the papers")
    create.add_argument("--consent", action="store_true", help="the resident agreed to the notice")
    create.add_argument("--json", action="store_true")
    create.set_defaults(handler=_dossier_create)


def _relay_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The link to the commune: the relay daemon, enrolment, and the reference upstream server."""
    relay = sub.add_parser("relay", help="store-and-forward dossiers to the commune's upstream")
    relay.add_argument("--once", action="store_true", help="drain the queue, pull updates, exit")
    relay.set_defaults(handler=_relay)

    enroll = sub.add_parser("enroll", help="enroll this box with the upstream (one-time token)")
    enroll.add_argument("--upstream", required=True, help="the upstream's URL")
    given = enroll.add_mutually_exclusive_group(required=True)
    given.add_argument("--token", help="the token the district gave for this box")
    given.add_argument("--token-file", type=Path, help="a file holding the token (not seen in ps)")
    enroll.set_defaults(handler=_enroll)

    up = sub.add_parser("upstream", help="the reference upstream server (commune and district)")
    up.add_argument("--db", help="database URL (default: $HAMLETBOX_UPSTREAM_DB)")
    actions = up.add_subparsers(metavar="ACTION")
    serve = actions.add_parser("serve", help="serve the device API and the officers' inbox")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8090)
    serve.add_argument("--threads", type=int, default=8)
    serve.set_defaults(handler=_upstream_serve)
    token = actions.add_parser("token", help="print a one-time enrolment token for a hamlet's box")
    token.add_argument("--hamlet", required=True)
    token.add_argument("--days", type=int, default=14, help="days the token stays valid")
    token.set_defaults(handler=_upstream_token)
    dump = actions.add_parser("dump", help="one JSON line per received dossier")
    dump.set_defaults(handler=_upstream_dump)
    officer = actions.add_parser("officer", help="officer accounts").add_subparsers(metavar="DO")
    add = officer.add_parser("add", help="add a commune officer's account")
    add.add_argument("name")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    add.set_defaults(handler=_upstream_officer_add)


def _sms_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The GSM modem by hand: one SMS, or the SIM and signal."""
    sms = sub.add_parser("sms", help="text messages through the GSM modem")
    actions = sms.add_subparsers(metavar="ACTION")
    modem_help = "pyserial URL or device (default: modem.url in the settings)"
    send = actions.add_parser("send", help="send one SMS and print its message references")
    send.add_argument("--to", required=True, help="Vietnamese mobile number")
    send.add_argument("--text", required=True)
    send.add_argument("--modem", help=modem_help)
    send.set_defaults(handler=_sms_send)
    status = actions.add_parser("status", help="SIM, registration and signal as JSON")
    status.add_argument("--modem", help=modem_help)
    status.set_defaults(handler=_sms_status)


def _body_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The box's body: the LED panel, the station's kiosk window, and the technician's checks."""
    panel = sub.add_parser("panel", help="status LEDs and the shutdown button (gpiozero)")
    panel.set_defaults(handler=_panel)
    kiosk = sub.add_parser("kiosk", help="the station touchscreen's fullscreen window")
    kiosk.add_argument("--url", help="a local station URL (default: kiosk.url or the local web)")
    kiosk.set_defaults(handler=_kiosk)
    doctor = sub.add_parser("doctor", help="check the box's health; exit 0 only if all is well")
    doctor.add_argument("--json", action="store_true", help='print {"checks": [...]} as JSON')
    doctor.set_defaults(handler=_doctor)


def _provision_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The district technician's tool (provisioning/): images, enrolment tokens, posters."""
    from provisioning.cli import register

    register(sub)


def _panel(args: argparse.Namespace) -> int:
    from appliance.panel import run_command

    return run_command(_settings(args))


def _kiosk(args: argparse.Namespace) -> int:
    from appliance.kiosk import run_command

    return run_command(_settings(args), args.url)


def _doctor(args: argparse.Namespace) -> int:
    from appliance.doctor import run_command

    return run_command(_settings(args), as_json=args.json)


def _sms_send(args: argparse.Namespace) -> int:
    from appliance.sms_cli import send_command

    return send_command(_settings(args), args.modem, args.to, args.text)


def _sms_status(args: argparse.Namespace) -> int:
    from appliance.sms_cli import status_command

    return status_command(_settings(args), args.modem)


def _relay(args: argparse.Namespace) -> int:
    from appliance.relay.daemon import run_command

    return run_command(_settings(args), once=args.once)


def _enroll(args: argparse.Namespace) -> int:
    from appliance.relay.enroll import enroll_command, read_token_file

    token = args.token if args.token_file is None else read_token_file(args.token_file)
    return enroll_command(_settings(args), args.upstream, token)


def _upstream_settings(args: argparse.Namespace) -> UpstreamSettings:
    import dataclasses

    from upstream.settings import UpstreamSettingsError, from_env

    try:
        found = from_env()
    except UpstreamSettingsError as exc:
        raise SettingsError(str(exc)) from None
    return dataclasses.replace(found, db_url=args.db) if args.db else found


def _upstream_serve(args: argparse.Namespace) -> int:
    from upstream.cli import serve

    return serve(_upstream_settings(args), args.host, args.port, args.threads)


def _upstream_token(args: argparse.Namespace) -> int:
    from upstream.cli import new_token

    return new_token(_upstream_settings(args), args.hamlet, args.days)


def _upstream_dump(args: argparse.Namespace) -> int:
    from upstream.cli import dump

    return dump(_upstream_settings(args))


def _upstream_officer_add(args: argparse.Namespace) -> int:
    from appliance.accounts import AccountError, read_password
    from upstream.cli import add_officer

    settings = _upstream_settings(args)
    try:
        return add_officer(settings, args.name, read_password(args.password_stdin))
    except AccountError as exc:
        print(f"hamletbox: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _id_read(args: argparse.Namespace) -> int:
    from appliance.capture.idcard import read_command

    return read_command(args.images)


def _scan(args: argparse.Namespace) -> int:
    from appliance.capture.pages import scan_command

    return scan_command(args.images, args.output, args.mode)


def _user_add(args: argparse.Namespace) -> int:
    from appliance.accounts import add_user_command

    return add_user_command(_settings(args), args.name, args.role, args.password_stdin)


def _dossier_create(args: argparse.Namespace) -> int:
    from appliance.intake import create_command

    return create_command(_settings(args), args)


def _settings(args: argparse.Namespace) -> Settings:
    return config.load(args.config)


def _config_check(args: argparse.Namespace) -> int:
    settings = config.load(args.file or args.config)
    _check_catalog_file(settings.catalog.override)
    print(f"# {settings.source}")
    print(json.dumps(config.effective(settings), ensure_ascii=False, indent=2))
    return 0


def _check_catalog_file(path: Path | None) -> None:
    if path is not None:
        from appliance.catalog_source import load_builtin, load_override

        load_override(path, load_builtin())


def _catalog_check(args: argparse.Namespace) -> int:
    from appliance.catalog_source import load_builtin, load_override

    catalog = load_override(args.file, load_builtin())
    print(f"{args.file}: OK, {len(catalog.procedures)} procedures")
    return 0


def _db_upgrade(args: argparse.Namespace) -> int:
    from appliance.store import migrate
    from appliance.store.db import make_engine

    settings = _settings(args)
    config.prepare_data_dir(settings)
    engine = make_engine(settings.database_path)
    migrate.upgrade(engine, args.revision)
    print(f"{settings.database_path}: at revision {migrate.current(engine)}")
    engine.dispose()
    return 0


def _web(args: argparse.Namespace) -> int:
    settings = _settings(args)
    from web.server import serve

    # systemd stops the web with SIGTERM: leave through serve()'s finally (the beat stops, the
    # camera and pins are let go) instead of dying where the signal lands.
    signal.signal(signal.SIGTERM, _exit_quietly)
    serve(settings, host=args.host, port=args.port)
    return 0


def _exit_quietly(_signum: int, _frame: object) -> None:
    raise SystemExit(0)


def _poster_procedure(args: argparse.Namespace) -> int:
    from appliance.catalog_source import for_settings
    from appliance.posters import procedure_poster

    settings = _settings(args)
    catalog = for_settings(settings).current()
    procedure = catalog.get(args.code)
    if procedure is None:
        print(
            f"hamletbox: no procedure with code {args.code} / không có thủ tục mã {args.code}",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    _write(args.output, procedure_poster(settings, procedure, args.lang))
    return 0


def _poster_hotspot(args: argparse.Namespace) -> int:
    from appliance.posters import hotspot_poster

    _write(args.output, hotspot_poster(_settings(args)))
    return 0


def _write(path: Path, data: bytes) -> None:
    """Write all or nothing: a half-written PDF never replaces a good one."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    print(f"{path}: {len(data)} bytes")


def _demo(args: argparse.Namespace) -> int:
    from appliance.demo import run_demo

    return run_demo(args.dir, args.port)


if __name__ == "__main__":
    sys.exit(main())
