"""A self-contained HTML page: text, facts and PNG plots embedded as base64 data URIs, so the
file can be mailed or opened from disk without anything next to it."""

import base64
import html
from dataclasses import dataclass

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1040px; color: #222; }
h1 { margin-bottom: 0.2rem; } .meta { color: #666; margin-top: 0; }
table.facts td { padding: 0.15rem 1rem 0.15rem 0; } figure { margin: 2rem 0; }
figcaption { color: #666; font-size: 0.9rem; } img { max-width: 100%; }
"""


@dataclass(frozen=True)
class Plot:
    title: str
    png: bytes
    source: str  # the gold table it was computed from


def render_page(title: str, subtitle: str, facts: dict[str, str], plots: list[Plot]) -> str:
    rows = "\n".join(
        f"<tr><td>{html.escape(name)}</td><td><b>{html.escape(value)}</b></td></tr>"
        for name, value in facts.items()
    )
    figures = "\n".join(
        f'<figure id="plot-{number}">\n<h2>{html.escape(plot.title)}</h2>\n'
        f'<img alt="{html.escape(plot.title)}" '
        f'src="data:image/png;base64,{base64.b64encode(plot.png).decode()}">\n'
        f"<figcaption>computed from {html.escape(plot.source)}</figcaption>\n</figure>"
        for number, plot in enumerate(plots, start=1)
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f'<h1>{html.escape(title)}</h1>\n<p class="meta">{html.escape(subtitle)}</p>\n'
        f'<table class="facts">\n{rows}\n</table>\n{figures}\n</body>\n</html>\n'
    )
