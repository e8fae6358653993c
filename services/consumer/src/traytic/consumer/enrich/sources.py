"""The table of known traffic sources: referrer hosts and `utm_source` aliases → (name, kind).

A host matches itself and its subdomains (`l.facebook.com` → `facebook.com`), most specific entry
first, so `mail.google.com` (Email) wins over `google.com` (Search). Search engines that live on
many country domains (`google.co.uk`, `yandex.com.tr`) also match by brand label. The kind picks
the channel in `referrers.py`. Names are what the dashboard shows; X keeps the name `Twitter`
(what Plausible and most people still search for), covering `t.co`, `twitter.com` and `x.com`.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

SourceKind = Literal["search", "social", "video", "email", "ai"]


class Source(NamedTuple):
    name: str
    kind: SourceKind


_TABLE: dict[SourceKind, dict[str, tuple[str, ...]]] = {
    "search": {
        "Google": ("google.com",),
        "Bing": ("bing.com", "cn.bing.com"),
        "DuckDuckGo": ("duckduckgo.com", "html.duckduckgo.com"),
        "Yahoo": ("yahoo.com", "search.yahoo.com", "yahoo.co.jp"),
        "Yandex": ("yandex.ru", "yandex.com", "ya.ru"),
        "Baidu": ("baidu.com", "m.baidu.com"),
        "Ecosia": ("ecosia.org",),
        "Brave Search": ("search.brave.com",),
        "Startpage": ("startpage.com",),
        "Qwant": ("qwant.com",),
        "Kagi": ("kagi.com",),
        "Naver": ("naver.com", "search.naver.com"),
        "Seznam": ("seznam.cz", "search.seznam.cz"),
    },
    "social": {
        "Twitter": ("t.co", "twitter.com", "x.com"),
        "Facebook": ("facebook.com", "fb.com", "fb.me", "l.facebook.com", "m.facebook.com"),
        "Instagram": ("instagram.com", "l.instagram.com"),
        "LinkedIn": ("linkedin.com", "lnkd.in"),
        "Reddit": ("reddit.com", "old.reddit.com", "out.reddit.com", "redd.it"),
        "Hacker News": ("news.ycombinator.com",),
        "GitHub": ("github.com",),
        "Mastodon": ("mastodon.social",),
        "Bluesky": ("bsky.app",),
        "Threads": ("threads.net", "threads.com"),
        "Pinterest": ("pinterest.com",),
        "TikTok": ("tiktok.com",),
        "Quora": ("quora.com",),
        "Discord": ("discord.com", "discordapp.com"),
        "Slack": ("slack.com",),
        "Telegram": ("t.me", "web.telegram.org"),
        "WhatsApp": ("wa.me", "web.whatsapp.com"),
        "VK": ("vk.com",),
        "Weibo": ("weibo.com",),
        "Lobsters": ("lobste.rs",),
    },
    "video": {
        "YouTube": ("youtube.com", "m.youtube.com", "youtu.be"),
        "Vimeo": ("vimeo.com",),
        "Twitch": ("twitch.tv",),
    },
    "email": {
        "Gmail": ("mail.google.com", "com.google.android.gm"),
        "Outlook": ("outlook.live.com", "outlook.office.com", "outlook.office365.com"),
        "Yahoo Mail": ("mail.yahoo.com",),
        "Proton Mail": ("mail.proton.me", "mail.protonmail.com"),
        "Fastmail": ("fastmail.com", "app.fastmail.com"),
        "Substack": ("substack.com",),
        "Mailchimp": ("mailchimp.com", "mailchi.mp", "list-manage.com"),
        "Buttondown": ("buttondown.email", "buttondown.com"),
        "Kit": ("convertkit.com", "kit.com", "ck.page"),
        "beehiiv": ("beehiiv.com",),
    },
    # AI assistants: the channel `AI` (referrers.py). The one list of them; add hosts here.
    "ai": {
        "ChatGPT": ("chatgpt.com", "chat.openai.com"),
        "Perplexity": ("perplexity.ai",),
        "Claude": ("claude.ai",),
        "Gemini": ("gemini.google.com", "bard.google.com"),
        "Copilot": ("copilot.microsoft.com", "copilot.cloud.microsoft"),
        "DeepSeek": ("chat.deepseek.com",),
        "Phind": ("phind.com",),
        "Mistral Le Chat": ("chat.mistral.ai",),
        "Grok": ("grok.com",),
        "Meta AI": ("meta.ai",),
        "Poe": ("poe.com",),
        "You.com": ("you.com",),
    },
}

SOURCES_BY_HOST: dict[str, Source] = {
    host: Source(name, kind)
    for kind, sources in _TABLE.items()
    for name, hosts in sources.items()
    for host in hosts
}
"""Every known host (without `www.`) → its source. Android app referrers use the package name."""

SOURCES_BY_HOST["com.google.android.googlequicksearchbox"] = Source("Google", "search")

SEARCH_BRANDS: dict[str, Source] = {
    "google": Source("Google", "search"),
    "bing": Source("Bing", "search"),
    "yahoo": Source("Yahoo", "search"),
    "yandex": Source("Yandex", "search"),
    "baidu": Source("Baidu", "search"),
}
"""Brand labels matched on any country domain: `google.de`, `www.google.com.br`."""

SOURCES_BY_NAME: dict[str, Source] = {
    source.name.lower(): source for source in SOURCES_BY_HOST.values()
} | {
    "x": Source("Twitter", "social"),
    "fb": Source("Facebook", "social"),
    "ig": Source("Instagram", "social"),
    "hn": Source("Hacker News", "social"),
    "hackernews": Source("Hacker News", "social"),
    "ycombinator": Source("Hacker News", "social"),
    "yt": Source("YouTube", "video"),
    "ddg": Source("DuckDuckGo", "search"),
    "openai": Source("ChatGPT", "ai"),
}
"""Lowercase `utm_source` aliases → source (`utm_source=chatgpt.com` matches as a host)."""
