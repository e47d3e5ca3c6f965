"""The 30-day disbursement volume chart of the treasury page: SVG drawn here, in Python.

No CDN and no JavaScript library: the page must work on a locked-down staff machine and print.
Bars are the quota used each WIB day, the line is that day's Daily Nominal Total; bars over 90%
of the limit are drawn in the warning colour. Every label is escaped; the numbers are also in a
table next to the chart for screen readers.
"""
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from intrasa.money import format_rupiah

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 96, 12, 16, 36


def _scale(peak: int):
    usable = HEIGHT - TOP - BOTTOM

    def y(value: int) -> float:
        return TOP + usable - (value / peak * usable if peak else 0)

    return y


def volume_chart(days) -> SafeString:
    """``days``: objects with ``day``, ``used`` and ``limit`` (oldest first)."""
    days = list(days)
    if not days:
        return mark_safe("")
    peak = max(max(d.limit for d in days), max(d.used for d in days), 1)
    y = _scale(peak)
    step = (WIDTH - LEFT - RIGHT) / len(days)
    bar = max(step * 0.7, 1)
    title = escape(_("Disbursement volume per day against the daily limit, last %(n)d days") % {"n": len(days)})
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" '
        f'role="img" aria-labelledby="volume-chart-title" class="treasury-chart">',
        f'<title id="volume-chart-title">{title}</title>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{HEIGHT - BOTTOM}" stroke="#999"/>',
        f'<line x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH - RIGHT}" y2="{HEIGHT - BOTTOM}" stroke="#999"/>',
    ]
    for fraction in (0, 0.5, 1):
        value = int(peak * fraction)
        parts.append(f'<text x="{LEFT - 6}" y="{y(value) + 4:.1f}" font-size="11" text-anchor="end">'
                     f'{escape(format_rupiah(value))}</text>')
    limit_points = []
    for index, d in enumerate(days):
        x = LEFT + index * step + (step - bar) / 2
        top = y(d.used)
        colour = "#c0392b" if d.limit and d.used >= d.limit * 0.9 else "#417690"
        label = escape(f"{d.day:%d-%m-%Y}: {format_rupiah(d.used)} / {format_rupiah(d.limit)}")
        parts.append(f'<rect x="{x:.1f}" y="{top:.1f}" width="{bar:.1f}" height="{HEIGHT - BOTTOM - top:.1f}" '
                     f'fill="{colour}" data-day="{d.day.isoformat()}" data-used="{d.used}"><title>{label}</title></rect>')
        limit_points.append(f"{LEFT + index * step:.1f},{y(d.limit):.1f} {LEFT + (index + 1) * step:.1f},{y(d.limit):.1f}")
        if index % 5 == 0 or index == len(days) - 1:
            parts.append(f'<text x="{x + bar / 2:.1f}" y="{HEIGHT - BOTTOM + 14}" font-size="10" '
                         f'text-anchor="middle">{d.day:%d/%m}</text>')
    parts.append(f'<polyline points="{" ".join(limit_points)}" fill="none" stroke="#e67e22" stroke-width="2" '
                 f'stroke-dasharray="6 3" class="limit-line"/>')
    legend_used, legend_limit = escape(_("Quota used")), escape(_("Daily limit"))
    parts.append(f'<rect x="{LEFT + 8}" y="{HEIGHT - 14}" width="10" height="10" fill="#417690"/>'
                 f'<text x="{LEFT + 22}" y="{HEIGHT - 5}" font-size="11">{legend_used}</text>'
                 f'<line x1="{LEFT + 130}" y1="{HEIGHT - 9}" x2="{LEFT + 150}" y2="{HEIGHT - 9}" stroke="#e67e22" '
                 f'stroke-width="2" stroke-dasharray="6 3"/>'
                 f'<text x="{LEFT + 156}" y="{HEIGHT - 5}" font-size="11">{legend_limit}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every interpolated text above is escaped
