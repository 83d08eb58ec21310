"""Draw Spaces' default icons from their SVG sources with Chromium: run after changing them.

    .venv/bin/python tools/make_icons.py

Writes static/img/favicon.ico (a 32 px PNG in an ICO container), apple-touch-icon.png (180 px)
and share.png (1200×630, the default og:image).
"""

import base64
import struct
from pathlib import Path

from playwright.sync_api import sync_playwright

IMG = Path(__file__).resolve().parent.parent / "static" / "img"
CHROMIUM = "/usr/bin/chromium"


def render(page, svg: Path, width: int, height: int) -> bytes:
    page.set_viewport_size({"width": width, "height": height})
    page.set_content(
        "<style>html,body{margin:0;background:transparent}img{display:block}</style>"
        f'<img src="data:image/svg+xml;base64,{base64.b64encode(svg.read_bytes()).decode()}"'
        f' width="{width}" height="{height}">'
    )
    return page.screenshot(omit_background=True)


def ico(png: bytes, size: int) -> bytes:
    """An ICO file holding one PNG image (allowed since Windows Vista, read by every browser)."""
    header = struct.pack("<HHH", 0, 1, 1)
    entry = struct.pack("<BBBBHHII", size, size, 0, 0, 1, 32, len(png), 6 + 16)
    return header + entry + png


def main() -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        icon = IMG / "favicon.svg"
        (IMG / "favicon.ico").write_bytes(ico(render(page, icon, 32, 32), 32))
        (IMG / "apple-touch-icon.png").write_bytes(render(page, icon, 180, 180))
        (IMG / "share.png").write_bytes(render(page, IMG / "share.svg", 1200, 630))
        browser.close()


if __name__ == "__main__":
    main()
