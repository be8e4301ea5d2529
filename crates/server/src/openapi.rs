//! The OpenAPI 3.1 document served at `/v1/openapi.json`. A test checks that
//! every operation listed here is routed and every route is listed.

use bulwark_model::DataElement;
use serde_json::{json, Value};

fn problem_responses(codes: &[&str]) -> Value {
    let mut m = serde_json::Map::new();
    for c in codes {
        m.insert(
            (*c).to_owned(),
            json!({"$ref": format!("#/components/responses/Problem{c}")}),
        );
    }
    Value::Object(m)
}

fn op(summary: &str, scope: &str, ok: (&str, Value), errors: &[&str]) -> Value {
    let mut responses = problem_responses(errors);
    if let Value::Object(m) = &mut responses {
        m.insert(ok.0.to_owned(), ok.1);
    }
    json!({
        "summary": summary,
        "description": format!("Requires scope `{scope}`."),
        "security": [{"bearer": []}],
        "responses": responses,
    })
}

fn ok_json(desc: &str, schema: Value) -> Value {
    json!({"description": desc, "content": {"application/json": {"schema": schema}}})
}

fn no_content() -> Value {
    json!({"description": "Done"})
}

fn body(schema: Value) -> Value {
    json!({"required": true, "content": {"application/json": {"schema": schema}}})
}

fn param(name: &str, place: &str, desc: &str, required: bool) -> Value {
    json!({"name": name, "in": place, "required": required, "description": desc, "schema": {"type": "string"}})
}

pub fn document() -> Value {
    let elements: Vec<&str> = DataElement::ALL.iter().map(|e| e.code()).collect();
    let field_props: serde_json::Map<String, Value> = elements
        .iter()
        .map(|e| ((*e).to_owned(), json!({"type": "string"})))
        .collect();
    let customer_id = param("id", "path", "Customer id", true);
    let mut doc = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Bulwark API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Customer data vault, access log and ledger. Errors are RFC 9457 problem details."
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "API key bwk_<id>_<secret>"}},
            "schemas": {
                "Problem": {
                    "type": "object",
                    "required": ["type", "title", "status"],
                    "properties": {
                        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
                        "detail": {"type": "string"},
                        "errors": {"type": "array", "items": {"type": "object", "properties": {"field": {"type": "string"}, "message": {"type": "string"}}}},
                        "refused_fields": {"type": "array", "items": {"type": "string", "enum": elements}}
                    }
                },
                "Residency": {
                    "type": "object", "required": ["country"],
                    "properties": {"country": {"type": "string", "description": "ISO 3166-1 alpha-2"}, "subdivision": {"type": "string", "description": "ISO 3166-2"}}
                },
                "Fields": {"type": "object", "additionalProperties": false, "properties": field_props},
                "NewCustomer": {
                    "type": "object", "required": ["residency"],
                    "properties": {"external_id": {"type": "string"}, "residency": {"$ref": "#/components/schemas/Residency"}, "fields": {"$ref": "#/components/schemas/Fields"}}
                },
                "CustomerPatch": {
                    "type": "object",
                    "properties": {"external_id": {"type": "string"}, "residency": {"$ref": "#/components/schemas/Residency"},
                                   "fields": {"type": "object", "description": "A field set to null is removed", "additionalProperties": {"type": ["string", "null"]}}}
                },
                "CustomerMeta": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string", "format": "uuid"}, "external_id": {"type": "string"},
                        "residency": {"$ref": "#/components/schemas/Residency"},
                        "elements": {"type": "array", "items": {"type": "string"}},
                        "card": {"type": "object", "properties": {"token": {"type": "string"}, "bin": {"type": "string"}, "last4": {"type": "string"}}},
                        "key_versions": {"type": "array", "items": {"type": "integer"}},
                        "created_at": {"type": "string", "format": "date-time"}, "updated_at": {"type": "string", "format": "date-time"}
                    }
                },
                "Revealed": {
                    "type": "object",
                    "properties": {"id": {"type": "string"}, "fields": {"$ref": "#/components/schemas/Fields"},
                                   "absent": {"type": "array", "items": {"type": "string"}}, "access_id": {"type": "integer"}}
                },
                "IdList": {
                    "type": "object",
                    "properties": {"items": {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "string"}}}},
                                   "next_cursor": {"type": ["string", "null"]}}
                },
                "ApiKey": {
                    "type": "object",
                    "properties": {"id": {"type": "string"}, "name": {"type": "string"}, "scopes": {"type": "array", "items": {"type": "string"}},
                                   "created_at_ms": {"type": "integer"}, "created_by": {"type": "string"}, "expires_at_ms": {"type": ["integer", "null"]},
                                   "revoked_at_ms": {"type": ["integer", "null"]}, "last_used_ms": {"type": ["integer", "null"]},
                                   "key": {"type": "string", "description": "Only in the response to creation"}}
                },
                "AccessRecord": {
                    "type": "object",
                    "properties": {"id": {"type": "integer"}, "at": {"type": "string", "format": "date-time"}, "principal": {"type": "string"},
                                   "action": {"type": "string", "enum": ["reveal", "lookup"]}, "purpose": {"type": ["string", "null"]},
                                   "customer_id": {"type": ["string", "null"]}, "elements": {"type": "array", "items": {"type": "string"}},
                                   "outcome": {"type": "string", "enum": ["allowed", "denied", "not_found"]}, "reason": {"type": ["string", "null"]},
                                   "source": {"type": ["string", "null"]}, "result_count": {"type": ["integer", "null"]}}
                },
                "ScopeSummary": {
                    "type": "object",
                    "properties": {"query": {"type": "object"}, "source": {"type": "string", "enum": ["access_log", "asset", "import"]},
                                   "customers": {"type": "integer"}, "reveals": {"type": "integer"},
                                   "by_element": {"type": "object", "additionalProperties": {"type": "integer"}},
                                   "by_jurisdiction": {"type": "object", "additionalProperties": {"type": "integer"}},
                                   "affected": {"type": "array", "items": {"type": "object", "properties": {"jurisdiction": {"type": "string"}, "elements": {"type": "array", "items": {"type": "string"}}, "count": {"type": "integer"}}}},
                                   "residency_unknown": {"type": "integer"}, "encrypted": {"type": "boolean"}, "key_compromised": {"type": "boolean"}}
                },
                "Checkpoint": {
                    "type": "object",
                    "properties": {"seq": {"type": "integer"}, "head_hash": {"type": "string"}, "at": {"type": "string"}, "at_ms": {"type": "integer"},
                                   "public_key": {"type": "string"}, "signature": {"type": "string"}}
                }
            },
            "responses": {}
        },
        "paths": {
            "/healthz": {"get": {"summary": "Liveness", "security": [], "responses": {"200": ok_json("Alive", json!({"type": "object"}))}}},
            "/v1/openapi.json": {"get": op("This document", "any valid key", ("200", ok_json("OpenAPI document", json!({"type": "object"}))), &["401"])},
            "/v1/customers": {
                "post": merge(json!({
                    "requestBody": body(json!({"$ref": "#/components/schemas/NewCustomer"}))
                }), op("Store a customer in the vault", "vault:write", ("201", ok_json("Created", json!({"type": "object", "properties": {"id": {"type": "string"}}}))), &["400", "401", "403", "409"])),
                "get": merge(json!({
                    "parameters": [
                        param("email", "query", "Exact match through the blind index (scope vault:lookup)", false),
                        param("phone", "query", "Exact match, E.164 (scope vault:lookup)", false),
                        param("external_id", "query", "Exact match (scope vault:lookup)", false),
                        param("card_token", "query", "Exact match (scope vault:lookup)", false),
                        param("cursor", "query", "From next_cursor", false),
                        param("limit", "query", "1 to 1000", false),
                        param("X-Bulwark-Purpose", "header", "Why (recorded for lookups)", false)
                    ]
                }), op("Find customers by an indexed element, or list ids", "vault:lookup (search) or vault:read (list)", ("200", ok_json("Matches", json!({"$ref": "#/components/schemas/IdList"}))), &["400", "401", "403"]))
            },
            "/v1/customers/{id}": {
                "get": merge(json!({
                    "parameters": [customer_id.clone(),
                        param("fields", "query", "Comma-separated data elements to reveal; each needs vault:reveal:<element>. Without it: metadata (vault:read).", false),
                        param("X-Bulwark-Purpose", "header", "Required for reveals; recorded in the access log", false)]
                }), op("Reveal fields, or read metadata", "vault:reveal:<element> per field, or vault:read", ("200", ok_json("Revealed fields or metadata", json!({"oneOf": [{"$ref": "#/components/schemas/Revealed"}, {"$ref": "#/components/schemas/CustomerMeta"}]}))), &["400", "401", "403", "404"])),
                "patch": merge(json!({
                    "parameters": [customer_id.clone()],
                    "requestBody": body(json!({"$ref": "#/components/schemas/CustomerPatch"}))
                }), op("Update a customer", "vault:write", ("204", no_content()), &["400", "401", "403", "404", "409"])),
                "delete": merge(json!({
                    "parameters": [customer_id]
                }), op("Erase a customer (crypto-shredding)", "vault:write", ("204", no_content()), &["401", "403", "404"]))
            },
            "/v1/keys": {
                "post": merge(json!({
                    "requestBody": body(json!({"type": "object", "required": ["name", "scopes"], "properties": {"name": {"type": "string"}, "scopes": {"type": "array", "items": {"type": "string"}}, "expires_at": {"type": "string", "format": "date-time"}}}))
                }), op("Issue an API key (the secret is returned once)", "admin", ("201", ok_json("Created", json!({"$ref": "#/components/schemas/ApiKey"}))), &["400", "401", "403"])),
                "get": op("List API keys", "admin", ("200", ok_json("Keys", json!({"type": "object", "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/ApiKey"}}}}))), &["401", "403"])
            },
            "/v1/keys/review": {"get": merge(json!({
                "parameters": [param("idle_days", "query", "Report keys idle at least this many days (default 90)", false)]
                }), op("Access review: idle keys and never-exercised grants", "admin", ("200", ok_json("Findings", json!({"type": "object"}))), &["401", "403"]))},
            "/v1/keys/{id}": {"delete": merge(json!({
                "parameters": [param("id", "path", "Key id", true)]
                }), op("Revoke an API key", "admin", ("204", no_content()), &["401", "403", "404"]))},
            "/v1/access-log": {"get": merge(json!({
                "parameters": [param("principal", "query", "e.g. key:3f9a1c2b7d4e", false), param("customer", "query", "Customer id", false),
                               param("since", "query", "RFC 3339", false), param("until", "query", "RFC 3339 (exclusive)", false),
                               param("cursor", "query", "From next_cursor", false), param("limit", "query", "1 to 1000", false)]
                }), op("Every reveal, lookup and refusal", "audit:read", ("200", ok_json("Records", json!({"type": "object", "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/AccessRecord"}}, "next_cursor": {"type": ["integer", "null"]}}}))), &["400", "401", "403"]))},
            "/v1/ledger/verify": {"get": op("Verify the whole hash chain and its checkpoints", "audit:read", ("200", ok_json("Result", json!({"type": "object"}))), &["401", "403"])},
            "/v1/ledger/checkpoints": {
                "post": op("Sign a checkpoint of the current head", "audit:read", ("201", ok_json("Checkpoint", json!({"$ref": "#/components/schemas/Checkpoint"}))), &["401", "403"]),
                "get": op("The latest signed checkpoint", "audit:read", ("200", ok_json("Checkpoint", json!({"$ref": "#/components/schemas/Checkpoint"}))), &["401", "403", "404"])
            },
            "/v1/events": {"post": merge(json!({
                "parameters": [param("product", "query", "Log source of these events", false), param("category", "query", "Log source", false), param("service", "query", "Log source", false)],
                "requestBody": {"required": true, "content": {"application/x-ndjson": {"schema": {"type": "string", "description": "One JSON object (ECS fields) per line; at most 8 MiB"}}}}
            }), op("Analyse events with the live rule set (503 + Retry-After when busy)", "events:write", ("202", ok_json("Accepted", json!({"type": "object", "properties": {"accepted": {"type": "integer"}, "malformed": {"type": "array"}, "detections": {"type": "integer"}, "new_alerts": {"type": "array", "items": {"type": "integer"}}}}))), &["400", "401", "403"]))},
            "/v1/alerts": {"get": merge(json!({
                "parameters": [param("level", "query", "Minimum level", false), param("rule", "query", "Rule id", false), param("since", "query", "RFC 3339", false),
                               param("cursor", "query", "From next_cursor", false), param("limit", "query", "1 to 1000", false)]
            }), op("Alerts, de-duplicated per rule and group within an hour", "alerts:read", ("200", ok_json("Alerts", json!({"type": "object"}))), &["400", "401", "403"]))},
            "/v1/rules/reload": {"post": op("Recompile the rules (built-in pack plus the data directory's rules/) without dropping events", "admin", ("200", ok_json("Loaded", json!({"type": "object"}))), &["400", "401", "403"])},
            "/v1/incidents": {
                "post": merge(json!({"requestBody": body(json!({"type": "object", "required": ["title", "severity", "classification", "discovered_at", "aware_at"],
                    "properties": {"title": {"type": "string"}, "summary": {"type": "string"}, "severity": {"type": "string", "enum": ["sev1", "sev2", "sev3", "sev4"]},
                                   "classification": {"type": "string"}, "discovered_at": {"type": "string", "format": "date-time"}, "aware_at": {"type": "string", "format": "date-time"},
                                   "affected_systems": {"type": "array"}, "elements": {"type": "array"}, "jurisdictions": {"type": "array"}, "card_data": {"type": "boolean"}, "owner": {"type": "string"}}}))}),
                    op("Open an incident; playbooks for its classification become tasks", "incidents:write", ("201", ok_json("Incident, timeline, tasks", json!({"type": "object"}))), &["400", "401", "403", "409"])),
                "get": op("List incidents", "incidents:read", ("200", ok_json("Incidents", json!({"type": "object"}))), &["401", "403"])
            },
            "/v1/incidents/{id}": {
                "get": merge(json!({"parameters": [param("id", "path", "Incident number", true)]}),
                    op("An incident with its timeline and tasks", "incidents:read", ("200", ok_json("Incident", json!({"type": "object"}))), &["401", "403", "404"])),
                "patch": merge(json!({"parameters": [param("id", "path", "Incident number", true)], "requestBody": body(json!({"type": "object", "description": "Any of title, summary, severity, classification, discovered_at, aware_at, affected_systems, owner, elements, jurisdictions, card_data, root_cause, first_malicious_activity, review"}))}),
                    op("Change an incident's fields (tasks are rescheduled)", "incidents:write", ("200", ok_json("Incident", json!({"type": "object"}))), &["400", "401", "403", "404", "409"]))
            },
            "/v1/incidents/{id}/team": {"post": merge(json!({"parameters": [param("id", "path", "Incident number", true)],
                "requestBody": body(json!({"type": "object", "required": ["role", "person"], "properties": {"role": {"type": "string"}, "person": {"type": "string"}}}))}),
                op("Assign a person to a role on this incident", "incidents:write", ("204", no_content()), &["400", "401", "403", "404", "409"]))},
            "/v1/incidents/{id}/advance": {"post": merge(json!({"parameters": [param("id", "path", "Incident number", true)],
                "requestBody": body(json!({"type": "object", "required": ["phase"], "properties": {"phase": {"type": "string"}, "reason": {"type": "string"}}}))}),
                op("Move to another phase (or reopen, with a reason)", "incidents:write", ("200", ok_json("Incident", json!({"type": "object"}))), &["400", "401", "403", "404", "409"]))},
            "/v1/incidents/{id}/notes": {"post": merge(json!({"parameters": [param("id", "path", "Incident number", true)],
                "requestBody": body(json!({"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}}))}),
                op("Add a note to the timeline", "incidents:write", ("204", no_content()), &["400", "401", "403", "404"]))},
            "/v1/incidents/{id}/tasks/{key}": {"post": merge(json!({"parameters": [param("id", "path", "Incident number", true), param("key", "path", "Task key", true)],
                "requestBody": body(json!({"type": "object", "required": ["action"], "properties": {"action": {"type": "string", "enum": ["done", "skip", "reopen"]}, "note": {"type": "string"}, "reason": {"type": "string"}}}))}),
                op("Complete, skip or reopen a task", "incidents:write", ("200", ok_json("Incident", json!({"type": "object"}))), &["400", "401", "403", "404", "409"]))},
            "/v1/incidents/{id}/containment": {"post": merge(json!({"parameters": [param("id", "path", "Incident number", true)],
                "requestBody": body(json!({"type": "object", "required": ["action", "reason"], "properties": {
                    "action": {"type": "object", "properties": {"kind": {"type": "string", "enum": ["revoke_api_key", "vault_lockdown", "rotate_data_key", "webhook"]}, "event": {"type": "string"}}},
                    "target": {"type": "string"}, "undo": {"type": "boolean"}, "reason": {"type": "string"}}}))}),
                op("Run a containment action and record it (needs the action's own grant too)", "incidents:write", ("200", ok_json("The record", json!({"type": "object"}))), &["400", "401", "403", "404", "409"]))},
            "/v1/assets": {"get": op("The critical-asset inventory, ranked by sensitivity × customers", "incidents:read", ("200", ok_json("Ranked assets", json!({"type": "object"}))), &["401", "403"])},
            "/v1/webhooks": {
                "post": merge(json!({"requestBody": body(json!({"type": "object", "required": ["event", "url"], "properties": {"event": {"type": "string"}, "url": {"type": "string"}}}))}),
                    op("Register a store webhook for containment (the signing secret is returned once)", "admin", ("201", ok_json("Webhook and secret", json!({"type": "object"}))), &["400", "401", "403"])),
                "get": op("List store webhooks", "admin", ("200", ok_json("Webhooks", json!({"type": "object"}))), &["401", "403"])
            },
            "/v1/incidents/{id}/evidence": {
                "post": merge(json!({"parameters": [param("id", "path", "Incident number", true), param("name", "query", "File name", true),
                                                    param("description", "query", "What it is", false), param("source", "query", "Where it came from", false)],
                    "requestBody": {"required": true, "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}}),
                    op("Add an evidence file (content-addressed, write-once, custody recorded; up to 256 MiB)", "incidents:write", ("201", ok_json("The item", json!({"type": "object"}))), &["400", "401", "403", "404"])),
                "get": merge(json!({"parameters": [param("id", "path", "Incident number", true)]}),
                    op("An incident's evidence", "incidents:read", ("200", ok_json("Items", json!({"type": "object"}))), &["401", "403", "404"]))
            },
            "/v1/incidents/{id}/updates": {"post": merge(json!({"parameters": [param("id", "path", "Incident number", true)],
                "requestBody": body(json!({"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}}))}),
                op("Publish an update on the incident's public page", "incidents:write", ("201", ok_json("Published", json!({"type": "object"}))), &["400", "401", "403", "404"]))},
            "/updates/{slug}": {"get": merge(json!({"parameters": [param("slug", "path", "The incident's page name", true)]}),
                json!({"summary": "The public updates page (no authentication)", "security": [], "responses": {"200": {"description": "HTML", "content": {"text/html": {}}}, "404": {"$ref": "#/components/responses/Problem404"}}}))},
            "/v1/incidents/{id}/scope": {
                "post": merge(json!({"parameters": [param("id", "path", "Incident number", true)],
                    "requestBody": body(json!({"type": "object", "description": "Either the access log (principals and/or sources, since, optional until) or a compromised system from the asset inventory (asset).",
                        "properties": {"principals": {"type": "array", "items": {"type": "string"}, "description": "key:<id> or operator:<name>"},
                                       "sources": {"type": "array", "items": {"type": "string"}, "description": "Source addresses"},
                                       "since": {"type": "string", "format": "date-time"}, "until": {"type": "string", "format": "date-time", "description": "Exclusive; default now"},
                                       "asset": {"type": "string", "description": "An asset name from GET /v1/assets; not combined with the access-log members"},
                                       "encrypted": {"type": "boolean"}, "key_compromised": {"type": "boolean"}}}))}),
                    op("Compute the incident's scope and save it as its next snapshot", "incidents:write and audit:read", ("201", ok_json("Version and counts",
                        json!({"type": "object", "properties": {"incident": {"type": "integer"}, "version": {"type": "integer"}, "summary": {"$ref": "#/components/schemas/ScopeSummary"}}}))), &["400", "401", "403", "404"])),
                "get": merge(json!({"parameters": [param("id", "path", "Incident number", true)]}),
                    op("The incident's newest scope snapshot (customer ids, residency and elements; no PII values)", "incidents:read", ("200", ok_json("Snapshot",
                        json!({"type": "object", "properties": {"incident": {"type": "integer"}, "version": {"type": "integer"}, "at": {"type": "string", "format": "date-time"},
                            "actor": {"type": "string"}, "summary": {"$ref": "#/components/schemas/ScopeSummary"},
                            "customers": {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "string"}, "residency": {"oneOf": [{"$ref": "#/components/schemas/Residency"}, {"type": "null"}]},
                                "elements": {"type": "array", "items": {"type": "string"}}}}}}}))), &["401", "403", "404"]))
            },
            "/v1/incidents/{id}/report": {"get": merge(json!({"parameters": [param("id", "path", "Incident number", true), param("format", "query", "md or html", false)]}),
                op("The post-incident review", "incidents:read", ("200", json!({"description": "Markdown or HTML", "content": {"text/markdown": {}, "text/html": {}}})), &["400", "401", "403", "404"]))},
            "/v1/vault/lockdown": {
                "post": merge(json!({
                    "requestBody": body(json!({"type": "object", "required": ["enabled"], "properties": {"enabled": {"type": "boolean"}, "reason": {"type": "string"}}}))
                }), op("Switch vault lockdown (only vault:break-glass keys may reveal while on)", "vault:lockdown", ("200", ok_json("State", json!({"type": "object"}))), &["400", "401", "403"])),
                "get": op("Lockdown state", "vault:read", ("200", ok_json("State", json!({"type": "object"}))), &["401", "403"])
            }
        }
    });
    let responses = &mut doc["components"]["responses"];
    for (code, desc) in [
        ("400", "Invalid request"),
        ("401", "Missing or bad API key"),
        ("403", "Not allowed"),
        ("404", "Not found"),
        ("409", "Conflict"),
    ] {
        responses[format!("Problem{code}")] = json!({
            "description": desc,
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
        });
    }
    doc
}

/// An operation with extra members (parameters, request body) added.
fn merge(extra: Value, mut base: Value) -> Value {
    if let (Value::Object(b), Value::Object(e)) = (&mut base, extra) {
        b.extend(e);
    }
    base
}
