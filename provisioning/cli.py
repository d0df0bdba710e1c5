"""`hamletbox provision …`: the subcommands, registered on the main parser by appliance.cli."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    provision = sub.add_parser("provision", help="the technician's tool: images, tokens, posters")
    actions = provision.add_subparsers(metavar="ACTION")
    image = actions.add_parser("image", help="one personalised SD-card image per DEVICES.csv row")
    image.add_argument("--base", type=Path, required=True, help="a Raspberry Pi OS Lite .img")
    image.add_argument("--devices", type=Path, required=True, help="DEVICES.csv")
    image.add_argument("--out", type=Path, required=True, help="folder for <hostname>.img files")
    image.add_argument("--ssh-key", type=Path, help="the technician's .pub key for every box")
    image.set_defaults(handler=_image)
    _register_tools(actions)


def _register_tools(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`enroll`, `poster` and `golden`: tokens from the upstream, posters, the base image."""
    enroll = actions.add_parser("enroll", help="ask the upstream for each row's enrolment token")
    enroll.add_argument("--devices", type=Path, required=True, help="DEVICES.csv (rewritten)")
    enroll.add_argument("--upstream", required=True, help="the upstream's https:// URL")
    enroll.add_argument("--user", required=True, help="your officer account on the upstream")
    enroll.add_argument("--password-stdin", action="store_true", help="read the password")
    enroll.add_argument("--days", type=int, default=14, help="how long the tokens stay valid")
    enroll.add_argument("--renew", action="store_true", help="new tokens for rows that have one")
    enroll.set_defaults(handler=_enroll)
    poster = actions.add_parser("poster", help="each box's 'connect here' poster (PDF)")
    poster.add_argument("--devices", type=Path, required=True, help="DEVICES.csv")
    poster.add_argument("--out", type=Path, required=True, help="folder for <hostname>-wifi.pdf")
    poster.add_argument("--settings", type=Path, help="a template hamletbox.toml (help hours…)")
    poster.set_defaults(handler=_poster)
    golden = actions.add_parser("golden", help="write the golden-image recipe (and run it)")
    golden.add_argument("--out", type=Path, required=True, help="an empty folder for the recipe")
    golden.add_argument("--no-wheel", action="store_true", help="do not build the wheel")
    golden.add_argument("--run", action="store_true", help="then build the image (root)")
    golden.add_argument("--base", type=Path, help="with --run: the Raspberry Pi OS Lite .img")
    golden.add_argument("--image", type=Path, help="with --run: the image to write")
    golden.set_defaults(handler=_golden)


def _image(args: argparse.Namespace) -> int:
    from provisioning.devices import Refused
    from provisioning.personalise import make_images

    try:
        made = make_images(args.base, args.devices, args.out, args.ssh_key)
    except Refused as exc:
        return _refused(exc.problems)
    for image in made:
        print(f"{image.path}: {image.size} bytes; {', '.join(image.files)}")
        if not image.device.token:
            print(
                f"hamletbox: {image.path}: chưa có mã đăng ký, chạy `hamletbox provision enroll`"
                " / no enrolment token yet: run `hamletbox provision enroll` first",
                file=sys.stderr,
            )
    return 0


def _refused(problems: tuple[str, ...]) -> int:
    for problem in problems:
        print(f"hamletbox: {problem}", file=sys.stderr)
    return 2


def _enroll(args: argparse.Namespace) -> int:
    from provisioning.devices import Refused
    from provisioning.enroll import EnrollFailed, Upstream, enroll_sheet

    try:
        ask = Upstream(args.upstream, args.user, _password(args.password_stdin), args.days)
        lines = enroll_sheet(args.devices, ask, renew=args.renew)
    except Refused as exc:
        return _refused(exc.problems)
    except EnrollFailed as exc:
        print(f"hamletbox: {exc}", file=sys.stderr)
        return exc.exit_code
    print("\n".join(lines))
    print(f"{args.devices}: đã ghi / written")
    return 0


def _password(from_stdin: bool) -> str:
    """One line from stdin (scripts), else asked without echo."""
    import getpass

    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return getpass.getpass("Mật khẩu / Password: ")


def _poster(args: argparse.Namespace) -> int:
    from appliance.config import Settings, load
    from provisioning.devices import Refused
    from provisioning.posters import write_posters

    template = load(args.settings, environ={}) if args.settings else Settings()
    try:
        made = write_posters(args.devices, args.out, template)
    except Refused as exc:
        return _refused(exc.problems)
    for path in made:
        print(f"{path}: {path.stat().st_size} bytes")
    return 0


def _golden(args: argparse.Namespace) -> int:
    from provisioning.devices import Refused
    from provisioning.golden import run_recipe, write_recipe

    if args.run and args.base is None:
        return _refused(("--run cần --base RASPIOS.img / --run needs --base RASPIOS.img",))
    try:
        written = write_recipe(args.out, wheel=not args.no_wheel)
        print(f"{args.out}: {len(written)} tệp / files; đọc / read {args.out / 'README.md'}")
        if not args.run:
            return 0
        return run_recipe(args.out, args.base, args.image or args.out / "hamletbox-golden.img")
    except Refused as exc:
        return _refused(exc.problems)
