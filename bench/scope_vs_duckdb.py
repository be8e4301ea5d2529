#!/usr/bin/env python3
"""Scope over an access log of 10,000,000 reveals: one principal over a one-week window.

Usage: bench/scope_vs_duckdb.py [ROWS] [WORKDIR]   (needs `pip install duckdb`; builds bulwark in release)

Builds a Bulwark data directory whose access log holds ROWS reveals (30 days, 200
principals, 1,000,000 customers across US states and EU countries), then answers
"which customers did key:p017 reveal, which elements, where do they live" for one week:
- bulwark: `bulwark scope --principal key:p017 --since .. --until .. --json` (whole
  command: process start, open, query, aggregation, JSON out), best of 5;
- DuckDB: the same question in SQL over the same data exported to Parquet (query
  only, warm, best of 5), and checks both find the same customers.
"""
import json, os, random, sqlite3, subprocess, sys, tempfile, time

rows = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000
work = sys.argv[2] if len(sys.argv) > 2 else tempfile.mkdtemp(prefix="bulwark-scope-")
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
target = os.environ.get("CARGO_TARGET_DIR", os.path.join(root, "target"))
subprocess.run(["cargo", "build", "--release", "-q", "-p", "bulwark-cli"], cwd=root, check=True)
bulwark = os.path.join(target, "release", "bulwark")
env = dict(os.environ, BULWARK_PASSPHRASE="benchmark passphrase, not secret")
data = os.path.join(work, "data")
if not os.path.exists(data):
    subprocess.run([bulwark, "init", "--data-dir", data, "--kdf-memory-mib", "8", "--kdf-iterations", "1", "--json"],
                   env=env, check=True, capture_output=True)
    rnd = random.Random(11)
    subs = ["US-CA", "US-TX", "US-NY", "US-FL", "US-WA", "US-MA", "US-IL", "US-GA"]
    countries = ["DE", "FR", "NL", "IE", "ES"]
    n_customers = 1_000_000
    ids = [f"01a20000-0000-7000-8000-{i:012x}" for i in range(n_customers)]
    main = sqlite3.connect(os.path.join(data, "bulwark.db"))
    keys = sqlite3.connect(os.path.join(data, "keys.db"))
    main.execute("PRAGMA synchronous=OFF"); keys.execute("PRAGMA synchronous=OFF")
    t0 = time.time()
    def cust():
        for i, cid in enumerate(ids):
            if i % 3 == 0:
                yield (cid, 0, 0, rnd.choice(countries), None)
            else:
                s = rnd.choice(subs)
                yield (cid, 0, 0, "US", s)
    main.executemany("INSERT INTO customers (id, created_at_ms, updated_at_ms, country, subdivision) VALUES (?,?,?,?,?)", cust())
    # Every customer has a key (start-up reconciliation removes customers without one).
    keys.executemany("INSERT INTO customer_keys (customer_id, version, wrapped) VALUES (?,1,x'00')", ((c,) for c in ids))
    keys.commit()
    start_ms = 1_767_225_600_000  # 2026-01-01
    span = 30 * 86_400_000
    combos = ["email,name", "email,name,postal_address", "card_number,name", "email"]
    def log():
        for i in range(rows):
            yield (start_ms + i * span // rows, f"key:p{rnd.randrange(200):03d}", "reveal", "support",
                   ids[rnd.randrange(n_customers)], rnd.choice(combos), "allowed", f"10.0.{rnd.randrange(256)}.{rnd.randrange(256)}")
    main.executemany("INSERT INTO access_log (at_ms, principal, action, purpose, customer_id, elements, outcome, source) VALUES (?,?,?,?,?,?,?,?)", log())
    main.commit()
    main.execute("ANALYZE")
    main.close(); keys.close()
    print(f"generated {rows} reveals over {n_customers} customers in {time.time()-t0:.0f} s", file=sys.stderr)

since, until = "2026-01-08T00:00:00Z", "2026-01-15T00:00:00Z"
best = None
for _ in range(5):
    t = time.time()
    out = subprocess.run([bulwark, "scope", "--data-dir", data, "--principal", "key:p017", "--since", since, "--until", until, "--json"],
                         env=env, check=True, capture_output=True).stdout
    best = min(best or 1e9, time.time() - t)
ours = json.loads(out)
our_ids = {c["id"] for c in ours["customers"]}

import duckdb
pq_log, pq_cust = os.path.join(work, "access_log.parquet"), os.path.join(work, "customers.parquet")
con = duckdb.connect()
if not os.path.exists(pq_log):
    import csv
    src = sqlite3.connect(os.path.join(data, "bulwark.db"))
    for table, path, cols in [("access_log", pq_log, "at_ms, principal, action, customer_id, elements, outcome, source"),
                              ("customers", pq_cust, "id, country, subdivision")]:
        tmp_csv = os.path.join(work, f"{table}.csv")
        with open(tmp_csv, "w", newline="") as fh:
            w = csv.writer(fh)
            cur = src.execute(f"SELECT {cols} FROM {table}")
            w.writerow([d[0] for d in cur.description])
            while True:
                chunk = cur.fetchmany(500_000)
                if not chunk:
                    break
                w.writerows(chunk)
        con.execute(f"COPY (SELECT * FROM read_csv('{tmp_csv}', header=true, all_varchar=false)) TO '{path}' (FORMAT PARQUET)")
        os.remove(tmp_csv)
q = f"""
SELECT a.customer_id, string_agg(a.elements, ','), count(*), c.country, c.subdivision
FROM read_parquet('{pq_log}') a LEFT JOIN read_parquet('{pq_cust}') c ON c.id = a.customer_id
WHERE a.principal = 'key:p017' AND a.at_ms >= 1767830400000 AND a.at_ms < 1768435200000
  AND a.action = 'reveal' AND a.outcome = 'allowed'
GROUP BY a.customer_id, c.country, c.subdivision"""
con2 = duckdb.connect()
dbest = None
for _ in range(5):
    t = time.time()
    res = con2.execute(q).fetchall()
    dbest = min(dbest or 1e9, time.time() - t)
duck_ids = {r[0] for r in res}
print(f"access log rows: {rows}; customers in scope: bulwark {len(our_ids)}, duckdb {len(duck_ids)}; same set: {our_ids == duck_ids}")
print(f"bulwark scope (whole command, best of 5): {best*1000:.0f} ms")
print(f"duckdb over parquet (query only, warm, best of 5): {dbest*1000:.0f} ms")
print(f"ratio duckdb/bulwark: {dbest/best:.2f}")
