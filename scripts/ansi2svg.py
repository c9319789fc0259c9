#!/usr/bin/env python3
"""Turns a terminal capture with ANSI colours (`tmux capture-pane -e -p`) into an SVG.

Standard library only. Understands the SGR codes a curses program emits through tmux: reset, bold, dim,
italic, underline, reverse, the 8/16 colours, 256-colour (38;5;n / 48;5;n) and true colour (38;2;r;g;b).
Every cell is one column wide; each run of cells with one style is a <text> stretched to its exact width
(textLength), so the columns line up whatever monospace font the viewer picks.

    python3 scripts/ansi2svg.py capture.ans out.svg [--cols 120] [--rows 40] [--title TEXT]
"""
import argparse
import html
import re
import sys
import unicodedata

BG = (0x1c, 0x1c, 0x1c)   # the terminal's background
FG = (0xd0, 0xd0, 0xd0)   # its default foreground

# xterm's 16 colours.
BASE16 = [
    (0x00, 0x00, 0x00), (0xcd, 0x00, 0x00), (0x00, 0xcd, 0x00), (0xcd, 0xcd, 0x00),
    (0x00, 0x00, 0xee), (0xcd, 0x00, 0xcd), (0x00, 0xcd, 0xcd), (0xe5, 0xe5, 0xe5),
    (0x7f, 0x7f, 0x7f), (0xff, 0x00, 0x00), (0x00, 0xff, 0x00), (0xff, 0xff, 0x00),
    (0x5c, 0x5c, 0xff), (0xff, 0x00, 0xff), (0x00, 0xff, 0xff), (0xff, 0xff, 0xff),
]


def colour256(n):
    if n < 16:
        return BASE16[n]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return (steps[n // 36], steps[(n // 6) % 6], steps[n % 6])
    v = 8 + 10 * (n - 232)
    return (v, v, v)


class Style:
    __slots__ = ("fg", "bg", "bold", "dim", "italic", "underline", "reverse")

    def __init__(self):
        self.reset()

    def reset(self):
        self.fg = None; self.bg = None
        self.bold = self.dim = self.italic = self.underline = self.reverse = False

    def copy(self):
        s = Style()
        for k in self.__slots__:
            setattr(s, k, getattr(self, k))
        return s

    def key(self):
        return tuple(getattr(self, k) for k in self.__slots__)

    def apply(self, params):
        p = [int(x) if x else 0 for x in params.split(";")] if params else [0]
        i = 0
        while i < len(p):
            c = p[i]
            if c == 0: self.reset()
            elif c == 1: self.bold = True
            elif c == 2: self.dim = True
            elif c == 3: self.italic = True
            elif c == 4: self.underline = True
            elif c == 7: self.reverse = True
            elif c == 22: self.bold = self.dim = False
            elif c == 23: self.italic = False
            elif c == 24: self.underline = False
            elif c == 27: self.reverse = False
            elif 30 <= c <= 37: self.fg = BASE16[c - 30]
            elif c == 39: self.fg = None
            elif 40 <= c <= 47: self.bg = BASE16[c - 40]
            elif c == 49: self.bg = None
            elif 90 <= c <= 97: self.fg = BASE16[c - 90 + 8]
            elif 100 <= c <= 107: self.bg = BASE16[c - 100 + 8]
            elif c in (38, 48) and i + 1 < len(p):
                if p[i + 1] == 5 and i + 2 < len(p):
                    col = colour256(p[i + 2]); i += 2
                elif p[i + 1] == 2 and i + 4 < len(p):
                    col = tuple(p[i + 2:i + 5]); i += 4
                else:
                    col = None; i += 1
                if c == 38: self.fg = col
                else: self.bg = col
            i += 1

    def colours(self):
        fg = self.fg or FG
        bg = self.bg
        if self.reverse:
            fg, bg = (bg or BG), fg
        if self.dim:
            base = bg or BG
            fg = tuple((a + b) // 2 for a, b in zip(fg, base))
        return fg, bg


CSI = re.compile(r"\x1b\[([0-9;?]*)([A-Za-z])|\x1b[()][0-9A-Za-z]|\x1b.")


def parse(text, cols, rows):
    """A grid of (char, Style) cells, rows x cols."""
    grid = []
    style = Style()
    for line in text.split("\n")[:rows]:
        row = []
        pos = 0
        for m in CSI.finditer(line):
            for ch in line[pos:m.start()]:
                add(row, ch, style)
            if m.group(2) == "m":
                style.apply(m.group(1))
            pos = m.end()
        for ch in line[pos:]:
            add(row, ch, style)
        row = row[:cols]
        grid.append(row + [(" ", Style())] * (cols - len(row)))
    while len(grid) < rows:
        grid.append([(" ", Style())] * cols)
    return grid


def add(row, ch, style):
    if ch == "\r" or unicodedata.category(ch) in ("Mn", "Me"):
        return
    if ch == "\t":
        while True:
            row.append((" ", style.copy()))
            if len(row) % 8 == 0:
                return
    row.append((ch, style.copy()))
    if unicodedata.east_asian_width(ch) in ("W", "F"):
        row.append(("", style.copy()))


def hexc(c):
    return "#%02x%02x%02x" % c


def svg(grid, cols, rows, title, cw=8.4, ch=17.0, font=14.0, pad=12.0):
    width = cols * cw + 2 * pad
    height = rows * ch + 2 * pad
    out = [
        '<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.1f %.1f">'
        % (width, height, width, height),
        "<title>%s</title>" % html.escape(title),
        '<rect width="100%%" height="100%%" rx="6" fill="%s"/>' % hexc(BG),
        '<g font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="%.0f" '
        'xml:space="preserve">' % font,
    ]
    for r, row in enumerate(grid):
        y = pad + r * ch
        # Backgrounds: runs of one colour.
        c = 0
        while c < cols:
            _, bg = row[c][1].colours()
            e = c
            while e < cols and row[e][1].colours()[1] == bg:
                e += 1
            if bg is not None:
                out.append('<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>'
                           % (pad + c * cw, y, (e - c) * cw, ch, hexc(bg)))
            c = e
        # Text: runs of one style, blanks dropped.
        c = 0
        while c < cols:
            st = row[c][1]
            k = (st.colours()[0], st.bold, st.italic, st.underline)
            e = c
            while e < cols and (row[e][1].colours()[0], row[e][1].bold, row[e][1].italic, row[e][1].underline) == k:
                e += 1
            text = "".join(x[0] for x in row[c:e])
            stripped = text.rstrip(" ")
            lead = len(stripped) - len(stripped.lstrip(" "))
            body = stripped.lstrip(" ")
            if body:
                n = len(stripped) - lead
                attrs = ['x="%.1f"' % (pad + (c + lead) * cw), 'y="%.1f"' % (y + ch * 0.78)]
                if n > 1:
                    attrs.append('textLength="%.1f" lengthAdjust="spacingAndGlyphs"' % (n * cw))
                if k[0] != FG:
                    attrs.append('fill="%s"' % hexc(k[0]))
                else:
                    attrs.append('fill="%s"' % hexc(FG))
                if k[1]: attrs.append('font-weight="bold"')
                if k[2]: attrs.append('font-style="italic"')
                if k[3]: attrs.append('text-decoration="underline"')
                out.append("<text %s>%s</text>" % (" ".join(attrs), html.escape(body, quote=False)))
            c = e
    out.append("</g></svg>")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("capture")
    ap.add_argument("output")
    ap.add_argument("--cols", type=int, default=120)
    ap.add_argument("--rows", type=int, default=40)
    ap.add_argument("--title", default="btviz explorer")
    a = ap.parse_args()
    with open(a.capture, encoding="utf-8", errors="replace") as f:
        text = f.read()
    grid = parse(text, a.cols, a.rows)
    with open(a.output, "w", encoding="utf-8") as f:
        f.write(svg(grid, a.cols, a.rows, a.title))


if __name__ == "__main__":
    sys.exit(main())
