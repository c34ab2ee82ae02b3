"""Render a go/no-go page in headless Chromium (run as a subprocess: Playwright's greenlets stay
out of the test process) and print what the first screen holds, as JSON.

usage: python render_page.py PAGE.html SCREENSHOT.png WIDTH HEIGHT SELECTOR...
"""

from __future__ import annotations

import json
import os
import re
import sys

from playwright.sync_api import sync_playwright

CHROMIUM = os.environ.get("CUTOVER_CHROMIUM", "/usr/lib/chromium/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]


def main() -> None:
    page_path, shot, width, height, *selectors = sys.argv[1:]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": int(width), "height": int(height)})
        page.goto(f"file://{page_path}")
        page.wait_for_selector("#cutover-verdict", timeout=10_000)
        found = {"boxes": {s: page.locator(s).bounding_box() for s in selectors},
                 "verdict": page.locator("#cutover-verdict h1").inner_text(),
                 "trigger_rows": page.locator("#cutover-triggers tr").count(),
                 "success_rows": page.locator("#cutover-success tr").count()}
        page.screenshot(path=shot)
        pdf = page.pdf(format="A4")  # "Save as PDF" through the print stylesheet
        found["a4"] = bool(re.search(rb"/MediaBox \[0 0 59[0-9.]+ 84[0-9.]+\]", pdf))
        found["pdf_pages"] = len(re.findall(rb"/Type\s*/Page\b", pdf))
        browser.close()
    print(json.dumps(found))


if __name__ == "__main__":
    main()
