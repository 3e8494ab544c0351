"""An article page on its own origin that embeds the banner, for the browser tests."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

PARAGRAPH = (
    "<p>The council met on Tuesday to discuss the water supply of the eastern districts. "
    "Residents say the pumps have been silent for three weeks.</p>"
)


ARTICLE = """<!doctype html>
<html lang="{html_lang}"><head><meta charset="utf-8"><title>An article</title>
<script>
window.layoutShift = 0;
new PerformanceObserver((list) => {{
  for (const e of list.getEntries()) if (!e.hadRecentInput) window.layoutShift += e.value;
}}).observe({{type: "layout-shift", buffered: true}});
</script>
<style>body{{font:18px/1.6 Georgia,serif;max-width:40rem;margin:1rem auto;padding:0 1rem}}</style>
</head><body>
<h1 id="title">Water returns to the eastern districts</h1>
{paragraphs}
<div data-support-banner {attributes}></div>
<script async src="{support}/embed/banner.js"></script>
<footer id="footer"><p>Published by an independent newsroom.</p></footer>
</body></html>"""


# The same article with the banner as an iframe (the snippet from /embed/, as given).
IFRAME_ARTICLE = """<!doctype html>
<html lang="{html_lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>An article</title>
<style>body{{font:18px/1.6 Georgia,serif;max-width:40rem;margin:1rem auto;padding:0 1rem}}</style>
</head><body>
<h1 id="title">Water returns to the eastern districts</h1>
{paragraphs}
{snippet}
<footer id="footer"><p>Published by an independent newsroom.</p></footer>
</body></html>"""


class Article:
    """Serves article pages from its own origin (another port on 127.0.0.1)."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                body = pages.get(urlsplit(self.path).path, "").encode()
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def page(self, support: str, attributes: str, html_lang: str = "en", paragraphs: int = 3):
        """Publish an article embedding the banner; its URL."""
        path = f"/article-{len(self.pages)}.html"
        self.pages[path] = ARTICLE.format(
            html_lang=html_lang,
            paragraphs=PARAGRAPH * paragraphs,
            attributes=attributes,
            support=support,
        )
        return self.origin + path

    def iframe_page(self, snippet: str, html_lang: str = "en", paragraphs: int = 1) -> str:
        """Publish an article embedding `snippet` (the iframe banner); its URL."""
        path = f"/framed-{len(self.pages)}.html"
        self.pages[path] = IFRAME_ARTICLE.format(
            html_lang=html_lang, paragraphs=PARAGRAPH * paragraphs, snippet=snippet
        )
        return self.origin + path
