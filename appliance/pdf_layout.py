"""An A4 page for posters: embedded Unicode fonts, text that shrinks to fit, vector QR codes.

fpdf2 and segno are imported inside the functions that need them: posters are printed rarely, and
the web process must start light.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, cast

from appliance.errors import HamletBoxError

if TYPE_CHECKING:
    from fpdf import FPDF

PT = 25.4 / 72  # millimetres in a typographic point
LEADING = 1.22  # line height as a multiple of the font size
PAGE_W, PAGE_H, MARGIN = 210.0, 297.0, 12.0
A5_W, A5_H = 148.0, 210.0  # receipts: half an A4 sheet, as one-stop slips are printed
CONTENT_W = PAGE_W - 2 * MARGIN
QUIET_ZONE = 4  # modules of white around a QR code, as the standard asks
SCALES = (1.0, 0.92, 0.85, 0.78, 0.72, 0.66, 0.6)  # tried in turn until a text block fits
READABLE = 0.78  # below this, a list from two metres away is better shortened than shrunk
# A fixed creation date makes the same settings give the same bytes (easy to compare and cache).
CREATED = datetime(2025, 1, 1, tzinfo=UTC)
FONT_PACKAGE = "fonts-dejavu-core"
ELLIPSIS = "…"


@dataclass(frozen=True)
class FontFiles:
    regular: Path
    bold: Path


def _pair(folder: str, regular: str, bold: str) -> FontFiles:
    return FontFiles(Path(folder, regular), Path(folder, bold))


# Fonts with every precomposed Vietnamese letter; the first pair found on this machine wins.
FONT_CANDIDATES = (
    _pair("/usr/share/fonts/truetype/dejavu", "DejaVuSans.ttf", "DejaVuSans-Bold.ttf"),
    _pair("/usr/share/fonts/truetype/noto", "NotoSans-Regular.ttf", "NotoSans-Bold.ttf"),
    _pair("/usr/share/fonts/noto", "NotoSans-Regular.ttf", "NotoSans-Bold.ttf"),
    _pair("/usr/share/fonts/google-noto", "NotoSans-Regular.ttf", "NotoSans-Bold.ttf"),
)
# A monospaced face keeps l/1/I and O/0 apart in passwords; the sans face stands in if missing.
MONO_CANDIDATES = (
    _pair("/usr/share/fonts/truetype/dejavu", "DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf"),
    _pair("/usr/share/fonts/truetype/noto", "NotoSansMono-Regular.ttf", "NotoSansMono-Bold.ttf"),
)


class PosterError(HamletBoxError):
    """A poster cannot be made on this machine; the message says what to install."""


def find_fonts(candidates: Sequence[FontFiles] | None = None) -> FontFiles:
    """The first installed font pair, or an error naming every path tried and the Debian package."""
    candidates = FONT_CANDIDATES if candidates is None else candidates
    found = _first_installed(candidates)
    if found is None:
        tried = ", ".join(str(path) for c in candidates for path in (c.regular, c.bold))
        raise PosterError(
            "no Unicode font for Vietnamese text / không tìm thấy phông chữ tiếng Việt; "
            f"tried {tried}; install the Debian package {FONT_PACKAGE} "
            f"(apt-get install {FONT_PACKAGE})"
        )
    return found


def _first_installed(candidates: Iterable[FontFiles]) -> FontFiles | None:
    return next((c for c in candidates if c.regular.is_file() and c.bold.is_file()), None)


@dataclass(frozen=True)
class Line:
    """One paragraph of a text block. Sizes are points at full scale; gap is millimetres above."""

    text: str
    size: float
    bold: bool = False
    gap: float = 0.0
    gray: bool = False
    mono: bool = False
    tick: bool = False  # an empty checkbox before the text, for "bring this" lists
    align: str = "L"
    max_lines: int = 3  # longer text is cut with an ellipsis rather than pushing the page over


class Page:
    """One portrait page (A4, or (width, height) in mm such as A5 for receipts) that text blocks
    and QR codes are placed on, in millimetres."""

    def __init__(
        self,
        title: str,
        lang: str,
        fonts: FontFiles | None = None,
        paper: str | tuple[float, float] = "A4",
    ) -> None:
        from fpdf import FPDF

        fonts = fonts or find_fonts()
        mono = _first_installed(MONO_CANDIDATES) or fonts
        pdf = FPDF(orientation="P", unit="mm", format=paper)
        pdf.set_auto_page_break(False)
        pdf.set_margins(MARGIN, MARGIN, MARGIN)
        pdf.c_margin = 0
        pdf.set_creation_date(CREATED)
        pdf.set_title(_nfc(title))
        pdf.set_lang("en" if lang == "en" else "vi")
        for family, files in (("sans", fonts), ("mono", mono)):
            pdf.add_font(family, "", files.regular)
            pdf.add_font(family, "B", files.bold)
        pdf.add_page()
        self.pdf: FPDF = pdf

    def output(self) -> bytes:
        return bytes(self.pdf.output())

    def fits(
        self, lines: Sequence[Line], width: float, height: float, scale: float = SCALES[-1]
    ) -> bool:
        """Whether the block fits at this scale (by default the smallest we allow)."""
        return self.measure(lines, width, scale) <= height

    def block(
        self, lines: Sequence[Line], x: float, y: float, width: float, height: float
    ) -> float:
        """Draw the lines inside the box and return the height used.

        The largest scale at which nothing is cut wins; failing that, the largest that fits with
        ellipses. If even the smallest scale does not fit, trailing lines are left off: a cut
        poster is better than text running off the paper.
        """
        kept = list(lines)
        while kept and not self.fits(kept, width, height):
            kept.pop()
        fitting = [s for s in SCALES if self.measure(kept, width, s) <= height] or [SCALES[-1]]
        whole = [s for s in fitting if not self._cut(kept, width, s)]
        scale = (whole or fitting)[0]
        top = y
        for line in kept:
            y = self._draw(line, x, y, width, scale)
        return y - top

    def measure(self, lines: Sequence[Line], width: float, scale: float) -> float:
        return sum(
            line.gap * scale + len(self._wrap(line, width, scale)) * _height(line, scale)
            for line in lines
        )

    def _cut(self, lines: Sequence[Line], width: float, scale: float) -> bool:
        """Whether any line needs more than its max_lines at this scale."""
        return any(len(self._lines(line, width, scale)) > line.max_lines for line in lines)

    def _draw(self, line: Line, x: float, y: float, width: float, scale: float) -> float:
        pdf, y = self.pdf, y + line.gap * scale
        indent = _indent(line, scale)
        if line.tick:
            self._tick(x, y, line.size * scale * PT)
        pdf.set_text_color(90 if line.gray else 0)
        for text in self._wrap(line, width, scale):
            pdf.set_xy(x + indent, y)
            pdf.cell(width - indent, _height(line, scale), text, align=line.align)
            y += _height(line, scale)
        return y

    def _wrap(self, line: Line, width: float, scale: float) -> list[str]:
        """The text broken into lines that fit the width, cut at max_lines with an ellipsis."""
        found = self._lines(line, width, scale)
        if len(found) <= line.max_lines:
            return found
        inner = width - _indent(line, scale)
        last = found[line.max_lines - 1]
        while last and self.pdf.get_string_width(last + ELLIPSIS) > inner:
            last = last[:-1]
        return [*found[: line.max_lines - 1], last.rstrip() + ELLIPSIS]

    def _lines(self, line: Line, width: float, scale: float) -> list[str]:
        """The text broken into lines that fit the width; leaves the line's font selected."""
        pdf, text, style = self.pdf, _nfc(line.text), "B" if line.bold else ""
        pdf.set_font("mono" if line.mono else "sans", style, line.size * scale)
        cmap = getattr(pdf.current_font, "cmap", None)  # an embedded TTF's characters
        if line.mono and cmap is not None and any(ord(char) not in cmap for char in text):
            # The mono face lacks some Vietnamese letters ("ố"): a name must print whole.
            pdf.set_font("sans", style, line.size * scale)
        inner = width - _indent(line, scale)
        found = pdf.multi_cell(inner, text=text, dry_run=True, output="LINES")
        return cast(list[str], found)

    def _tick(self, x: float, y: float, size: float) -> None:
        self.pdf.set_draw_color(0)
        self.pdf.set_line_width(0.5)
        self.pdf.rect(x, y + size * 0.3, size * 0.85, size * 0.85, style="D")

    def rule(self, y: float, x: float = MARGIN, width: float = CONTENT_W) -> None:
        self.pdf.set_draw_color(0)
        self.pdf.set_line_width(0.6)
        self.pdf.line(x, y, x + width, y)

    def qr(self, payload: str, x: float, y: float, size: float) -> None:
        """Draw a QR code as filled rectangles, quiet zone included, in a size x size square.

        Vectors stay crisp at any print size. Error level Q survives a scuffed or sun-faded print.
        Text beyond ASCII (a Vietnamese network name) goes as UTF-8 marked with an ECI header:
        without it, standard readers such as ZBar take the bytes for Latin-1.
        """
        import segno

        code = segno.make_qr(
            payload, error="q", boost_error=False, encoding="utf-8", eci=not payload.isascii()
        )
        rows = [list(row) for row in code.matrix_iter(scale=1, border=0)]
        module = size / (len(rows) + 2 * QUIET_ZONE)
        pdf = self.pdf
        pdf.set_fill_color(255)
        pdf.rect(x, y, size, size, style="F")
        pdf.set_fill_color(0)
        for r, row in enumerate(rows):
            for start, length in _dark_runs(row):
                left = x + (QUIET_ZONE + start) * module
                top = y + (QUIET_ZONE + r) * module
                pdf.rect(left, top, length * module, module, style="F")


def _dark_runs(row: Sequence[object]) -> list[tuple[int, int]]:
    """(start, length) of each run of dark modules: one rectangle per run keeps the PDF small."""
    runs: list[tuple[int, int]] = []
    start = None
    for i, dark in enumerate([*row, False]):
        if dark and start is None:
            start = i
        elif not dark and start is not None:
            runs.append((start, i - start))
            start = None
    return runs


def _height(line: Line, scale: float) -> float:
    return line.size * scale * PT * LEADING


def _indent(line: Line, scale: float) -> float:
    return line.size * scale * PT * 1.5 if line.tick else 0.0


def _nfc(text: str) -> str:
    """Precomposed letters: decomposed diacritics would land beside their letter, not on it."""
    return unicodedata.normalize("NFC", text)
