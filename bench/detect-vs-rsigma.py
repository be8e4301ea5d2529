#!/usr/bin/env python3
"""Helper of bench/detect-vs-rsigma.sh.

  detect-vs-rsigma.py pipeline                      print an rsigma processing pipeline with
                                                    bulwark's built-in Sigma -> ECS field mapping
  detect-vs-rsigma.py rsigma-rules SRC DEST         copy a rule tree for rsigma (flat), correlation
                                                    references by `name` rewritten to the rule's `id`
  detect-vs-rsigma.py compare LABEL BULWARK RSIGMA EXCLUDED RULES_DIR
                                                    per-rule detection counts of the two tools'
                                                    JSON-lines outputs; differing rules listed

Both outputs carry `rule_id` (the rule's id, or its title) and `rule_title` per detection.
EXCLUDED is a file of `path<TAB>reason` lines for rule files rsigma could not load: their
rules are reported as such, not as disagreements. RULES_DIR (the rules bulwark ran) gives the
reason of known differences.

Correlation counts are expected to differ: rsigma runs with `--action reset` (a group that fires
starts again from zero, so N events over a threshold T give about N/T alerts), while bulwark
keeps counting and suppresses re-alerts until one timespan after the fired window (one alert per
window, with its real count). Differing correlations are listed as EXPECTED and do not make the
comparison fail; so are event rules whose difference is exactly bulwark's detections that matched
only a decoded form of a field (`matched_after_decoding`: rsigma does not decode); other
event-rule differences do.
"""
import collections
import json
import re
import sys

# The same table as crates/detect/src/mapping.rs (FieldMapping::ecs_default): Sigma names
# onto ECS candidates, the Sigma name itself tried last.
WEB = {
    "cs-uri-query": ["url.query"], "cs-uri-stem": ["url.path"], "cs-uri": ["url.original"],
    "c-ip": ["source.ip"], "s-ip": ["destination.ip"], "sc-status": ["http.response.status_code"],
    "cs-method": ["http.request.method"], "cs-user-agent": ["user_agent.original"],
    "cs-referer": ["http.request.referrer"], "cs-host": ["url.domain"],
    "cs-cookie": ["http.request.cookie"], "cs-username": ["user.name"],
    "cs-bytes": ["http.request.bytes"], "sc-bytes": ["http.response.body.bytes"],
    "cs-version": ["http.version"], "date": ["@timestamp"],
}
PROXY = {
    "c-uri": ["url.original"], "c-uri-query": ["url.query"], "c-uri-stem": ["url.path"],
    "c-uri-extension": ["url.extension"], "c-useragent": ["user_agent.original"],
    "c-ip": ["source.ip"], "cs-host": ["url.domain", "destination.domain"],
    "cs-method": ["http.request.method"], "cs-referrer": ["http.request.referrer"],
    "cs-cookie": ["http.request.cookie"], "sc-status": ["http.response.status_code"],
    "r-dns": ["destination.domain", "url.domain"], "dst_ip": ["destination.ip"],
    "cs-bytes": ["http.request.bytes"], "sc-bytes": ["http.response.bytes"],
}


def pipeline():
    out = ["name: bulwark-ecs", "priority: 10", "transformations:"]
    for name, table in (("webserver", WEB), ("proxy", PROXY)):
        out += [f"  - id: bulwark_{name}", "    type: field_name_mapping", "    mapping:"]
        for sigma, ecs in table.items():
            alts = ", ".join(json.dumps(x) for x in ecs + [sigma])
            out.append(f"      {json.dumps(sigma)}: [{alts}]")
        out += ["    rule_conditions:", "      - type: logsource", f"        category: {name}"]
    print("\n".join(out))


def rsigma_rules(src, dest):
    """rsigma's --no-detections silences only rules a correlation names by `id`: a rule
    referenced by its `name` would keep reporting although it only feeds a correlation
    (bulwark, like the specification, silences it either way). Rewriting the references
    keeps the output, and so the work, of both tools the same."""
    import os
    files = []
    for d, _, names in os.walk(src):
        files += [os.path.join(d, n) for n in names if n.endswith((".yml", ".yaml"))]
    texts = {f: open(f, encoding="utf-8", errors="replace").read() for f in files}
    ids = {}
    for text in texts.values():
        for doc in re.split(r"^---\s*$", text, flags=re.M):
            n = re.search(r"^name:\s*(\S+)\s*$", doc, re.M)
            i = re.search(r"^id:\s*(\S+)\s*$", doc, re.M)
            if n and i:
                ids[n.group(1).strip("'\"")] = i.group(1).strip("'\"")
    os.makedirs(dest, exist_ok=True)
    for f in sorted(files):
        text = texts[f]
        if re.search(r"^correlation:", text, re.M):
            text = re.sub(r"^(\s+- )(\S+)\s*$",
                          lambda m: m.group(1) + ids.get(m.group(2).strip("'\""), m.group(2)),
                          text, flags=re.M)
        name = os.path.relpath(f, src).replace(os.sep, "_")
        with open(os.path.join(dest, name), "w", encoding="utf-8") as out:
            out.write(text)


def counts(path):
    """Detections per rule, titles, and detections that matched only a decoded form."""
    c, titles, decoded = collections.Counter(), {}, collections.Counter()
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if not line.startswith("{"):
                continue
            try:
                d = json.loads(line)
            except ValueError:
                continue
            rid = d.get("rule_id") or d.get("rule_title")
            c[rid] += 1
            titles.setdefault(rid, d.get("rule_title", rid))
            if d.get("matched_after_decoding"):
                decoded[rid] += 1
    return c, titles, decoded


def rule_ids(path):
    """(id, title) of every document in a rule file, without a YAML library."""
    out = []
    text = open(path, encoding="utf-8", errors="replace").read()
    for doc in re.split(r"^---\s*$", text, flags=re.M):
        t = re.search(r"^title:\s*(.+?)\s*$", doc, re.M)
        i = re.search(r"^id:\s*(\S+)", doc, re.M)
        if t:
            title = t.group(1).strip("'\"")
            out.append((i.group(1).strip("'\"") if i else title, title))
    return out


def intermediate_correlations(rules_dir):
    """Ids of correlations another correlation refers to: bulwark reports them only when a
    referrer says `generate: true` (they are steps of a chain); rsigma reports them always."""
    import os
    docs = []
    for d, _, names in os.walk(rules_dir):
        for n in names:
            if n.endswith((".yml", ".yaml")):
                text = open(os.path.join(d, n), encoding="utf-8", errors="replace").read()
                docs += re.split(r"^---\s*$", text, flags=re.M)
    corr = [doc for doc in docs if re.search(r"^correlation:", doc, re.M)]
    refs = set()
    for doc in corr:
        block = re.search(r"^  rules:\s*\n((?:\s+- .*\n)+)", doc, re.M)
        if block:
            refs |= {x.strip().lstrip("- ").strip("'\"") for x in block.group(1).splitlines()}
    out = set()
    for doc in corr:
        keys = [m.group(2).strip("'\"") for m in re.finditer(r"^(id|name):\s*(\S+)", doc, re.M)]
        if refs & set(keys):
            t = re.search(r"^title:\s*(.+?)\s*$", doc, re.M)
            out |= set(keys) | ({t.group(1).strip("'\"")} if t else set())
    return out


def correlation_keys(rules_dir):
    """Ids, names and titles of every correlation rule under rules_dir."""
    import os
    out = set()
    for d, _, names in os.walk(rules_dir):
        for n in names:
            if n.endswith((".yml", ".yaml")):
                text = open(os.path.join(d, n), encoding="utf-8", errors="replace").read()
                for doc in re.split(r"^---\s*$", text, flags=re.M):
                    if not re.search(r"^correlation:", doc, re.M):
                        continue
                    out |= {m.group(2).strip("'\"")
                            for m in re.finditer(r"^(id|name):\s*(\S+)", doc, re.M)}
                    t = re.search(r"^title:\s*(.+?)\s*$", doc, re.M)
                    if t:
                        out.add(t.group(1).strip("'\""))
    return out


def compare(label, bw_path, rs_path, excluded_path, rules_dir):
    bw, bt, decoded = counts(bw_path)
    rs, rt, _ = counts(rs_path)
    titles = {**rt, **bt}
    excluded = {}
    if excluded_path:
        for line in open(excluded_path, encoding="utf-8"):
            path, _, reason = line.rstrip("\n").partition("\t")
            for rid, title in rule_ids(path):
                excluded[rid] = reason
                titles.setdefault(rid, title)
    rules = sorted(set(bw) | set(rs) | set(excluded), key=lambda r: titles.get(r, r))
    corr = correlation_keys(rules_dir)
    same = [r for r in rules if bw[r] == rs[r] and r not in excluded]
    differing = [r for r in rules if bw[r] != rs[r] and r not in excluded]
    # bulwark also matches URLs, queries and bodies decoded (percent-encoding, entities,
    # `..` segments); rsigma reads them raw. Expected when the raw matches agree.
    by_decoding = [r for r in differing if decoded[r] and bw[r] - decoded[r] == rs[r]]
    expected = [r for r in differing
                if r in corr or titles.get(r) in corr or r in by_decoding]
    diff = [r for r in differing if r not in expected]
    print(f"  {label}: {len(rules) - len(excluded)} rules fired in either tool; "
          f"{len(same)} agree, {len(diff)} differ, {len(expected)} differ as expected; "
          f"detections bulwark {sum(bw.values())}, rsigma {sum(rs.values())}")
    chained = intermediate_correlations(rules_dir)
    for r in diff:
        print(f"    DIFF {titles.get(r, r)[:52]:<52} bulwark {bw[r]:>7}  rsigma {rs[r]:>7}")
    for r in expected:
        why = ("a correlation chained into another: bulwark reports it only with generate: "
               "true, rsigma always" if r in chained and bw[r] == 0 else
               f"decoding: {decoded[r]} matched only decoded, the raw matches agree"
               if r in by_decoding else
               "correlation: bulwark suppresses re-alerts for the window, rsigma resets")
        print(f"    EXPECTED {titles.get(r, r)[:48]:<48} bulwark {bw[r]:>7}  rsigma {rs[r]:>7}"
              f"  ({why})")
    for r in rules:
        if r in excluded:
            print(f"    rsigma cannot load {titles.get(r, r)[:50]!r} (bulwark {bw[r]}): "
                  f"{excluded[r][:110]}")
    return 1 if diff else 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["pipeline"]:
        pipeline()
    elif sys.argv[1:2] == ["rsigma-rules"] and len(sys.argv) == 4:
        rsigma_rules(sys.argv[2], sys.argv[3])
    elif sys.argv[1:2] == ["compare"] and len(sys.argv) == 7:
        sys.exit(compare(*sys.argv[2:7]))
    else:
        sys.exit(__doc__)
