"""The built `script.js` in Debian's Chromium, against a local collector standing in for the gateway.

Each page loads the script from the collector's origin with only `data-site-id`, as a site owner
would from their Traytic host; every body that arrives is decoded with the gateway's own
`decode_beacon`. "Nothing was sent" is checked on the page itself (sendBeacon and fetch are
counted) after a flush was forced, not by waiting for silence alone.
"""

from __future__ import annotations

from typing import Any

import pytest
from tests.sdk.local_servers import Collector, Site

from traytic.core.events import CustomEvent, Engagement, ErrorEvent, Pageview, Vital

SITE_ID = "st_browser"

# Stands in for the tab being hidden: headless Chromium keeps every page visible. The vitals
# observer and the tracker both read `document.visibilityState` on `visibilitychange`.
HIDE = """() => {
  Object.defineProperty(document, "visibilityState", { value: "hidden", configurable: true });
  Object.defineProperty(document, "hidden", { value: true, configurable: true });
  document.dispatchEvent(new Event("visibilitychange"));
}"""
SHOW = """() => {
  Object.defineProperty(document, "visibilityState", { value: "visible", configurable: true });
  Object.defineProperty(document, "hidden", { value: false, configurable: true });
  document.dispatchEvent(new Event("visibilitychange"));
}"""


# The page's own record of what the browser measured, to check the reported vitals against:
# the last LCP candidate, the longest event timing entry of an interaction, and the layout
# shifts that were not caused by an input (this page has a single session window, if any).
REFERENCE = """<script>
  window.__ref = { lcp: null, inp: null, cls: 0, shifts: 0, clickTimed: false };
  const refObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (e.entryType === "largest-contentful-paint") __ref.lcp = e.startTime;
      else if (e.entryType === "layout-shift") {
        if (!e.hadRecentInput) { __ref.cls += e.value; __ref.shifts += 1; }
      } else if (e.interactionId) {
        __ref.inp = Math.max(__ref.inp || 0, e.duration);
        if (e.name === "click") __ref.clickTimed = true;
      }
    }
  });
  for (const type of ["largest-contentful-paint", "layout-shift"])
    refObserver.observe({ type, buffered: true });
  refObserver.observe({ type: "event", buffered: true, durationThreshold: 16 });
</script>"""

# Blocks the main thread for 150 ms on click, which gives INP a value.
SLOW_BUTTON = """<button onclick="const t = performance.now(); while (performance.now() - t < 150) {}">
    slow</button>"""


def reference(page: Any) -> dict[str, Any]:
    """What the page itself saw, with FCP and TTFB from the performance timeline."""
    return page.evaluate(
        """() => ({
          ...window.__ref,
          fcp: performance.getEntriesByName("first-contentful-paint")[0].startTime,
          ttfb: performance.getEntriesByType("navigation")[0].responseStart,
        })"""
    )


def vitals_by_name(collector: Collector) -> dict[str, float]:
    vitals = [e for e in collector.events() if isinstance(e, Vital)]
    assert len(vitals) == len({v.name for v in vitals}), vitals  # once per page view
    return {v.name: v.value for v in vitals}


def html(collector: Collector, attrs: str = "", head: str = "", body: str = "") -> str:
    """A page with the plain script; engagement (on by default) is off unless `attrs` name it,
    so that the tests of other features see only their own events."""
    if "data-engagement" not in attrs:
        attrs += ' data-engagement="false"'
    return f"""<!doctype html>
<html><head><title>t</title>{head}
<script defer src="{collector.origin}/script.js" data-site-id="{SITE_ID}" {attrs}></script>
</head><body><h1>Traytic test page with enough text to paint</h1>{body}</body></html>"""


def open_page(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_function("() => window.traytic && typeof window.traytic.track === 'function'")


def sent_calls(page: Any) -> list[dict[str, str]]:
    return page.evaluate("window.__sent")


def assert_nothing_sent(page: Any, collector: Collector) -> None:
    page.evaluate(HIDE)  # forces a flush of anything queued
    page.wait_for_timeout(1500)  # longer than the tracker's batching delay
    assert sent_calls(page) == []
    assert collector.posts() == []


def test_pageview_on_load_is_a_text_plain_beacon(page: Any, site: Site, collector: Collector):
    url = site.page("/blog/hello", html(collector))
    open_page(page, url + "?utm_source=news#section")

    [event] = collector.wait_for_events(1)

    assert event == Pageview(url=url + "?utm_source=news")
    [beacon, *_] = collector.beacons()
    assert beacon.site_id == SITE_ID
    assert beacon.screen == 1280
    [request, *_] = collector.posts()
    assert request.path == "/collect"
    assert request.headers["content-type"] == "text/plain;charset=UTF-8"
    assert "cookie" not in request.headers
    assert "OPTIONS" not in {r.method for r in collector.requests}  # no CORS preflight
    assert {call["via"] for call in sent_calls(page)} == {"beacon"}


def test_spa_navigation_counts_push_replace_and_popstate(
    page: Any, site: Site, collector: Collector
):
    start = site.page("/app", html(collector))
    origin = start.removesuffix("/app")
    open_page(page, start)
    collector.wait_for_events(1)

    page.evaluate("history.pushState({}, '', '/app/settings')")
    page.evaluate("history.replaceState({}, '', '/app/settings?tab=billing')")
    page.evaluate("history.pushState({}, '', '/app/settings?tab=billing')")  # same URL
    page.go_back()  # popstate to the same URL: not a new page view
    page.go_back()  # popstate back to /app

    events = collector.wait_for_events(4)
    assert events == [
        Pageview(url=start),
        Pageview(url=f"{origin}/app/settings", referrer=start),
        Pageview(url=f"{origin}/app/settings?tab=billing", referrer=f"{origin}/app/settings"),
        Pageview(url=start, referrer=f"{origin}/app/settings?tab=billing"),
    ]


def test_hash_routing_counts_hash_changes(page: Any, site: Site, collector: Collector):
    start = site.page("/spa", html(collector, "data-hash-routing"))
    open_page(page, start + "#/home")

    page.evaluate("location.hash = '#/users'")

    events = collector.wait_for_events(2)
    assert [e.url for e in events] == [start + "#/home", start + "#/users"]


def test_track_with_props_from_a_click(page: Any, site: Site, collector: Collector):
    button = """<button onclick="traytic.track('signup', {plan: 'pro', seats: 3, trial: true,
        coupon: null, nested: {no: 1}})">Sign up</button>"""
    url = site.page("/pricing", html(collector, body=button))
    open_page(page, url)

    page.click("button")

    events = collector.wait_for_events(2)
    assert events[1] == CustomEvent(
        name="signup", url=url, props={"plan": "pro", "seats": 3, "trial": True, "coupon": None}
    )


def test_calls_made_before_the_script_loaded_are_kept(page: Any, site: Site, collector: Collector):
    stub = """<script>
      window.traytic = window.traytic || {q: [], track: function () { window.traytic.q.push(arguments) }};
      traytic.track('early', {step: 1});
      traytic.track('earlier-still');
    </script>"""
    url = site.page("/queued", html(collector, head=stub))
    open_page(page, url)

    events = collector.wait_for_events(3)
    assert events == [
        Pageview(url=url),
        CustomEvent(name="early", url=url, props={"step": 1}),
        CustomEvent(name="earlier-still", url=url),
    ]


def test_hash_paths_replaces_ids(page: Any, site: Site, collector: Collector):
    url = site.page(
        "/users/123/orders/550e8400-e29b-41d4-a716-446655440000",
        html(collector, 'data-hash-paths="true"'),
    )
    open_page(page, url + "?view=full")

    [event] = collector.wait_for_events(1)
    assert event.url == url.split("/users/")[0] + "/users/[id]/orders/[id]?view=full"


def test_data_endpoint_overrides_the_script_host(page: Any, site: Site, collector: Collector):
    url = site.page("/custom", html(collector, f'data-endpoint="{collector.origin}/api/ingest"'))
    open_page(page, url)

    collector.wait_for_events(1)
    assert [r.path for r in collector.posts()] == ["/api/ingest"]


def test_nothing_sent_from_localhost_unless_allowed(page: Any, site: Site, collector: Collector):
    open_page(page, site.page("/local", html(collector), host="localhost"))
    assert_nothing_sent(page, collector)

    url = site.page("/local-allowed", html(collector, "data-allow-localhost"), host="localhost")
    open_page(page, url)
    [event] = collector.wait_for_events(1)
    assert event == Pageview(url=url)


def test_do_not_track_is_honoured(dnt_page: Any, site: Site, collector: Collector):
    open_page(dnt_page, site.page("/dnt", html(collector)))
    assert dnt_page.evaluate("navigator.doNotTrack") == "1"
    dnt_page.evaluate("traytic.track('ignored')")
    assert_nothing_sent(dnt_page, collector)

    url = site.page("/dnt-ignored", html(collector, 'data-respect-dnt="false"'))
    open_page(dnt_page, url)
    [event] = collector.wait_for_events(1)
    assert event == Pageview(url=url)


def test_no_cookie_and_no_storage_is_written(page: Any, site: Site, collector: Collector):
    url = site.page("/private", html(collector, "data-track-errors data-hash-routing"))
    open_page(page, url)
    page.evaluate("history.pushState({}, '', '/private/2'); traytic.track('x', {a: 1})")
    page.evaluate(HIDE)
    collector.wait_for_events(2)

    assert page.context.cookies() == []
    assert page.evaluate("document.cookie") == ""
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0
    assert page.evaluate("indexedDB.databases().then(dbs => dbs.length)") == 0


def test_vitals_are_sent_once_when_the_page_is_hidden(page: Any, site: Site, collector: Collector):
    url = site.page("/vitals", html(collector, head=REFERENCE, body=SLOW_BUTTON))
    open_page(page, url)
    collector.wait_for_events(1)
    page.click("button")
    # Over 104 ms, the browser buffers the click's event timing entry, so the vitals observer
    # sees it even if it was still loading. The page's own observer tells the test when the
    # browser has delivered that entry (headless Chromium can take a while); from then on the
    # vitals observer has it too, delivered or waiting for its takeRecords() on hide.
    page.wait_for_function("() => window.__ref.clickTimed")
    seen = reference(page)

    page.evaluate(HIDE)
    collector.wait_for(
        lambda c: (
            {e.name for e in c.events() if isinstance(e, Vital)}
            >= {"LCP", "CLS", "INP", "TTFB", "FCP"}
        )
    )
    page.evaluate(SHOW)
    page.click("button")
    page.evaluate(HIDE)
    page.wait_for_timeout(1500)

    by_name = vitals_by_name(collector)
    assert sorted(by_name) == ["CLS", "FCP", "INP", "LCP", "TTFB"]
    assert all(v.url == url for v in collector.events() if isinstance(v, Vital))
    # The values are the browser's own measurements (milliseconds since navigation start).
    assert 0 < by_name["TTFB"] <= by_name["FCP"] <= by_name["LCP"] < 30_000
    assert by_name["TTFB"] == pytest.approx(seen["ttfb"])
    assert by_name["FCP"] == pytest.approx(seen["fcp"])
    assert by_name["LCP"] == pytest.approx(seen["lcp"])
    assert 150 <= by_name["INP"] < 5_000
    assert by_name["INP"] == pytest.approx(seen["inp"])
    assert by_name["CLS"] == 0
    assert {call["via"] for call in sent_calls(page)} == {"beacon"}


def test_cls_counts_a_layout_shift_the_page_caused(page: Any, site: Site, collector: Collector):
    # A banner pushed in above the content after load, not after an input: a layout shift that
    # counts (shifts within 500 ms of an input do not).
    banner = """<script>
      addEventListener("load", () => setTimeout(() => {
        const banner = document.createElement("div");
        banner.style.height = "300px";
        banner.textContent = "Cookie-free banner";
        document.body.prepend(banner);
      }, 200));
    </script>"""
    url = site.page("/shift", html(collector, head=REFERENCE + banner, body="<p>More text.</p>"))
    open_page(page, url)
    page.wait_for_function("() => window.__ref.shifts > 0")
    seen = reference(page)

    page.evaluate(HIDE)
    collector.wait_for(lambda c: any(isinstance(e, Vital) and e.name == "CLS" for e in c.events()))

    cls = vitals_by_name(collector)["CLS"]
    assert 0 < cls < 1
    assert cls == pytest.approx(seen["cls"])


def test_vitals_are_sent_when_the_visitor_leaves(page: Any, site: Site, collector: Collector):
    url = site.page("/leave", html(collector, head=REFERENCE))
    open_page(page, url)
    page.wait_for_function(
        "() => document.querySelectorAll('script[src$=\"script.vitals.js\"]').length"
    )
    page.wait_for_timeout(300)
    seen = reference(page)

    page.goto("about:blank")  # a real hide: visibilitychange and pagehide on the way out

    collector.wait_for(
        lambda c: (
            {e.name for e in c.events() if isinstance(e, Vital)} >= {"LCP", "CLS", "TTFB", "FCP"}
        )
    )
    by_name = vitals_by_name(collector)
    assert "INP" not in by_name  # no interaction
    assert 0 < by_name["TTFB"] <= by_name["FCP"] <= by_name["LCP"] < 30_000
    assert by_name["LCP"] == pytest.approx(seen["lcp"])
    assert by_name["CLS"] == 0


def test_vitals_can_be_turned_off(page: Any, site: Site, collector: Collector):
    open_page(page, site.page("/no-vitals", html(collector, 'data-vitals="false"')))
    collector.wait_for_events(1)
    page.evaluate(HIDE)
    page.wait_for_timeout(500)

    assert page.evaluate("document.querySelectorAll('script').length") == 1
    assert all(not isinstance(e, Vital) for e in collector.events())


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("setTimeout(() => { throw new TypeError('boom') })", "Uncaught TypeError: boom"),
        ("setTimeout(() => Promise.reject(new Error('network down')))", "network down"),
    ],
)
def test_errors_are_reported_with_data_track_errors(
    page: Any, site: Site, collector: Collector, code: str, message: str
):
    url = site.page("/errors", html(collector, "data-track-errors"))
    open_page(page, url)
    wait_for_extras(page)
    page.evaluate(code)

    events = collector.wait_for_events(2)
    assert isinstance(events[1], ErrorEvent)
    assert (events[1].message, events[1].url) == (message, url)


def wait_for_extras(page: Any) -> None:
    """Until script.extras.js (engagement, links, errors: loaded after script.js) has run."""
    page.wait_for_function(
        """() => performance.getEntriesByType("resource")
            .some((e) => e.name.endsWith("/script.extras.js") && e.responseEnd > 0)"""
    )
    page.wait_for_timeout(50)  # fetched, then run on the next task


def test_engagement_links_and_downloads_from_data_attributes(
    page: Any, site: Site, collector: Collector
):
    links = """<div style="height: 3200px">
      <a id="book" href="/files/guide.EPUB?session=1" onclick="return false">guide</a>
      <a id="pdf" href="/files/a.pdf" onclick="return false">not an extension asked for</a>
      <a id="out" href="https://elsewhere.example/page?ref=x" onclick="return false">out</a>
    </div>"""
    attrs = 'data-vitals="false" data-engagement data-outbound-links data-file-downloads="epub"'
    url = site.page("/read", html(collector, attrs, body=links))
    open_page(page, url)
    wait_for_extras(page)
    page.evaluate("window.scrollTo(0, 1600)")
    # The deepest point, as this browser lays the page out: the bottom of the viewport.
    depth = page.evaluate(
        "Math.round((scrollY + innerHeight) / document.documentElement.scrollHeight * 100)"
    )
    page.wait_for_timeout(400)
    for link in ("#book", "#pdf", "#out"):
        page.click(link)
    page.evaluate("history.pushState({}, '', '/read/next')")  # leaving the page: its engagement
    page.evaluate(HIDE)

    collector.wait_for(lambda c: sum(isinstance(e, Engagement) for e in c.events()) >= 2)
    origin = url.rsplit("/", 1)[0]
    clicks = [(e.name, e.props) for e in collector.events() if isinstance(e, CustomEvent)]
    assert clicks == [
        ("File Download", {"url": f"{origin}/files/guide.EPUB"}),
        ("Outbound Link: Click", {"url": "https://elsewhere.example/page"}),
    ]
    # One for the page left by the route change, one for the next page when it was hidden.
    read, following = [e for e in collector.events() if isinstance(e, Engagement)]
    assert 50 < depth < 100
    assert (read.url, read.scroll_depth) == (url, depth)
    assert 400 <= read.engaged_ms < 30_000
    assert following.url == f"{url}/next"
