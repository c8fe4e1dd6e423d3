"""Render a :class:`~skdesc.audit.checklist.ChecklistReport` as one self-contained HTML page.

No scripts, no external files: the style sheet is inline and every plot is
a PNG in a ``data:`` URI, so the page opens in any browser, from a mail
attachment or a shared drive, without Python.
"""

import base64
import html
import io

import pandas as pd

_COLOURS = {"pass": "#1a7f37", "warn": "#9a6700", "fail": "#cf222e"}
_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2em auto; max-width: 980px;
       color: #1f2328; line-height: 1.45; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.2em; margin: 0; }
.subtitle { color: #59636e; margin-top: 0; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.88em; }
th, td { border: 1px solid #d1d9e0; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
.badge { display: inline-block; min-width: 3.2em; text-align: center; color: white; font-weight: 600;
         border-radius: 4px; padding: 1px 6px; font-size: 0.85em; text-transform: uppercase; }
.check { border: 1px solid #d1d9e0; border-radius: 6px; padding: 0.8em 1em; margin: 1.2em 0; }
.check-head { display: flex; gap: 0.7em; align-items: center; }
.question { color: #59636e; font-style: italic; margin: 0.3em 0; }
.number { font-size: 1.05em; margin: 0.3em 0; }
.summary { margin: 0.3em 0 0.6em 0; }
img { max-width: 100%; height: auto; display: block; margin: 0.4em 0; }
details summary { cursor: pointer; color: #0969da; }
.footer { color: #59636e; font-size: 0.85em; margin-top: 2em; }
"""


def figure_png(fig, dpi=96):
    """PNG bytes of a matplotlib Figure (no pyplot, no display)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def _image(fig, alt):
    data = base64.b64encode(figure_png(fig)).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _badge(status):
    return f'<span class="badge" style="background:{_COLOURS[status]}">{html.escape(status)}</span>'


def _table(frame, max_rows=15):
    shown = frame.head(max_rows)
    text = shown.to_html(float_format=lambda v: f"{v:.4g}", border=0, escape=True)
    more = "" if len(frame) <= max_rows else f"<p>{len(frame) - max_rows} more rows not shown.</p>"
    return text + more


def render_report(report):
    """The HTML text of a checklist report."""
    from .checklist import _format_number

    counts = report.counts
    context = report.context
    title = f"Descriptor quality checklist: {context.get('dataset', '')}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="subtitle">{counts["pass"]} passed, {counts["warn"]} warnings, {counts["fail"]} failed. '
        "The eight checks of P. Pelz, <i>Materials Genomics</i>, Unit 6 (FAU Erlangen-Nürnberg), slide 49, to run before a descriptor "
        "enters a regression model.</p>",
        "<h2>Data and pipeline</h2><table>",
    ]
    for key, value in context.items():
        if key == "seconds":
            value = f"{value:.1f} s"
        parts.append(f"<tr><th>{html.escape(str(key))}</th><td>{html.escape(str(value))}</td></tr>")
    parts.append("</table>")
    parts.append("<h2>Overview</h2><table><tr><th>#</th><th>check</th><th>status</th><th>number</th></tr>")
    for number, check in enumerate(report.checks, 1):
        parts.append(
            f'<tr><td>{number}</td><td><a href="#{check.key}">{html.escape(check.title)}</a></td>'
            f"<td>{_badge(check.status)}</td><td>{html.escape(check.value_label)} = "
            f"{html.escape(_format_number(check.value))}</td></tr>"
        )
    parts.append("</table>")
    for number, check in enumerate(report.checks, 1):
        parts.append(f'<section class="check" id="{check.key}">')
        parts.append(f'<div class="check-head">{_badge(check.status)}<h2>{number}. {html.escape(check.title)}</h2>'
                     "</div>")
        parts.append(f'<p class="question">{html.escape(check.question)}</p>')
        parts.append(f'<p class="number"><b>{html.escape(check.value_label)}</b>: '
                     f"{html.escape(_format_number(check.value))}</p>")
        parts.append(f'<p class="summary">{html.escape(check.summary)}</p>')
        if check.figure is not None:
            parts.append(_image(check.figure, f"plot of the {check.title.lower()} check"))
        if isinstance(check.details, pd.DataFrame) and len(check.details):
            parts.append(f"<details><summary>table ({len(check.details)} rows)</summary>"
                         f"{_table(check.details)}</details>")
        parts.append("</section>")
    parts.append('<p class="footer">Made by skdesc. Checklist: L. Pelz, Materials Genomics, Unit 6 '
                 "(descriptors), §F.</p></body></html>")
    return "\n".join(parts)


__all__ = ["figure_png", "render_report"]
