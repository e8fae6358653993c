/**
 * The Vue, Svelte and Astro adapters. Vue runs for real (vue and vue-router from npm, in
 * happy-dom); SvelteKit's `afterNavigate` and Astro's `injectScript` exist only inside those
 * frameworks' builds, so the tests call the adapters the way the frameworks do.
 */
import { createApp, defineComponent, h, nextTick } from "vue";
import { createRouter, createWebHistory, RouterView } from "vue-router";
import { describe, expect, it } from "vitest";
import traytic, { CLIENT_MODULE } from "../src/astro";
import { start } from "../src/astro-client";
import { flush } from "../src/index";
import { analytics } from "../src/svelte";
import { Traytic } from "../src/vue";
import { recordBeacons } from "./page-tracker";

const { pageviews } = recordBeacons();

describe("@traytic/analytics/vue", () => {
  it("counts each vue-router navigation once, and none for a failed one", async () => {
    const page = (name: string) => defineComponent({ render: () => h("p", name) });
    const router = createRouter({
      history: createWebHistory(),
      routes: [
        { path: "/", component: page("home") },
        { path: "/blog/:slug", component: page("post") },
        { path: "/private", component: page("private"), beforeEnter: () => false },
      ],
    });
    const app = createApp(defineComponent({ render: () => h(RouterView) }));
    app.use(router);
    app.use(Traytic, { siteId: "st_vue", router, vitals: false, engagement: false });
    app.mount(document.createElement("div"));
    await router.isReady();
    await router.push("/blog/hello?ref=nav");
    await router.push("/private"); // refused by its guard: no page view
    await router.push("/");
    await nextTick();
    flush();
    expect(pageviews()).toEqual([
      "https://example.com/",
      "https://example.com/blog/hello?ref=nav",
      "https://example.com/",
    ]);
    app.unmount();
  });
});

describe("@traytic/analytics/svelte", () => {
  it("counts SvelteKit navigations from afterNavigate, not the History API", () => {
    let navigated: ((navigation: unknown) => void) | undefined;
    analytics({ siteId: "st_svelte", vitals: false, engagement: false }, (callback) => {
      navigated = callback;
    });
    navigated!({ type: "enter" }); // SvelteKit runs it on the first mount too
    history.pushState({}, "", "/about"); // spa is off: this alone counts nothing
    navigated!({ type: "link" });
    flush();
    expect(pageviews()).toEqual(["https://example.com/", "https://example.com/about"]);
  });
});

describe("@traytic/analytics/astro", () => {
  it("injects a page script that starts the tracker with the options", () => {
    const scripts: [string, string][] = [];
    const integration = traytic({ siteId: "st_astro", outboundLinks: true });
    integration.hooks["astro:config:setup"]({ injectScript: (stage, content) => scripts.push([stage, content]) });
    expect(integration.name).toBe("@traytic/analytics");
    expect(scripts).toEqual([
      [
        "page",
        `import { start } from "${CLIENT_MODULE}";\nstart({"siteId":"st_astro","outboundLinks":true});`,
      ],
    ]);
  });

  it("counts a page view on each astro:page-load (view transitions included)", () => {
    start({ siteId: "st_astro", vitals: false, engagement: false });
    document.dispatchEvent(new Event("astro:page-load"));
    window.happyDOM.setURL("https://example.com/docs/");
    document.dispatchEvent(new Event("astro:page-load"));
    flush();
    expect(pageviews()).toEqual(["https://example.com/", "https://example.com/docs/"]);
  });
});
