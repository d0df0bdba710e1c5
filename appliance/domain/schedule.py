"""Help hours: when volunteers are at the station, written in settings as "thu 08:00-11:00".

Days are `daily`, a day (`mon` … `sun`), a range (`mon-fri`) or a list (`tue,thu`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = {
    "vi": ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
EVERY_DAY = {"vi": "Hằng ngày", "en": "Every day"}
_LINE = re.compile(
    r"^\s*(?P<days>[a-z,\-]+)\s+(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})\s*$"
)


class ScheduleError(ValueError):
    """A help-hours line that cannot be read."""


@dataclass(frozen=True)
class HelpHour:
    days: tuple[int, ...]  # 0 = Monday
    start: time
    end: time

    def label(self, lang: str) -> str:
        names = DAY_NAMES.get(lang, DAY_NAMES["vi"])
        if len(self.days) == 7:
            days = EVERY_DAY.get(lang, EVERY_DAY["vi"])
        elif len(self.days) > 2 and self.days == tuple(range(self.days[0], self.days[-1] + 1)):
            days = f"{names[self.days[0]]} – {names[self.days[-1]]}"
        else:
            days = ", ".join(names[d] for d in self.days)
        return f"{days}: {self.start:%H:%M}–{self.end:%H:%M}"


def parse_help_hours(lines: tuple[str, ...] | list[str]) -> tuple[HelpHour, ...]:
    return tuple(parse_help_hour(line) for line in lines)


def parse_help_hour(line: str) -> HelpHour:
    match = _LINE.match(line.lower())
    if not match:
        raise ScheduleError(f"'{line}' is not like 'thu 08:00-11:00'")
    start, end = _time(match["start"], line), _time(match["end"], line)
    if end <= start:
        raise ScheduleError(f"'{line}': the end must come after the start")
    return HelpHour(_days(match["days"], line), start, end)


def _time(text: str, line: str) -> time:
    hours, minutes = (int(part) for part in text.split(":"))
    if hours > 23 or minutes > 59:
        raise ScheduleError(f"'{line}': {text} is not a time of day")
    return time(hours, minutes)


def _days(text: str, line: str) -> tuple[int, ...]:
    if text == "daily":
        return tuple(range(7))
    days: set[int] = set()
    for part in text.split(","):
        first, _, last = part.partition("-")
        if first not in DAYS or (last and last not in DAYS):
            raise ScheduleError(f"'{line}': days are daily, mon … sun, mon-fri or tue,thu")
        a, b = DAYS.index(first), DAYS.index(last or first)
        if b < a:
            raise ScheduleError(f"'{line}': a day range must run forwards, like mon-fri")
        days.update(range(a, b + 1))
    return tuple(sorted(days))


@dataclass(frozen=True)
class Window:
    """A daily stretch of local time, such as "22:00-06:00" (it may run past midnight): when the
    relay may send, for a commune that pays for its link by the hour or shares it by day."""

    start: time
    end: time

    def contains(self, moment: time) -> bool:
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end

    def seconds_until_open(self, moment: time) -> int:
        """0 when open; otherwise the whole seconds until the window next opens."""
        if self.contains(moment):
            return 0
        now = moment.hour * 3600 + moment.minute * 60 + moment.second
        opens = self.start.hour * 3600 + self.start.minute * 60
        return (opens - now) % 86400


_WINDOW = re.compile(r"^\s*(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})\s*$")


def parse_window(text: str) -> Window | None:
    """None for an empty setting (send at any time); a ScheduleError for anything unreadable."""
    if not text.strip():
        return None
    match = _WINDOW.match(text)
    if not match:
        raise ScheduleError(f"'{text}' is not like '22:00-06:00'")
    start, end = _time(match["start"], text), _time(match["end"], text)
    if start == end:
        raise ScheduleError(f"'{text}': the start and the end must differ")
    return Window(start, end)
