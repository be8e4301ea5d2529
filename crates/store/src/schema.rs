//! Table definitions. `bulwark.db` holds everything but customer keys; `keys.db`
//! holds the keyring and the per-customer keys, so that a backup of
//! `bulwark.db` never holds what it takes to decrypt an erased customer.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use crate::error::Result;

/// The schema this binary writes. A data directory of an older version is
/// brought up to it on open by [`MIGRATIONS`]; a newer one is refused.
pub const SCHEMA_VERSION: i64 = 3;

/// `(from, statements)`: each step takes a data directory from schema
/// version `from` to `from + 1`. Changes that `CREATE … IF NOT EXISTS` can
/// express go into [`MAIN`] instead; a step is for what cannot be repeated
/// (adding a column).
const MIGRATIONS: &[(i64, &str)] = &[
    // 2: a customer's language preference for letters (NULL: none).
    (1, "ALTER TABLE customers ADD COLUMN language TEXT;"),
    // 3: a compliance completion's document in the evidence locker (a scan
    // report, minutes), by hash. A schema-2 directory from before the
    // calendar has no table yet: it gets schema 2's, then the columns.
    (
        2,
        "CREATE TABLE IF NOT EXISTS compliance_completions (
             id           INTEGER PRIMARY KEY,
             duty_id      TEXT NOT NULL,
             completed_on TEXT NOT NULL,
             evidence     TEXT NOT NULL,
             reference    TEXT,
             actor        TEXT NOT NULL,
             recorded_ms  INTEGER NOT NULL
         );
         ALTER TABLE compliance_completions ADD COLUMN document_sha256 TEXT;
         ALTER TABLE compliance_completions ADD COLUMN document_name TEXT;
         ALTER TABLE compliance_completions ADD COLUMN document_size INTEGER;",
    ),
];

/// Applies the steps from the data directory's version up to
/// [`SCHEMA_VERSION`], in one transaction with the version's update, so that
/// a crash leaves the old version or the new one and two processes opening
/// at once migrate once. Returns `(from, to)` when it changed anything. A
/// version it has no step for is left for the caller's version check.
pub(crate) fn migrate(main: &mut Connection) -> Result<Option<(i64, i64)>> {
    let tx = main.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let found: Option<String> = tx
        .query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    let Some(from) = found.and_then(|v| v.parse::<i64>().ok()) else {
        return Ok(None);
    };
    let mut at = from;
    while let Some((_, sql)) = MIGRATIONS.iter().find(|(step, _)| *step == at) {
        tx.execute_batch(sql)?;
        at += 1;
    }
    if at == from {
        return Ok(None);
    }
    tx.execute(
        "UPDATE meta SET value = ?1 WHERE key = 'schema_version'",
        [at.to_string()],
    )?;
    tx.commit()?;
    Ok(Some((from, at)))
}

pub const MAIN: &str = r#"
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS customers (
    id            TEXT PRIMARY KEY,
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    country       TEXT NOT NULL,
    subdivision   TEXT,
    card_token    TEXT UNIQUE,
    card_bin      TEXT,
    card_last4    TEXT,
    -- ISO 639-1 code the customer prefers letters in; NULL: by residency.
    -- (Schema 2; older directories get it from `MIGRATIONS`.)
    language      TEXT
) WITHOUT ROWID;
-- Render reads the few customers with a preference, not the whole table.
CREATE INDEX IF NOT EXISTS customers_language ON customers (language) WHERE language IS NOT NULL;

CREATE TABLE IF NOT EXISTS customer_fields (
    customer_id TEXT NOT NULL,
    element     TEXT NOT NULL,
    key_version INTEGER NOT NULL,
    ciphertext  BLOB NOT NULL,
    PRIMARY KEY (customer_id, element)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS customer_fields_version ON customer_fields (key_version);

CREATE TABLE IF NOT EXISTS blind_index (
    element     TEXT NOT NULL,
    digest      BLOB NOT NULL,
    customer_id TEXT NOT NULL,
    PRIMARY KEY (element, digest, customer_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS blind_index_customer ON blind_index (customer_id);

CREATE TABLE IF NOT EXISTS api_keys (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    secret_hash   BLOB NOT NULL,
    scopes        TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    created_by    TEXT NOT NULL,
    expires_at_ms INTEGER,
    revoked_at_ms INTEGER,
    revoked_by    TEXT,
    last_used_ms  INTEGER
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS api_key_scope_use (
    key_id       TEXT NOT NULL,
    scope        TEXT NOT NULL,
    last_used_ms INTEGER NOT NULL,
    PRIMARY KEY (key_id, scope)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS access_log (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms        INTEGER NOT NULL,
    principal    TEXT NOT NULL,
    action       TEXT NOT NULL,
    purpose      TEXT,
    customer_id  TEXT,
    elements     TEXT NOT NULL,
    outcome      TEXT NOT NULL,
    reason       TEXT,
    source       TEXT,
    result_count INTEGER
);
CREATE INDEX IF NOT EXISTS access_log_principal_at ON access_log (principal, at_ms);
CREATE INDEX IF NOT EXISTS access_log_at ON access_log (at_ms);
CREATE INDEX IF NOT EXISTS access_log_customer ON access_log (customer_id);
CREATE INDEX IF NOT EXISTS access_log_source_at ON access_log (source, at_ms);

-- A recurring duty done (compliance calendar): the day, the kind of
-- evidence and where it is (an evidence hash, a drill run, a review id).
CREATE TABLE IF NOT EXISTS compliance_completions (
    id           INTEGER PRIMARY KEY,
    duty_id      TEXT NOT NULL,
    completed_on TEXT NOT NULL,
    evidence     TEXT NOT NULL,
    reference    TEXT,
    actor        TEXT NOT NULL,
    recorded_ms  INTEGER NOT NULL,
    -- The document in the evidence locker, by hash (schema 3).
    document_sha256 TEXT,
    document_name   TEXT,
    document_size   INTEGER
);
CREATE INDEX IF NOT EXISTS compliance_completions_duty ON compliance_completions (duty_id, completed_on);

CREATE TABLE IF NOT EXISTS training_assignments (
    id          INTEGER PRIMARY KEY,
    person      TEXT NOT NULL,
    module      TEXT NOT NULL,
    version     INTEGER NOT NULL,
    role        TEXT,
    assigned_on TEXT NOT NULL,
    due_on      TEXT NOT NULL,
    actor       TEXT NOT NULL,
    recorded_ms INTEGER NOT NULL,
    UNIQUE (person, module)
);
CREATE TABLE IF NOT EXISTS training_attempts (
    id      INTEGER PRIMARY KEY,
    person  TEXT NOT NULL,
    module  TEXT NOT NULL,
    version INTEGER NOT NULL,
    score   INTEGER NOT NULL,
    passed  INTEGER NOT NULL,
    on_day  TEXT NOT NULL,
    at_ms   INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS training_attempts_person ON training_attempts (person, module, on_day);
CREATE TABLE IF NOT EXISTS training_acknowledgements (
    id      INTEGER PRIMARY KEY,
    person  TEXT NOT NULL,
    module  TEXT NOT NULL,
    version INTEGER NOT NULL,
    at_ms   INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS phishing_results (
    id          INTEGER PRIMARY KEY,
    campaign_id TEXT NOT NULL,
    person_hash TEXT NOT NULL,
    operator    TEXT,
    event       TEXT NOT NULL,
    at_ms       INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS ledger (
    seq       INTEGER PRIMARY KEY,
    at_ms     INTEGER NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    subject   TEXT NOT NULL,
    details   TEXT NOT NULL,
    prev_hash BLOB NOT NULL,
    hash      BLOB NOT NULL
);

CREATE TABLE IF NOT EXISTS alerts (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    rule_id       TEXT NOT NULL,
    rule_title    TEXT NOT NULL,
    level         TEXT NOT NULL,
    group_key     TEXT NOT NULL,
    first_seen_ms INTEGER NOT NULL,
    last_seen_ms  INTEGER NOT NULL,
    count         INTEGER NOT NULL,
    fields        TEXT NOT NULL,
    source        TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS alerts_dedup ON alerts (rule_id, group_key, last_seen_ms);
CREATE INDEX IF NOT EXISTS alerts_level ON alerts (level, id);

CREATE TABLE IF NOT EXISTS incidents (
    id            INTEGER PRIMARY KEY,
    phase         TEXT NOT NULL,
    severity      TEXT NOT NULL,
    title         TEXT NOT NULL,
    body          TEXT NOT NULL,
    updated_at_ms INTEGER NOT NULL
);

-- The open tasks' due times, kept beside incident_tasks by every save, so the
-- incident board finds each incident's next deadline and overdue count by
-- index instead of reading every task.
CREATE TABLE IF NOT EXISTS incident_open_tasks (
    incident_id INTEGER NOT NULL,
    key         TEXT NOT NULL,
    due_ms      INTEGER,
    PRIMARY KEY (incident_id, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS incidents_phase ON incidents (phase, id);
-- Per incident, its nearest open deadline (`due_key`: Unix ms, or the largest
-- integer when it has none) and open-task count, kept by every save: the
-- board walks `incident_due_order` and stops after one page.
CREATE TABLE IF NOT EXISTS incident_due (
    incident_id INTEGER PRIMARY KEY,
    due_key     INTEGER NOT NULL,
    open_tasks  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS incident_due_order ON incident_due (due_key, incident_id);
-- Each scope snapshot's summary apart from its (possibly huge) customer
-- list, so pages that need the counts never read the list.
CREATE TABLE IF NOT EXISTS scope_summaries (
    incident_id INTEGER NOT NULL,
    version     INTEGER NOT NULL,
    summary     TEXT NOT NULL,
    PRIMARY KEY (incident_id, version)
);

-- Legal approvals given to a notice version; with two required (the
-- `notice_approvals_required` setting) a version is approved at the second,
-- distinct operator's.
CREATE TABLE IF NOT EXISTS notice_approvals (
    incident_id INTEGER NOT NULL,
    version     INTEGER NOT NULL,
    operator_id TEXT NOT NULL,
    at_ms       INTEGER NOT NULL,
    PRIMARY KEY (incident_id, version, operator_id)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS incident_timeline (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id INTEGER NOT NULL,
    body        TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS incident_timeline_incident ON incident_timeline (incident_id, seq);

CREATE TABLE IF NOT EXISTS incident_tasks (
    incident_id INTEGER NOT NULL,
    key         TEXT NOT NULL,
    body        TEXT NOT NULL,
    PRIMARY KEY (incident_id, key)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS webhooks (
    id            TEXT PRIMARY KEY,
    event         TEXT NOT NULL,
    url           TEXT NOT NULL,
    secret        BLOB NOT NULL,
    created_at_ms INTEGER NOT NULL,
    created_by    TEXT NOT NULL
) WITHOUT ROWID;

-- Payment pages watched for script and header changes (PCI DSS 6.4.3,
-- 11.6.1). Cookies for pages behind a cart are sealed under the root key.
CREATE TABLE IF NOT EXISTS watched_pages (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    url           TEXT NOT NULL,
    every_secs    INTEGER NOT NULL,
    report_token  TEXT NOT NULL UNIQUE,
    cookie_names  TEXT NOT NULL,
    cookies       BLOB,
    created_ms    INTEGER NOT NULL,
    created_by    TEXT NOT NULL
);

-- Each crawl of a watched page: what changed, and the locker hashes of its
-- rendered page, the document as served and the run's manifest.
CREATE TABLE IF NOT EXISTS pagewatch_runs (
    id              INTEGER PRIMARY KEY,
    page_id         INTEGER NOT NULL,
    started_ms      INTEGER NOT NULL,
    elapsed_ms      INTEGER NOT NULL,
    outcome         TEXT NOT NULL,
    error           TEXT,
    final_url       TEXT,
    http_status     INTEGER,
    scripts         INTEGER NOT NULL,
    truncated       INTEGER NOT NULL,
    changes         TEXT NOT NULL,
    snapshot_sha256 TEXT,
    document_sha256 TEXT,
    manifest_sha256 TEXT,
    alerts          TEXT NOT NULL,
    incident_id     INTEGER
);
CREATE INDEX IF NOT EXISTS pagewatch_runs_page ON pagewatch_runs (page_id, id);

-- The script inventory of a page after its latest run (PCI DSS 6.4.3).
CREATE TABLE IF NOT EXISTS pagewatch_inventory (
    page_id   INTEGER PRIMARY KEY,
    run_id    INTEGER NOT NULL,
    inventory TEXT NOT NULL
);

-- Who authorised which script, vendor origin or host on a page, and why.
CREATE TABLE IF NOT EXISTS pagewatch_approvals (
    id            INTEGER PRIMARY KEY,
    page_id       INTEGER NOT NULL,
    owner         TEXT NOT NULL,
    justification TEXT NOT NULL,
    approver      TEXT NOT NULL,
    approved_ms   INTEGER NOT NULL,
    kind          TEXT NOT NULL,
    script        TEXT,
    sha256        TEXT,
    origin        TEXT,
    allowed_hosts TEXT,
    host          TEXT,
    revoked_ms    INTEGER,
    revoked_by    TEXT,
    revoke_reason TEXT
);
CREATE INDEX IF NOT EXISTS pagewatch_approvals_page ON pagewatch_approvals (page_id, revoked_ms);

CREATE TABLE IF NOT EXISTS evidence (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id      INTEGER NOT NULL,
    sha256           TEXT NOT NULL,
    name             TEXT NOT NULL,
    size             INTEGER NOT NULL,
    description      TEXT,
    source           TEXT,
    collected_by     TEXT NOT NULL,
    collected_at_ms  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS evidence_incident ON evidence (incident_id, id);

CREATE TABLE IF NOT EXISTS evidence_custody (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    evidence_id INTEGER NOT NULL,
    at_ms       INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    details     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS evidence_custody_item ON evidence_custody (evidence_id, seq);

CREATE TABLE IF NOT EXISTS incident_updates (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id INTEGER NOT NULL,
    at_ms       INTEGER NOT NULL,
    author      TEXT NOT NULL,
    text        TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS incident_updates_incident ON incident_updates (incident_id, id);

-- Notices to individuals. A version is one render of an incident's letters:
-- the facts and the template files it used (so approval fixes the wording),
-- and one stencil per letter shape (no personal data: stand-ins for name and
-- code). Each outbox row is one letter to one customer on one channel; its
-- personal values (name, address, enrolment code) are sealed under a
-- root-derived key bound to the row's identity.
CREATE TABLE IF NOT EXISTS notice_versions (
    incident_id   INTEGER NOT NULL,
    version       INTEGER NOT NULL,
    created_ms    INTEGER NOT NULL,
    created_by    TEXT NOT NULL,
    scope_version INTEGER NOT NULL,
    notice_date   TEXT NOT NULL,
    facts         TEXT NOT NULL,
    templates     TEXT NOT NULL,
    digest        TEXT NOT NULL,
    state         TEXT NOT NULL,
    approved_by   TEXT,
    approved_ms   INTEGER,
    report        TEXT NOT NULL,
    PRIMARY KEY (incident_id, version)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS notice_stencils (
    incident_id  INTEGER NOT NULL,
    version      INTEGER NOT NULL,
    stencil      INTEGER NOT NULL,
    jurisdiction TEXT NOT NULL,
    language     TEXT NOT NULL,
    template     TEXT NOT NULL,
    subject      TEXT NOT NULL,
    text         TEXT NOT NULL,
    html         TEXT NOT NULL,
    PRIMARY KEY (incident_id, version, stencil)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS outbox (
    id           INTEGER PRIMARY KEY,
    incident_id  INTEGER NOT NULL,
    version      INTEGER NOT NULL,
    customer_id  TEXT NOT NULL,
    channel      TEXT NOT NULL,
    stencil      INTEGER NOT NULL,
    jurisdiction TEXT NOT NULL,
    personal     BLOB NOT NULL,
    state        TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_ms      INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    sent_ms      INTEGER,
    message_id   TEXT,
    UNIQUE (incident_id, customer_id, channel, version)
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (state, next_ms);
CREATE INDEX IF NOT EXISTS outbox_customer ON outbox (customer_id);
-- Counts by version, state and jurisdiction read from the index alone (an
-- outbox row carries its sealed personal data; 100,000 of them are large).
CREATE INDEX IF NOT EXISTS outbox_progress ON outbox (incident_id, version, state, channel, jurisdiction);

CREATE TABLE IF NOT EXISTS remedy_codes (
    incident_id INTEGER NOT NULL,
    code        TEXT NOT NULL,
    customer_id TEXT,
    PRIMARY KEY (incident_id, code)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS remedy_codes_customer ON remedy_codes (incident_id, customer_id) WHERE customer_id IS NOT NULL;

CREATE TABLE IF NOT EXISTS scope_snapshots (
    incident_id INTEGER NOT NULL,
    version     INTEGER NOT NULL,
    at_ms       INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    summary     TEXT NOT NULL,
    customers   TEXT NOT NULL,
    PRIMARY KEY (incident_id, version)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS ledger_checkpoints (
    seq        INTEGER PRIMARY KEY,
    checkpoint TEXT NOT NULL
);

-- Operators: the people of the incident team who sign in. No account exists
-- until an administrator (or `init`) creates one; it can be used only once
-- enrolled (password + TOTP). Secrets are hashed (password, recovery codes,
-- tokens) or sealed under the keyring (the TOTP secret).
CREATE TABLE IF NOT EXISTS operators (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    email          TEXT UNIQUE,
    roles          TEXT NOT NULL,
    password_hash  TEXT,
    totp_sealed    BLOB,
    totp_last_step INTEGER,
    enrolled_ms    INTEGER,
    disabled_ms    INTEGER,
    created_ms     INTEGER NOT NULL,
    created_by     TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS operator_recovery_codes (
    operator_id TEXT NOT NULL,
    n           INTEGER NOT NULL,
    hash        TEXT NOT NULL,
    used_ms     INTEGER,
    PRIMARY KEY (operator_id, n)
) WITHOUT ROWID;

-- One-time enrolment links (single use, 24 h); the TOTP secret drawn for the
-- enrolment page waits here, sealed, until the first code proves it.
CREATE TABLE IF NOT EXISTS operator_enrolments (
    token_hash  BLOB PRIMARY KEY,
    operator_id TEXT NOT NULL,
    created_ms  INTEGER NOT NULL,
    expires_ms  INTEGER NOT NULL,
    used_ms     INTEGER,
    totp_sealed BLOB,
    created_by  TEXT NOT NULL
) WITHOUT ROWID;

-- Between the password and the second factor: a short-lived ticket.
CREATE TABLE IF NOT EXISTS operator_logins (
    ticket_hash BLOB PRIMARY KEY,
    operator_id TEXT NOT NULL,
    created_ms  INTEGER NOT NULL,
    source      TEXT
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS operator_sessions (
    id_hash          BLOB PRIMARY KEY,
    operator_id      TEXT NOT NULL,
    kind             TEXT NOT NULL,
    created_ms       INTEGER NOT NULL,
    last_seen_ms     INTEGER NOT NULL,
    second_factor_ms INTEGER NOT NULL,
    source           TEXT,
    user_agent       TEXT
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS operator_sessions_operator ON operator_sessions (operator_id);

-- When each operator last signed in or used a session, for the access review
-- (PCI DSS 8.2.6): sessions are deleted when they end, this is not.
CREATE TABLE IF NOT EXISTS operator_last_use (
    operator_id  TEXT PRIMARY KEY,
    last_used_ms INTEGER NOT NULL
) WITHOUT ROWID;

-- Drill runs (see drills.rs): the scenario as run (JSON), the clock (start,
-- speed, pauses as JSON [[from, to|null]]), the fired injects (JSON), how far
-- their events were sent, and the score at the end. What a run creates is
-- tied to it in the tables after it, so real boards, counts and the outbox
-- leave it out; its alerts carry the source `drill:<run>`.
CREATE TABLE IF NOT EXISTS drill_runs (
    id              INTEGER PRIMARY KEY,
    scenario_id     TEXT NOT NULL,
    scenario        TEXT NOT NULL,
    speed           INTEGER NOT NULL,
    state           TEXT NOT NULL,
    started_ms      INTEGER NOT NULL,
    started_by      TEXT NOT NULL,
    pauses          TEXT NOT NULL,
    fired           TEXT NOT NULL,
    first_attack_ms INTEGER,
    sent_through_ms INTEGER NOT NULL,
    heartbeat_ms    INTEGER,
    finished_ms     INTEGER,
    score           TEXT
);
CREATE INDEX IF NOT EXISTS drill_runs_state ON drill_runs (state, id);
CREATE TABLE IF NOT EXISTS drill_incidents (
    incident_id INTEGER PRIMARY KEY,
    run_id      INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS drill_incidents_run ON drill_incidents (run_id);
CREATE TABLE IF NOT EXISTS drill_customers (
    customer_id TEXT PRIMARY KEY,
    run_id      INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS drill_customers_run ON drill_customers (run_id);
-- Injects' messages to operators: sent by serve's sender to the operators'
-- own addresses, never through the customer outbox.
CREATE TABLE IF NOT EXISTS drill_messages (
    id         INTEGER PRIMARY KEY,
    run_id     INTEGER NOT NULL,
    inject     TEXT NOT NULL,
    role       TEXT NOT NULL,
    operator   TEXT NOT NULL,
    email      TEXT NOT NULL,
    subject    TEXT NOT NULL,
    body       TEXT NOT NULL,
    state      TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    sent_ms    INTEGER
);
-- A finished run's improvement plan: each item owned by a role, due by a
-- date, open until recorded done (PCI DSS 12.10.6).
CREATE TABLE IF NOT EXISTS drill_improvements (
    id        INTEGER PRIMARY KEY,
    run_id    INTEGER NOT NULL,
    title     TEXT NOT NULL,
    objective TEXT NOT NULL,
    owner     TEXT NOT NULL,
    due_ms    INTEGER NOT NULL,
    done_ms   INTEGER,
    done_by   TEXT,
    note      TEXT
);
-- Containment run on a drill's incidents: it acts on the drill alone (its
-- stolen key is refused from then on), never on the real store.
CREATE TABLE IF NOT EXISTS drill_containment (
    run_id INTEGER NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    undo   INTEGER NOT NULL,
    at_ms  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS alerts_source ON alerts (source, id);

-- Failed sign-ins per account (`account:<id>`) and per source (`source:<ip>`).
CREATE TABLE IF NOT EXISTS login_throttle (
    subject         TEXT PRIMARY KEY,
    failures        INTEGER NOT NULL,
    last_failure_ms INTEGER NOT NULL
) WITHOUT ROWID;

-- How far each followed log file was read (`bulwark tail`, `serve --watch`):
-- the file's fingerprint (`len:sha256` of its first bytes), device:inode as a
-- hint, the offset and line just after the last line processed. Advanced in
-- the same transaction as the alerts those lines raised; the counters add up
-- every batch.
CREATE TABLE IF NOT EXISTS tail_checkpoints (
    path          TEXT PRIMARY KEY,
    fingerprint   TEXT NOT NULL,
    file_id       TEXT,
    offset        INTEGER NOT NULL,
    line          INTEGER NOT NULL,
    lines_read    INTEGER NOT NULL DEFAULT 0,
    malformed     INTEGER NOT NULL DEFAULT 0,
    detections    INTEGER NOT NULL DEFAULT 0,
    updated_at_ms INTEGER NOT NULL
) WITHOUT ROWID;
"#;

pub const KEYS: &str = r#"
CREATE TABLE IF NOT EXISTS keyring (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    record TEXT NOT NULL
);

-- Customers whose keys a job changed, until both files have committed: what
-- start-up repair must look at after a crash (see store::reconcile).
CREATE TABLE IF NOT EXISTS pending (
    customer_id TEXT PRIMARY KEY
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS customer_keys (
    customer_id TEXT NOT NULL,
    version     INTEGER NOT NULL,
    wrapped     BLOB NOT NULL,
    PRIMARY KEY (customer_id, version)
) WITHOUT ROWID;
"#;
