/// The site-tracking snippet the tracker serves at `/js/herald.js`, and what it may identify a
/// visitor by.
public enum SiteSnippet {
    /// The identifier fields a site may pass to `herald("identify", …)`.
    public static let identifierFields: Set<String> = ["email", "phone", "external_id"]

    /// The snippet. Usage on a site:
    /// `<script async src="https://track.example/js/herald.js" data-site="KEY"></script>`, then
    /// `herald("event", "added_to_cart", {sku: "A-1"})`, `herald("goal", "signup")`,
    /// `herald("identify", {email: "anna@example.com"})`, `herald("consent", true|false)`.
    public static let script = #"""
    (function () {
      "use strict";
      var tag = document.currentScript || document.querySelector("script[data-site]");
      if (!tag) return;
      var site = tag.getAttribute("data-site"), endpoint = new URL("/e", tag.src).href;
      var needsConsent = tag.getAttribute("data-consent") === "required";
      var cookie = "hrld_vid", identityKey = "hrld_identity", queue = [], timer = null;
      function read(name) { var m = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)")); return m ? decodeURIComponent(m[1]) : null; }
      function consented() { return !needsConsent || read("hrld_consent") === "1"; }
      function visitor() {
        var id = read(cookie);
        if (!id) {
          id = (crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2) + Date.now()).replace(/-/g, "");
          document.cookie = cookie + "=" + id + "; path=/; max-age=31536000; SameSite=Lax" + (location.protocol === "https:" ? "; Secure" : "");
        }
        return id;
      }
      function identity() { try { return JSON.parse(localStorage.getItem(identityKey) || "null"); } catch (e) { return null; } }
      function flush() {
        timer = null;
        if (!queue.length || !consented()) return;
        var body = JSON.stringify({ site: site, visitor: visitor(), identity: identity(), events: queue.splice(0, 50) });
        if (navigator.sendBeacon && navigator.sendBeacon(endpoint, new Blob([body], { type: "text/plain" }))) return;
        fetch(endpoint, { method: "POST", body: body, keepalive: true, headers: { "Content-Type": "text/plain" } }).catch(function () {});
      }
      function push(item) { if (!consented()) return; queue.push(item); if (!timer) timer = setTimeout(flush, 300); }
      function page() { push({ type: "page_view", url: location.href, title: document.title, referrer: document.referrer }); }
      function herald(command, a, b) {
        if (command === "event") push({ type: "event", name: a, url: location.href, properties: b || {} });
        else if (command === "goal") push({ type: "goal", name: a, url: location.href, properties: b || {} });
        else if (command === "page") page();
        else if (command === "identify") {
          if (!consented()) return;
          localStorage.setItem(identityKey, JSON.stringify(a || {}));
          push({ type: "identify", url: location.href });
        } else if (command === "consent") {
          if (a) { document.cookie = "hrld_consent=1; path=/; max-age=31536000; SameSite=Lax"; page(); }
          else {
            queue = [];
            ["hrld_consent", cookie].forEach(function (n) { document.cookie = n + "=; path=/; max-age=0"; });
            localStorage.removeItem(identityKey);
          }
        }
      }
      // Arrived from a tracked link in a message: the link says who clicked. Remember it (as the
      // visitor's identity) and take it out of the address bar.
      try {
        var here = new URL(location.href), who = here.searchParams.get("hrld");
        if (who && consented()) {
          localStorage.setItem(identityKey, JSON.stringify({ click: who }));
          here.searchParams.delete("hrld");
          history.replaceState(history.state, "", here.pathname + (here.search || "") + here.hash);
          push({ type: "identify", url: here.href });
        }
      } catch (e) {}
      var earlier = (window.herald && window.herald.q) || [];
      window.herald = herald;
      earlier.forEach(function (args) { herald.apply(null, args); });
      window.addEventListener("pagehide", flush);
      page();
    })();
    """#
}
