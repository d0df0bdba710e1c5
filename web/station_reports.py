"""Reports and the assistance log at the station (nested under the station blueprint).

The figures the commune reports upward, over the last 4, 12 or 52 weeks: big numbers, two SVG
charts each with its table, and a CSV for Excel. The assistance log counts help given without a
dossier: one tap per piece of help, no resident's details.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from appliance.domain import reports
from appliance.domain.reports import Figures, Week
from appliance.receipts import VIETNAM, local_time
from appliance.store.assistance_repo import NOTE_MAX, AssistanceError, AssistanceRepo
from appliance.store.reports_repo import ReportsRepo
from appliance.store.tables import ASSIST_KINDS, DOSSIER_STATUSES
from web import charts
from web.auth import current_user
from web.context import services
from web.errors import error_page
from web.headers import no_store
from web.i18n import _, current_lang
from web.station_queue import procedure_name
from web.wording import N_, said, status_label

bp = Blueprint("reports", __name__)

ASSIST_LABELS = {
    "vneid": N_("Cài đặt VNeID"),
    "account": N_("Tạo tài khoản Cổng dịch vụ công"),
    "explained": N_("Giải thích thủ tục"),
    "lookup": N_("Tra cứu hồ sơ"),
    "other": N_("Việc khác"),
}
CSV_STATUSES = tuple(status for status in DOSSIER_STATUSES if status != "draft")


@dataclass(frozen=True)
class Line:
    """One figure as the page shows it big and the CSV lists it: what, how much, and a note."""

    label: str
    value: str
    note: str | None = None


def _now() -> datetime:
    return datetime.now(UTC)


def _figures() -> Figures:
    weeks = reports.period_weeks(request.args.get("tuan"))
    period = reports.last_weeks(_now(), weeks, VIETNAM)
    return ReportsRepo(services().sessions).figures(period)


@bp.get("/bao-cao")
def page() -> str:
    found = _figures()
    weekly = [(week_label(week), count) for week, count in found.by_week]
    procedures = [(procedure_name(code), count) for code, count in found.by_procedure]
    return render_template(
        "station/reports.html",
        f=found,
        weeks=len(found.period.weeks),
        choices=reports.PERIOD_WEEKS,
        lines=summary(found),
        weekly=weekly,
        procedures=procedures,
        statuses=[(status_label(status), n) for status, n in found.by_status.items()],
        helped=[(assist_label(kind), found.assistance.get(kind, 0)) for kind in ASSIST_KINDS],
        week_chart=charts.columns(_("Số hồ sơ đã nộp theo tuần"), _short(found), "bd-tuan"),
        procedure_chart=charts.rows(_("Số hồ sơ theo thủ tục"), procedures, "bd-thu-tuc"),
        week_label=week_label,
        day=_day,
        clock_day=local_time(found.period.end).strftime("%d/%m/%Y"),
    )


@bp.get("/bao-cao.csv")
def csv_file() -> Response:
    """UTF-8 with a BOM, so Excel shows Vietnamese: week × procedure rows, then the summary."""
    found = _figures()
    out = io.StringIO()
    out.write("\ufeff")
    write_csv(csv.writer(out), found)
    first = found.period.start.date().isoformat()
    last = local_time(found.period.end).date().isoformat()
    response = Response(out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="bao-cao-{first}-{last}.csv"'
    return no_store(response)


def write_csv(writer: Any, found: Figures) -> None:
    head = [_("Tuần"), _("Từ ngày"), _("Mã thủ tục"), _("Thủ tục"), _("Tổng")]
    writer.writerow(head + [status_label(status) for status in CSV_STATUSES])
    for (week, code), counts in found.by_week_procedure.items():
        first = [week_label(week), week.monday.isoformat(), code, procedure_name(code)]
        writer.writerow(first + [sum(counts.values())] + [counts[s] for s in CSV_STATUSES])
    writer.writerow([])
    writer.writerow([_("Chỉ số"), _("Giá trị"), _("Ghi chú")])
    for line in summary(found):
        writer.writerow([line.label, line.value, line.note or ""])
    for kind in ASSIST_KINDS:
        label = _("Trợ giúp: %(kind)s", kind=assist_label(kind))
        writer.writerow([label, found.assistance.get(kind, 0), ""])


def summary(found: Figures) -> list[Line]:
    """The period's headline figures, in the page's language."""
    ratings = found.ratings
    return [
        Line(_("Hồ sơ đã nộp"), str(found.dossiers)),
        Line(
            _("Thời gian từ khi nộp đến khi có kết quả (trung vị)"),
            _("%(days)s ngày", days=decimal(found.median_days))
            if found.median_days is not None
            else "—",
            _("Tính trên %(n)s hồ sơ đã có kết quả", n=found.with_result),
        ),
        Line(
            _("Gửi lên xã trong vòng 24 giờ"),
            percent(found.within_24h.value),
            _(
                "%(part)s trên %(whole)s hồ sơ; chỉ tính hồ sơ nộp cách đây từ 24 giờ trở lên",
                part=found.within_24h.part,
                whole=found.within_24h.whole,
            ),
        ),
        Line(_("Lượt đánh giá"), str(ratings.count)),
        Line(
            _("Điểm đánh giá trung bình"),
            _("%(stars)s / 5 sao", stars=decimal(ratings.average))
            if ratings.average is not None
            else "—",
        ),
        Line(
            _("Tỷ lệ hài lòng"),
            percent(ratings.satisfaction.value),
            _("Tỷ lệ lượt đánh giá 4 hoặc 5 sao"),
        ),
        Line(_("Trợ giúp không cần hồ sơ"), str(sum(found.assistance.values()))),
    ]


@bp.get("/tro-giup")
def assistance() -> str:
    user = current_user()
    return render_template(
        "station/assistance.html",
        kinds=[(kind, assist_label(kind)) for kind in ASSIST_KINDS],
        entries=AssistanceRepo(services().sessions).today(_now(), VIETNAM),
        me=user.name if user else "",
        assist_label=assist_label,
        note_max=NOTE_MAX,
        clock=lambda moment: local_time(moment).strftime("%H:%M"),
    )


@bp.post("/tro-giup")
def record() -> Response:
    kind = request.form.get("kind", "")
    try:
        AssistanceRepo(services().sessions).record(
            kind, request.form.get("note"), _volunteer(), _now()
        )
    except AssistanceError as exc:
        return error_page(400, _("Không ghi được trợ giúp"), said(exc))
    flash(_("Đã ghi: %(kind)s", kind=assist_label(kind)), "done")
    return no_store(redirect(url_for(".assistance"), 303))


@bp.post("/tro-giup/<int:entry_id>/xoa")
def take_back(entry_id: int) -> Response:
    """A mistaken tap: the volunteer's own entry of today, and only that, is removed."""
    repo = AssistanceRepo(services().sessions)
    if repo.take_back(entry_id, _volunteer(), _now(), VIETNAM):
        flash(_("Đã xóa mục vừa ghi."), "done")
    else:
        flash(_("Chỉ xóa được mục của chính bạn, ghi trong hôm nay."), "problem")
    return no_store(redirect(url_for(".assistance"), 303))


def _volunteer() -> str:
    user = current_user()
    return user.name if user else "station"


def assist_label(kind: str) -> str:
    message = ASSIST_LABELS.get(kind)
    return kind if message is None else _(message)


def week_label(week: Week) -> str:
    return _("Tuần %(number)s/%(year)s", number=week.number, year=week.year)


def decimal(value: float | None) -> str:
    """One decimal, with a decimal comma in Vietnamese: "4,5"."""
    if value is None:
        return "—"
    text = f"{value:.1f}"
    return text if current_lang() == "en" else text.replace(".", ",")


def percent(value: float | None) -> str:
    return "—" if value is None else f"{round(value * 100)}%"


def _day(week: Week) -> str:
    return week.monday.strftime("%d/%m")


def _short(found: Figures) -> list[tuple[str, int]]:
    """The week chart's labels: the week's number only, the table beneath says the rest."""
    return [(str(week.number), count) for week, count in found.by_week]
