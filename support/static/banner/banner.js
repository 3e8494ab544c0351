// Reader-support banner. Paste on an article page:
//   <div data-support-banner data-lang="ar" data-source="https://news.example.org/ar/1"></div>
//   <script async src="https://support.example.org/embed/banner.js"></script>
// No dependencies, no cookies, no third parties. What it remembers about the reader
// (dismissed until, supported, impressions today, articles read this month, variant)
// stays in this browser's localStorage and is never sent anywhere.
// Served with indentation, blank lines and whole-line comments stripped: keep
// every comment on its own line and no multi-line strings that care about indentation.
(() => {
  "use strict";
  const d = document;
  const KEY = "supportBanner";
  // Impressions per day before the banner rests until tomorrow.
  const CAP = 5;
  const DAY = 864e5;
  const CSS = `:host{display:block}
.r,section{box-sizing:border-box;min-height:11.5rem;margin:1rem 0}
section{position:relative;font:16px/1.5 system-ui,-apple-system,"Segoe UI","Noto Sans","Noto Sans Arabic",Tahoma,sans-serif;color:#1b1b1f;background:#fff8e1;border:1px solid #d9b84a;border-radius:10px;padding:1rem 1.25rem;text-align:start}
h2{font-size:1.25rem;line-height:1.3;margin:0;padding-inline-end:2.5rem;color:inherit}
p{margin:.5rem 0}
.a{display:flex;flex-wrap:wrap;gap:.5rem}
a{display:inline-block;padding:.4rem .9rem;border:2px solid #0b4fd6;border-radius:6px;background:#fff;color:#0b4fd6;font-weight:600;text-decoration:none}
a.c{background:#0b4fd6;color:#fff}
a:hover{text-decoration:underline}
a:focus-visible,button:focus-visible{outline:3px solid #1b1b1f;outline-offset:2px}
.x{position:absolute;top:.5rem;inset-inline-end:.5rem;width:2.5rem;height:2.5rem;border:0;border-radius:6px;background:none;color:#1b1b1f;font:1.6rem/1 sans-serif;cursor:pointer}
.g{font-size:.9rem;color:#3d3d3d}
.g span{display:block;height:.5rem;margin-top:.25rem;border-radius:4px;background:#eadfb8;overflow:hidden}
.g i{display:block;height:100%;background:#0b4fd6}`;

  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => "&#" + c.charCodeAt(0) + ";");
  const load = () => {
    try {
      return JSON.parse(localStorage.getItem(KEY)) || {};
    } catch (e) {
      return {};
    }
  };
  const me = d.currentScript || d.querySelector('script[src*="/embed/banner.js"]');
  // Staff preview (data-preview on this script tag, /staff/campaigns/SLUG/preview): each
  // host brings its content in data-content; whatever this browser remembers is ignored,
  // and nothing is kept or sent (no impressions counted).
  const P = me && me.hasAttribute("data-preview");
  const save = (s) => {
    try {
      if (!P) localStorage.setItem(KEY, JSON.stringify(s));
    } catch (e) {
      // Storage refused (private mode, quota): the banner still works, it just forgets.
    }
  };
  const clear = (box) => {
    box.innerHTML = "";
  };

  const run = () => {
    const base = new URL(me.src, location.href).origin;
    const state = P ? {} : load();
    const today = new Date().toISOString().slice(0, 10);
    const hosts = [...d.querySelectorAll("[data-support-banner]")].filter((h) => !h.shadowRoot);
    // The thanks page links back to the article with #supported: never ask again.
    if (location.hash === "#supported") state.supported = 1;
    if (state.day !== today) {
      state.day = today;
      state.seen = 0;
    }
    if (hosts.some((h) => h.hasAttribute("data-count-articles"))) {
      const month = today.slice(0, 7);
      if (state.month !== month) {
        state.month = month;
        state.read = 0;
      }
      const nav = performance.getEntriesByType("navigation")[0];
      if (!nav || nav.type !== "reload") state.read = (state.read || 0) + 1;
    }
    save(state);
    if (state.supported || state.until > Date.now() || state.seen >= CAP) return;

    const fetched = {};
    const content = (lang) =>
      fetched[lang] ||
      (fetched[lang] = fetch(base + "/embed/banner.json?lang=" + encodeURIComponent(lang), {
        credentials: "omit",
        referrerPolicy: "no-referrer",
      }).then((r) => {
        if (!r.ok) throw new Error(r.status);
        return r.json();
      }));
    const boxes = [];

    // The appeal needs the article and its campaign tokens only: a newsletter's
    // ?email=... never leaves the article page.
    const article = (s) => {
      try {
        const u = new URL(s);
        const q = new URLSearchParams();
        u.searchParams.forEach((v, k) => /^utm_(source|medium|campaign|content|term)$/.test(k) && q.append(k, v));
        return u.origin + u.pathname + (q.size ? "?" + q : "");
      } catch (e) {
        return "";
      }
    };

    const render = (host, box, b) => {
      const source = host.dataset.source || location.href.split("#")[0];
      // The first running campaign aimed at this article (or at every article), else the
      // default (also for content cached from before campaigns, which has no list).
      const c =
        (b.campaigns || []).find((x) => !x.prefixes.length || x.prefixes.some((p) => source.startsWith(p))) ||
        b;
      const vs = c.variants;
      // The variant drawn once is kept, per campaign, so a reader sees one voice.
      let v = vs.find((x) => c.slug + "/" + x.name === state.v);
      if (!v) {
        let r = Math.random() * vs.reduce((t, x) => t + x.weight, 0);
        v = vs.find((x) => (r -= x.weight) < 0) || vs[0];
        state.v = c.slug + "/" + v.name;
        save(state);
      }
      const link = (u) => esc(u + "&source=" + encodeURIComponent(article(source)));
      const send = (type) => {
        try {
          if (!P)
            navigator.sendBeacon(
              base + "/embed/events",
              JSON.stringify({ type, campaign: c.slug, variant: v.name, lang: b.lang }),
            );
        } catch (e) {
          // No beacon support: the banner is still useful without counting.
        }
      };
      const g = c.goal;
      const read = host.hasAttribute("data-count-articles") && state.read > 1;
      box.innerHTML =
        `<section role="region" aria-label="${esc(b.label)}" lang="${esc(b.lang)}" dir="${esc(b.dir)}">` +
        `<button type="button" class="x" aria-label="${esc(b.dismiss)}">×</button>` +
        `<h2>${esc(v.headline)}</h2><p>${esc(v.text)}</p>` +
        (read ? `<p>${esc(b.articles.replace("{n}", state.read))}</p>` : "") +
        `<p class="a">${v.amounts.map((a) => `<a href="${link(a.url)}">${esc(a.label)}</a>`).join("")}` +
        `<a class="c" href="${link(v.url)}">${esc(v.cta)}</a></p>` +
        (g ? `<p class="g">${esc(g.label)}<span><i></i></span></p>` : "") +
        "</section>";
      // Set through the CSSOM, which a strict style-src on the article page allows.
      if (g) box.querySelector("i").style.width = Math.min(100, (100 * g.supporters) / g.target) + "%";
      const section = box.firstChild;
      section.addEventListener("click", (e) => {
        if (e.target.closest("a")) send("click");
      });
      box.querySelector("button").addEventListener("click", () => {
        state.until = Date.now() + 30 * DAY;
        save(state);
        send("dismiss");
        boxes.forEach(clear);
      });
      const seen = () => {
        state.seen = (state.seen || 0) + 1;
        save(state);
        send("impression");
      };
      if (!window.IntersectionObserver) return seen();
      const watch = new IntersectionObserver(
        (entries) => {
          if (entries.some((e) => e.isIntersecting)) {
            watch.disconnect();
            seen();
          }
        },
        { threshold: 0.5 },
      );
      watch.observe(section);
    };

    hosts.forEach((host) => {
      const root = host.attachShadow({ mode: "open" });
      try {
        // A constructed sheet is not subject to the article page's style-src CSP.
        const sheet = new CSSStyleSheet();
        sheet.replaceSync(CSS);
        root.adoptedStyleSheets = [sheet];
      } catch (e) {
        const style = d.createElement("style");
        style.textContent = CSS;
        root.append(style);
      }
      // Hold the banner's space while its content loads, so nothing below jumps twice.
      const box = d.createElement("div");
      box.className = "r";
      root.append(box);
      boxes.push(box);
      const lang = (host.dataset.lang || d.documentElement.lang || "en").slice(0, 2).toLowerCase();
      (P ? Promise.resolve().then(() => JSON.parse(host.dataset.content)) : content(lang))
        .then((b) => {
          box.className = "";
          render(host, box, b);
        })
        .catch(() => {
          box.className = "";
          clear(box);
        });
    });
  };

  const start = () => {
    try {
      run();
    } catch (e) {
      // Fail silently: the article matters more than the banner.
    }
  };
  if (d.readyState === "loading") d.addEventListener("DOMContentLoaded", start);
  else start();
})();
