"""Jinja2 for every server-rendered page: one environment, autoescaped, with the formatting filters.

Templates of the portal (and later the console) extend web/templates/base.html and fill its blocks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

from creditflow.config import Settings
from creditflow.web.formatting import format_date, format_money, format_number, format_time

WEB_DIR = Path(__file__).parent
STATIC_DIR = WEB_DIR / "static"


def build_environment(*template_dirs: Path) -> Environment:
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(str(d)) for d in (*template_dirs, WEB_DIR / "templates")]),
        autoescape=select_autoescape(default=True, default_for_string=True), trim_blocks=True, lstrip_blocks=True,
    )
    env.filters |= {"money": format_money, "number": format_number, "time": format_time, "date": format_date}
    return env


class Pages:
    """Renders a page with what every page needs: branding, the CSRF token, the static files' URLs."""

    def __init__(self, settings: Settings, *template_dirs: Path) -> None:
        self.env = build_environment(*template_dirs)
        self.brand = {
            "name": settings.brand_name, "logo_url": settings.brand_logo_url, "accent": settings.brand_accent_color,
        }

    def render(self, request: Request, name: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
        html = self.env.get_template(name).render(request=request, brand=self.brand, **context)
        return HTMLResponse(html, status_code=status_code)


def static_files() -> StaticFiles:
    """/static: the stylesheet, our few lines of JS, and vendor/ (htmx, Chart.js) copied from npm at install."""
    return StaticFiles(directory=STATIC_DIR)
