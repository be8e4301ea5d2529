//! The OpenAPI 3.1 document served at `/v1/openapi.json`, generated from the
//! handlers' `#[utoipa::path]` annotations and the request and response types
//! themselves (`routes::router` collects them), so it cannot drift from what
//! the server does. This module holds the parts no handler owns: the
//! document's header, the security scheme and the problem responses.

use std::collections::BTreeMap;

use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr};
use utoipa::{IntoResponses, Modify, OpenApi};

use crate::problem::{FieldProblem, Problem};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Bulwark API",
        description = "Customer data vault, access log, ledger, detection and incidents. Errors are RFC 9457 problem documents that name the field or grant at fault and never echo a value. Nothing Bulwark says is legal advice."
    ),
    modifiers(&BearerAuth),
    components(schemas(Problem, FieldProblem)),
    tags(
        (name = "vault", description = "Customer records: create, find, reveal (logged), erase"),
        (name = "keys", description = "API keys and the access review"),
        (name = "operators", description = "The incident team's accounts and sessions"),
        (name = "notices", description = "Breach notices: render, approve (a signed-in legal operator), delivery"),
        (name = "audit", description = "Access log and ledger"),
        (name = "detection", description = "Events in, alerts out"),
        (name = "incidents", description = "Incidents, tasks, containment, evidence, scope"),
        (name = "drills", description = "Drill runs: attacks replayed through the real pipeline, the team scored"),
        (name = "compliance", description = "The calendar of recurring duties and their completions (not legal or assessor advice)"),
        (name = "pagewatch", description = "Payment pages watched for script and security-header changes (PCI DSS 6.4.3, 11.6.1)"),
        (name = "training", description = "Security-awareness training: assignments, graded attempts, phishing outcomes"),
        (name = "public", description = "Without authentication"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi
            .components
            .get_or_insert_with(utoipa::openapi::Components::new);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("API key bwk_<id>_<secret>"))
                    .build(),
            ),
        );
    }
}

fn problem(description: &str) -> RefOr<Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
        .into()
}

/// Sets of problem responses a route can answer, named for `responses(...)`.
macro_rules! problems {
    ($($(#[$doc:meta])* $name:ident { $($code:literal => $desc:literal),+ $(,)? })*) => {
        $(
            $(#[$doc])*
            pub struct $name;

            impl IntoResponses for $name {
                fn responses() -> BTreeMap<String, RefOr<Response>> {
                    BTreeMap::from([$(($code.to_owned(), problem($desc))),+])
                }
            }
        )*
    };
}

problems! {
    /// Every route behind an API key.
    Auth {
        "401" => "No valid API key (missing, malformed, unknown, revoked or expired)",
        "403" => "The key lacks the scope this route needs",
    }
    /// Input that is not valid: the body, a parameter or a field.
    Invalid {
        "400" => "The request is not valid; the problem names the field or parameter",
    }
    /// A named resource that does not exist.
    Missing {
        "404" => "No such resource",
    }
    /// A change the resource's current state does not allow.
    Conflict {
        "409" => "Not allowed in the resource's current state",
    }
    /// A body over the route's size limit.
    TooLarge {
        "413" => "The request body is larger than this route accepts",
    }
    /// Failures on the server's side; nothing was acknowledged.
    Failure {
        "500" => "Internal error; nothing was acknowledged",
        "503" => "Storage unavailable, keyring locked or a feature not running; retry later",
    }
}

/// Operations that declare no security are public: they say so with an empty
/// requirement list, as OpenAPI defines (`security: []`).
pub(crate) fn mark_public(doc: &mut utoipa::openapi::OpenApi) {
    for item in doc.paths.paths.values_mut() {
        for op in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.options,
            &mut item.head,
            &mut item.patch,
            &mut item.trace,
        ]
        .into_iter()
        .flatten()
        {
            if op.security.is_none() {
                op.security = Some(Vec::new());
            }
        }
    }
}

/// A raw request body (a file, or JSON lines): bytes as sent.
pub struct RawBytes;

impl utoipa::PartialSchema for RawBytes {
    fn schema() -> RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .into()
    }
}

impl utoipa::ToSchema for RawBytes {}

/// The document as JSON. utoipa 5.5 writes a link's `operationId`,
/// `operationRef` and `requestBody` in snake case; they are renamed here to the
/// names the OpenAPI specification gives them.
pub(crate) fn to_json(
    doc: &utoipa::openapi::OpenApi,
) -> Result<serde_json::Value, serde_json::Error> {
    let mut v = serde_json::to_value(doc)?;
    fix_links(&mut v);
    Ok(v)
}

fn fix_links(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            if let Some(serde_json::Value::Object(links)) = m.get_mut("links") {
                for link in links.values_mut() {
                    if let serde_json::Value::Object(l) = link {
                        for (from, to) in [
                            ("operation_id", "operationId"),
                            ("operation_ref", "operationRef"),
                            ("request_body", "requestBody"),
                        ] {
                            if let Some(x) = l.remove(from) {
                                l.insert(to.to_owned(), x);
                            }
                        }
                    }
                }
            }
            for x in m.values_mut() {
                fix_links(x);
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(fix_links),
        _ => {}
    }
}
