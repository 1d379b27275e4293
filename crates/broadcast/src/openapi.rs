//! The OpenAPI 3.1 document of the HTTP API, served at
//! `GET /api/openapi.json` (public, like `/healthz`).
//!
//! It is built from the code, not written beside it:
//!
//! * every route of [`crate::http::router`] is one entry of [`operations`]
//!   (path, method, role); the tests check both ways that the router and
//!   this table agree (`crates/broadcast/tests/openapi.rs`: each documented operation is
//!   routed, each other method of its path is 405, and every `.route(…)`
//!   of the router is documented);
//! * the query parameters are the handlers' own parameter structs
//!   ([`crate::params`], `IntoParams`), so the document lists exactly what
//!   a handler reads and the values it accepts (anything else is 400);
//! * the error answer of every route is the one error type,
//!   [`ApiError`](crate::ApiError) (`{"error": "…"}`);
//! * the vessel object is [`VesselView`], the picture's own type.
//!
//! The other answers and bodies are built by the server crates as JSON
//! (`serde_json::Value` through [`PictureApi`](crate::PictureApi) and
//! [`SarApi`](crate::SarApi)); their wire forms are described by the
//! types of [`wire`], and the end-to-end test validates a running server's
//! real answers, and the bodies it accepted, against this document with
//! an independent validator (`tests/openapi_doc.rs` at the workspace
//! root), so a field changed on one side only fails a test (a field the
//! server adds to an answer is allowed: answers are open objects; bodies
//! are closed). Authentication is the `bearer` scheme (`Authorization: Bearer
//! …`); the role a route needs is the requirement's scope (`viewer`,
//! `operator`, as OpenAPI 3.1 allows for non-OAuth schemes).

use crate::api::ApiError;
use crate::params;
use crate::view::VesselView;
use std::sync::OnceLock;
use utoipa::openapi::path::{HttpMethod, Operation, OperationBuilder, Parameter, ParameterBuilder};
use utoipa::openapi::path::{ParameterIn, ParameterStyle};
use utoipa::openapi::request_body::{RequestBody, RequestBodyBuilder};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, HeaderBuilder, InfoBuilder, LicenseBuilder, OpenApi,
    OpenApiBuilder, Paths, Ref, RefOr, Required, Response, ResponseBuilder, Schema,
};
use utoipa::{IntoParams, PartialSchema, ToSchema};

/// Who may call an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (`/healthz`, this document).
    Public,
    /// A `viewer` token or better.
    Viewer,
    /// An `operator` token or better.
    Operator,
}

/// One documented operation: a method of a route of the router.
#[derive(Clone)]
pub struct Op {
    pub method: HttpMethod,
    /// The path as the router writes it (`/api/vessels/{mmsi}`).
    pub path: &'static str,
    pub access: Access,
    operation: Operation,
}

/// The JSON text of the document (built once).
pub fn json() -> String {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| {
        document()
            .to_pretty_json()
            .expect("the document serialises")
    })
    .clone()
}

/// The document.
pub fn document() -> OpenApi {
    let mut paths = Paths::new();
    for op in operations() {
        paths.add_path_operation(op.path, vec![op.method], op.operation);
    }
    let mut schemas = Vec::new();
    wire::schemas(&mut schemas);
    let components = ComponentsBuilder::new()
        .schemas_from_iter(schemas)
        .security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "`Authorization: Bearer <token>` (the scheme in any case). Tokens are \
                         configured as SHA-256 hashes ([[auth.tokens]], `lookout token hash`), \
                         each with a role: viewer reads; operator also acknowledges alerts and \
                         writes zones, contacts and incidents; admin may do everything. The \
                         requirement's scope is the role an operation needs.",
                    ))
                    .build(),
            ),
        )
        .security_scheme(
            "query_token",
            SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::with_description(
                "token",
                "`?token=` on the WebSocket only (browsers cannot set its headers).",
            ))),
        )
        .build();
    let info = InfoBuilder::new()
        .title("Lookout HTTP API")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "The HTTP API of Lookout, a maritime AIS operations picture: vessels, tracks, \
             zones, alerts, feeds, SAR contacts and incidents, search planning. One port also \
             serves the WebSocket (`/ws`, protocol in docs/protocol.md). Every error is \
             `{\"error\": \"…\"}` (ApiError) with its status; an unknown query parameter or \
             value is 400. Times are UNIX ms or RFC 3339 between 1970 and 2200. Limits: \
             docs/security.md.",
        ))
        .license(Some(
            LicenseBuilder::new()
                .name("Apache-2.0")
                .identifier(Some("Apache-2.0"))
                .build(),
        ))
        .build();
    OpenApiBuilder::new()
        .info(info)
        .paths(paths)
        .components(Some(components))
        .security(Some([SecurityRequirement::new("bearer", ["viewer"])]))
        .build()
}

// ---- building blocks ----

fn schema_ref<T: ToSchema>() -> RefOr<Schema> {
    RefOr::Ref(Ref::from_schema_name(T::name()))
}

fn json_content<T: ToSchema>() -> utoipa::openapi::Content {
    ContentBuilder::new()
        .schema(Some(schema_ref::<T>()))
        .build()
}

/// A GeoJSON answer (`application/geo+json`, RFC 7946).
fn geo<T: ToSchema>(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content("application/geo+json", json_content::<T>())
        .build()
}

/// A GeoJSON answer, or with `?format=` GPX or KML.
fn geo_export<T: ToSchema>(description: &str) -> Response {
    let text = || ContentBuilder::new().schema(Some(String::schema())).build();
    ResponseBuilder::new()
        .description(description)
        .content("application/geo+json", json_content::<T>())
        .content("application/gpx+xml", text())
        .content("application/vnd.google-earth.kml+xml", text())
        .build()
}

/// An array of `T`.
fn list_of<T: ToSchema>(description: &str) -> Response {
    let array = utoipa::openapi::schema::ArrayBuilder::new().items(schema_ref::<T>());
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new().schema(Some(array)).build(),
        )
        .build()
}

fn ok<T: ToSchema>(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content("application/json", json_content::<T>())
        .build()
}

fn created<T: ToSchema>(description: &str, location: bool) -> Response {
    let mut r = ResponseBuilder::new()
        .description(description)
        .content("application/json", json_content::<T>());
    if location {
        r = r.header(
            "Location",
            HeaderBuilder::new()
                .schema(String::schema())
                .description(Some("where it can be read again"))
                .build(),
        );
    }
    r.build()
}

fn text(description: &str, content_type: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            content_type,
            ContentBuilder::new().schema(Some(String::schema())).build(),
        )
        .build()
}

fn body<T: ToSchema>(description: &str, required: bool) -> RequestBody {
    RequestBodyBuilder::new()
        .description(Some(description))
        .required(Some(if required {
            Required::True
        } else {
            Required::False
        }))
        .content("application/json", json_content::<T>())
        .build()
}

fn query<T: IntoParams>() -> Vec<Parameter> {
    T::into_params(|| Some(ParameterIn::Query))
}

fn path_param<T: PartialSchema>(name: &str, description: &str) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some(description))
        .schema(Some(T::schema()))
        .style(Some(ParameterStyle::Simple))
        .build()
}

fn id(what: &str) -> Parameter {
    path_param::<String>(
        "id",
        &format!("{what} id: 1–128 characters, no control or bidirectional formatting characters"),
    )
}

/// What each error status means, for every route that can answer it.
fn error(status: u16) -> (String, Response) {
    let description = match status {
        400 => {
            "Bad input: an unknown or malformed query parameter (the message names it and \
                what is accepted), path id or body; unknown body fields too"
        }
        401 => "A token is required, or the token is invalid (`WWW-Authenticate: Bearer`)",
        403 => "The token's role does not allow this (operator needed)",
        404 => "No such object",
        408 => "The request body did not arrive within body_timeout_ms",
        409 => "Not allowed in the object's current state",
        413 => "The request body is larger than max_body_bytes",
        422 => "Well-formed but not valid (out of range, not a polygon)",
        500 => "It could not be stored: nothing was changed",
        503 => {
            "Not available here (no archive, no SAR state, search planning is done on the \
                core, the core did not confirm), or not answered within request_timeout_ms"
        }
        _ => "Error",
    };
    (status.to_string(), ok::<ApiError>(description))
}

/// An operation; `errors` beyond 400, 401, 503 (and 403 for operator
/// routes), which every authenticated route can answer.
#[allow(clippy::too_many_arguments)]
fn op(
    method: HttpMethod,
    path: &'static str,
    operation_id: &str,
    tag: &str,
    summary: &str,
    access: Access,
    parameters: Vec<Parameter>,
    request_body: Option<RequestBody>,
    answers: Vec<(u16, Response)>,
    errors: &[u16],
) -> Op {
    let mut b = OperationBuilder::new()
        .operation_id(Some(operation_id))
        .tag(tag)
        .summary(Some(summary))
        .parameters(Some(parameters))
        .request_body(request_body);
    for (status, r) in answers {
        b = b.response(status.to_string(), r);
    }
    let mut statuses: Vec<u16> = match access {
        Access::Public => vec![],
        Access::Viewer => vec![400, 401, 503],
        Access::Operator => vec![400, 401, 403, 503],
    };
    statuses.extend_from_slice(errors);
    statuses.sort_unstable();
    statuses.dedup();
    for s in statuses {
        let (code, r) = error(s);
        b = b.response(code, r);
    }
    b = match access {
        Access::Public => b.securities(Some([SecurityRequirement::default()])),
        Access::Viewer => b.security(SecurityRequirement::new("bearer", ["viewer"])),
        Access::Operator => b.security(SecurityRequirement::new("bearer", ["operator"])),
    };
    Op {
        method,
        path,
        access,
        operation: b.build(),
    }
}

/// Every operation of the router, in the router's order.
pub fn operations() -> Vec<Op> {
    use wire::*;
    use Access::{Operator, Public, Viewer};
    use HttpMethod::{Delete, Get, Patch, Post, Put};
    let none = query::<params::NoParams>;
    let mmsi = || path_param::<u32>("mmsi", "the vessel's MMSI");
    let sar_read: &[u16] = &[404];
    let sar_write: &[u16] = &[404, 408, 409, 413, 422, 500];
    let mut ops = vec![
        op(
            Get,
            "/healthz",
            "healthz",
            "server",
            "Liveness: `ok` to anyone; with a token also the reasons for `degraded`, the \
             client count and the picture's status",
            Public,
            vec![],
            None,
            vec![(200, ok::<Health>("alive"))],
            &[],
        ),
        op(
            Get,
            "/metrics",
            "metrics",
            "server",
            "Prometheus text: messages, vessels, clients, queue depths, drops, errors; OpenMetrics 1.0 when the Accept header asks for application/openmetrics-text",
            Viewer,
            vec![],
            None,
            vec![(
                200,
                text(
                    "the Prometheus text format 0.0.4 (or OpenMetrics 1.0, application/openmetrics-text; version=1.0.0, when asked)",
                    "text/plain; version=0.0.4; charset=utf-8",
                ),
            )],
            &[],
        ),
        op(
            Get,
            "/ws",
            "websocket",
            "server",
            "The WebSocket (protocol v1, docs/protocol.md); the token in the header or as \
             `?token=`",
            Viewer,
            query::<params::WsParams>(),
            None,
            vec![(
                101,
                ResponseBuilder::new()
                    .description("Switching Protocols: the WebSocket")
                    .build(),
            )],
            &[],
        ),
        op(
            Get,
            "/api/openapi.json",
            "openapi",
            "server",
            "This document",
            Public,
            vec![],
            None,
            vec![(
                200,
                ResponseBuilder::new()
                    .description("the OpenAPI 3.1 document")
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(utoipa::openapi::schema::Object::new()))
                            .build(),
                    )
                    .build(),
            )],
            &[],
        ),
        op(
            Get,
            "/api/status",
            "status",
            "picture",
            "The picture's counts and clock (replay time and speed when replaying)",
            Viewer,
            none(),
            None,
            vec![(200, ok::<Status>("the status"))],
            &[],
        ),
        op(
            Get,
            "/api/vessels",
            "vessels",
            "picture",
            "Vessels in boxes passing a filter, or (with `q`) a search of the whole picture",
            Viewer,
            query::<params::VesselsParams>(),
            None,
            vec![(
                200,
                ok::<VesselCollection>("the vessels as Points; Feature id = MMSI"),
            )],
            &[],
        ),
        op(
            Get,
            "/api/vessels/{mmsi}",
            "vessel",
            "picture",
            "All known static, voyage and dynamic data of one vessel",
            Viewer,
            [vec![mmsi()], none()].concat(),
            None,
            vec![(200, ok::<VesselDetail>("the vessel"))],
            &[404],
        ),
        op(
            Get,
            "/api/vessels/{mmsi}/track",
            "vessel_track",
            "picture",
            "A vessel's track (from the archive when `from` is older than the picture's memory)",
            Viewer,
            [vec![mmsi()], query::<params::TrackParams>()].concat(),
            None,
            vec![(
                200,
                geo_export::<Feature>("a Feature with a LineString and per-point times"),
            )],
            &[404],
        ),
        op(
            Get,
            "/api/nearest",
            "nearest",
            "picture",
            "The `k` nearest vessels that can help (ships, craft, SAR aircraft, own assets)",
            Viewer,
            query::<params::NearestParams>(),
            None,
            vec![(200, ok::<Nearest>("the nearest vessels, nearest first"))],
            &[],
        ),
        op(
            Get,
            "/api/history",
            "history",
            "picture",
            "Every vessel that came within the radius during the window, from the archive",
            Viewer,
            query::<params::HistoryParams>(),
            None,
            vec![(
                200,
                geo_export::<FeatureCollection>("each vessel's closest approach and track"),
            )],
            &[],
        ),
        op(
            Get,
            "/api/zones",
            "zones",
            "zones",
            "The zones",
            Viewer,
            none(),
            None,
            vec![(200, geo::<ZoneCollection>("the zones"))],
            &[],
        ),
    ];
    for (method, operation_id) in [(Post, "post_zone"), (Put, "put_zone")] {
        ops.push(op(
            method,
            "/api/zones/{id}",
            operation_id,
            "zones",
            "Create or replace a zone (validated like zone files)",
            Operator,
            [vec![id("zone")], none()].concat(),
            Some(body::<Zone>("the zone as a GeoJSON Feature", true)),
            vec![(200, ok::<ZoneChange>("saved"))],
            &[408, 413, 422, 500],
        ));
    }
    ops.extend([
        op(
            Delete,
            "/api/zones/{id}",
            "delete_zone",
            "zones",
            "Delete a zone",
            Operator,
            [vec![id("zone")], none()].concat(),
            None,
            vec![(200, ok::<ZoneChange>("deleted"))],
            &[404, 500],
        ),
        op(
            Get,
            "/api/sources",
            "sources",
            "picture",
            "Feed status",
            Viewer,
            none(),
            None,
            vec![(200, ok::<Sources>("every feed"))],
            &[],
        ),
        op(
            Get,
            "/api/alerts",
            "alerts",
            "alerts",
            "Alerts, newest first",
            Viewer,
            query::<params::AlertsParams>(),
            None,
            vec![(200, list_of::<Alert>("the alerts"))],
            &[],
        ),
        op(
            Post,
            "/api/alerts/{id}/ack",
            "ack_alert",
            "alerts",
            "Acknowledge an alert",
            Operator,
            [vec![id("alert")], none()].concat(),
            Some(body::<AckBody>("an optional note", false)),
            vec![(200, ok::<Alert>("the acknowledged alert"))],
            &[404, 408, 413, 500],
        ),
        op(
            Get,
            "/api/contacts",
            "contacts",
            "contacts",
            "Contacts, newest change first",
            Viewer,
            query::<params::ContactsParams>(),
            None,
            vec![(200, list_of::<Contact>("the contacts"))],
            &[],
        ),
        op(
            Post,
            "/api/contacts",
            "create_contact",
            "contacts",
            "Create a contact from its first sighting",
            Operator,
            none(),
            Some(body::<NewContact>(
                "the description and first sighting",
                true,
            )),
            vec![(201, created::<Contact>("the contact", true))],
            sar_write,
        ),
        op(
            Get,
            "/api/contacts/{id}",
            "contact",
            "contacts",
            "One contact with all its sightings",
            Viewer,
            [vec![id("contact")], none()].concat(),
            None,
            vec![(200, ok::<Contact>("the contact"))],
            sar_read,
        ),
    ]);
    for (method, operation_id) in [(Put, "update_contact"), (Patch, "patch_contact")] {
        ops.push(op(
            method,
            "/api/contacts/{id}",
            operation_id,
            "contacts",
            "Change description and/or status; with lat/lon also add a sighting",
            Operator,
            [vec![id("contact")], none()].concat(),
            Some(body::<ContactUpdate>("what changes", true)),
            vec![(200, ok::<Contact>("the contact"))],
            sar_write,
        ));
    }
    ops.extend([
        op(
            Post,
            "/api/contacts/{id}/sightings",
            "add_sighting",
            "contacts",
            "Append a sighting to the contact's track",
            Operator,
            [vec![id("contact")], none()].concat(),
            Some(body::<NewSighting>("the sighting", true)),
            vec![(201, created::<Contact>("the contact", false))],
            sar_write,
        ),
        op(
            Get,
            "/api/contacts/{id}/intercepts",
            "contact_intercepts",
            "contacts",
            "The vessels that can reach the contact first (time to intercept)",
            Viewer,
            [vec![id("contact")], query::<params::InterceptParams>()].concat(),
            None,
            vec![(200, ok::<Intercepts>("the ranking"))],
            sar_read,
        ),
        op(
            Get,
            "/api/incidents",
            "incidents",
            "incidents",
            "Incidents, newest change first",
            Viewer,
            query::<params::IncidentsParams>(),
            None,
            vec![(200, list_of::<Incident>("the incidents"))],
            &[],
        ),
        op(
            Post,
            "/api/incidents",
            "create_incident",
            "incidents",
            "Open an incident",
            Operator,
            none(),
            Some(body::<NewIncident>("the title and what it links", true)),
            vec![(201, created::<Incident>("the incident with its log", true))],
            sar_write,
        ),
        op(
            Get,
            "/api/incidents/{id}",
            "incident",
            "incidents",
            "One incident with its whole log (and its SAR region and RCC when known)",
            Viewer,
            [vec![id("incident")], none()].concat(),
            None,
            vec![(200, ok::<Incident>("the incident"))],
            sar_read,
        ),
        op(
            Patch,
            "/api/incidents/{id}",
            "patch_incident",
            "incidents",
            "An action, or just a status change",
            Operator,
            [vec![id("incident")], none()].concat(),
            Some(body::<IncidentPatch>(
                "an action or `{\"status\": …}`",
                true,
            )),
            vec![(200, ok::<Incident>("the incident"))],
            sar_write,
        ),
        op(
            Post,
            "/api/incidents/{id}/actions",
            "incident_action",
            "incidents",
            "One action on the incident, logged with who did it",
            Operator,
            [vec![id("incident")], none()].concat(),
            Some(body::<IncidentAction>("the action", true)),
            vec![(200, ok::<Incident>("the incident"))],
            sar_write,
        ),
        op(
            Get,
            "/api/incidents/{id}/intercepts",
            "incident_intercepts",
            "incidents",
            "The vessels that can reach the incident's contacts, vessels or alerts first",
            Viewer,
            [vec![id("incident")], query::<params::InterceptParams>()].concat(),
            None,
            vec![(200, ok::<Intercepts>("the ranking"))],
            &[404, 409],
        ),
        op(
            Get,
            "/api/incidents/{id}/search-area",
            "search_area",
            "search planning",
            "The current search area, or number `n`",
            Viewer,
            [vec![id("incident")], query::<params::SearchAreaParams>()].concat(),
            None,
            vec![(200, ok::<SearchArea>("the search area"))],
            &[404, 409],
        ),
        op(
            Post,
            "/api/incidents/{id}/search-area",
            "plan_search_area",
            "search planning",
            "Compute a search area from a contact's drift and store it with the incident",
            Operator,
            [vec![id("incident")], none()].concat(),
            Some(body::<SearchAreaRequest>(
                "the LKP, object, wind, current, time",
                true,
            )),
            vec![(201, created::<SearchArea>("the search area", true))],
            sar_write,
        ),
        op(
            Get,
            "/api/incidents/{id}/patterns",
            "patterns",
            "search planning",
            "The incident's search patterns",
            Viewer,
            [vec![id("incident")], none()].concat(),
            None,
            vec![(
                200,
                geo::<FeatureCollection>("every pattern as a Feature LineString"),
            )],
            sar_read,
        ),
        op(
            Post,
            "/api/incidents/{id}/patterns",
            "plan_pattern",
            "search planning",
            "Plan a search pattern for an assigned asset and store it",
            Operator,
            [vec![id("incident")], none()].concat(),
            Some(body::<PatternRequest>("the pattern", true)),
            vec![(201, created::<PatternFeature>("the pattern", true))],
            sar_write,
        ),
        op(
            Get,
            "/api/incidents/{id}/patterns/{n}",
            "pattern",
            "search planning",
            "Pattern `n` for the searching unit's equipment",
            Viewer,
            [
                vec![
                    id("incident"),
                    path_param::<u32>("n", "the pattern's number, from 1"),
                ],
                query::<params::PatternParams>(),
            ]
            .concat(),
            None,
            vec![(
                200,
                ResponseBuilder::new()
                    .description("the pattern (`Content-Disposition: inline; filename=…`)")
                    .content("application/geo+json", json_content::<PatternFeature>())
                    .content(
                        "application/gpx+xml",
                        ContentBuilder::new().schema(Some(String::schema())).build(),
                    )
                    .content(
                        "application/vnd.google-earth.kml+xml",
                        ContentBuilder::new().schema(Some(String::schema())).build(),
                    )
                    .content(
                        "text/plain; charset=utf-8",
                        ContentBuilder::new().schema(Some(String::schema())).build(),
                    )
                    .build(),
            )],
            sar_read,
        ),
        op(
            Get,
            "/api/incidents/{id}/coverage",
            "coverage",
            "search planning",
            "Coverage factor and probability of detection of the current search area",
            Viewer,
            [vec![id("incident")], query::<params::CoverageParams>()].concat(),
            None,
            vec![(200, ok::<Coverage>("the coverage"))],
            &[404, 409],
        ),
        op(
            Get,
            "/api/incidents/{id}/export",
            "incident_export",
            "incidents",
            "The incident as a case file: its contacts' sightings and tracks, its assets' and \
             vessels' tracks since it was opened, its search areas and patterns (with the \
             incident and its log as foreign members)",
            Viewer,
            [vec![id("incident")], query::<params::ExportParams>()].concat(),
            None,
            vec![(200, geo_export::<FeatureCollection>("the case file"))],
            sar_read,
        ),
        op(
            Get,
            "/api/incidents/{id}/sitrep",
            "sitrep",
            "search planning",
            "The IAMSAR SITREP of the case, from the RCC of its region",
            Viewer,
            [vec![id("incident")], query::<params::SitrepParams>()].concat(),
            None,
            vec![(
                200,
                ResponseBuilder::new()
                    .description("the SITREP: the message (`format=text`) or its sections")
                    .content(
                        "text/plain; charset=utf-8",
                        ContentBuilder::new().schema(Some(String::schema())).build(),
                    )
                    .content("application/json", json_content::<Sitrep>())
                    .build(),
            )],
            &[404, 409],
        ),
    ]);
    // The WebSocket also takes the token as `?token=`.
    for op in ops.iter_mut().filter(|op| op.path == "/ws") {
        if let Some(security) = op.operation.security.as_mut() {
            security.push(SecurityRequirement::new("query_token", ["viewer"]));
        }
    }
    ops
}

/// The wire forms of the answers and bodies the server crates build as
/// JSON (see the module doc), with the request bodies' closed sets of
/// fields (`additionalProperties: false`, as the server refuses unknown
/// fields). Only for the document: the handlers do not construct these.
pub mod wire {
    #![allow(dead_code)]

    use super::*;
    use crate::params::{AlertState, ContactStatus, IncidentStatus, VesselClass};
    use serde::{Deserialize, Serialize};
    use serde_json::Value;

    type Schemas = Vec<(String, RefOr<Schema>)>;

    fn add<T: ToSchema>(schemas: &mut Schemas) {
        schemas.push((T::name().into_owned(), T::schema()));
        T::schemas(schemas);
    }

    /// Every named schema of the document.
    pub fn schemas(s: &mut Schemas) {
        add::<ApiError>(s);
        add::<VesselView>(s);
        add::<VesselClass>(s);
        add::<AlertState>(s);
        add::<ContactStatus>(s);
        add::<IncidentStatus>(s);
        add::<params::SitrepFormat>(s);
        add::<params::SitrepPriority>(s);
        add::<crate::api::PatternFormat>(s);
        add::<crate::geo_response::ExportFormat>(s);
        add::<Health>(s);
        add::<Status>(s);
        add::<Point>(s);
        add::<Geometry>(s);
        add::<Feature>(s);
        add::<FeatureCollection>(s);
        add::<VesselFeature>(s);
        add::<VesselCollection>(s);
        add::<VesselDetail>(s);
        add::<Nearest>(s);
        add::<NearestVessel>(s);
        add::<Zone>(s);
        add::<ZoneProperties>(s);
        add::<ZoneCollection>(s);
        add::<ZoneChange>(s);
        add::<Sources>(s);
        add::<Source>(s);
        add::<Alert>(s);
        add::<AckBody>(s);
        add::<Time>(s);
        add::<Sighting>(s);
        add::<Contact>(s);
        add::<SightingSource>(s);
        add::<NewContact>(s);
        add::<ContactUpdate>(s);
        add::<NewSighting>(s);
        add::<Asset>(s);
        add::<AssignedAsset>(s);
        add::<LogEntry>(s);
        add::<SearchAreaSummary>(s);
        add::<PatternSummary>(s);
        add::<Incident>(s);
        add::<NewIncident>(s);
        add::<IncidentAction>(s);
        add::<StatusChange>(s);
        add::<IncidentPatch>(s);
        add::<Intercepts>(s);
        add::<InterceptVessel>(s);
        add::<LatLon>(s);
        add::<Lkp>(s);
        add::<WindAt>(s);
        add::<Wind>(s);
        add::<Current>(s);
        add::<SearchAreaRequest>(s);
        add::<SpeedDir>(s);
        add::<Datums>(s);
        add::<SearchArea>(s);
        add::<PatternKind>(s);
        add::<Turn>(s);
        add::<Sweep>(s);
        add::<PatternRequest>(s);
        add::<PatternFeature>(s);
        add::<Coverage>(s);
        add::<Sitrep>(s);
        s.sort_by(|a, b| a.0.cmp(&b.0));
        s.dedup_by(|a, b| a.0 == b.0);
    }

    /// `/healthz`: `status` alone to a caller without a token.
    #[derive(Serialize, ToSchema)]
    pub struct Health {
        /// `ok`, or `degraded` (to an authenticated caller) with `reasons`.
        #[schema(examples("ok"))]
        pub status: String,
        /// What keeps the server from doing its whole job.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub reasons: Option<Vec<String>>,
        /// Connected WebSocket clients.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub clients: Option<u64>,
        /// What `/api/status` answers.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub picture: Option<Status>,
    }

    /// The picture's status (the fields depend on the node's role: a
    /// single server or core, or a cluster edge).
    #[derive(Serialize, ToSchema)]
    pub struct Status {
        /// `live`, `replay`, or `edge` on a cluster edge.
        pub mode: String,
        /// The picture's clock (message time), RFC 3339; null before the
        /// first message.
        #[schema(required = true, format = DateTime)]
        pub time: Option<String>,
        /// The same as UNIX ms.
        #[schema(required = true)]
        pub time_ms: Option<i64>,
        /// Vessels in the picture.
        pub vessels: u64,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub zones: Option<u64>,
        /// Replay speed (× real time) when replaying.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub replay_speed: Option<f64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub messages_per_s: Option<f64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub queue_depth: Option<u64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub degraded: Option<Vec<String>>,
    }

    /// `"type": "Point"`.
    #[derive(Serialize, ToSchema)]
    pub enum PointType {
        Point,
    }

    /// A GeoJSON Point.
    #[derive(Serialize, ToSchema)]
    pub struct Point {
        #[serde(rename = "type")]
        pub kind: PointType,
        /// `[lon, lat]`.
        #[schema(min_items = 2, max_items = 3)]
        pub coordinates: Vec<f64>,
    }

    /// A GeoJSON geometry (`Point`, `LineString`, `Polygon`, `MultiPolygon`, …).
    #[derive(Serialize, ToSchema)]
    pub struct Geometry {
        #[serde(rename = "type")]
        pub kind: String,
        #[schema(value_type = Value)]
        pub coordinates: Value,
    }

    /// `"type": "Feature"`.
    #[derive(Serialize, ToSchema)]
    pub enum FeatureType {
        Feature,
    }

    /// `"type": "FeatureCollection"`.
    #[derive(Serialize, ToSchema)]
    pub enum FeatureCollectionType {
        FeatureCollection,
    }

    /// A GeoJSON Feature.
    #[derive(Serialize, ToSchema)]
    pub struct Feature {
        #[serde(rename = "type")]
        pub kind: FeatureType,
        #[schema(required = true)]
        pub geometry: Option<Geometry>,
        #[schema(value_type = Option<Object>)]
        pub properties: Option<Value>,
    }

    /// A GeoJSON FeatureCollection.
    #[derive(Serialize, ToSchema)]
    pub struct FeatureCollection {
        #[serde(rename = "type")]
        pub kind: FeatureCollectionType,
        pub features: Vec<Feature>,
    }

    /// One vessel on the map: a Point whose properties are the vessel.
    #[derive(Serialize, ToSchema)]
    pub struct VesselFeature {
        #[serde(rename = "type")]
        pub kind: FeatureType,
        /// The MMSI.
        pub id: u32,
        pub geometry: Point,
        pub properties: VesselView,
    }

    /// Vessels as a FeatureCollection.
    #[derive(Serialize, ToSchema)]
    pub struct VesselCollection {
        #[serde(rename = "type")]
        pub kind: FeatureCollectionType,
        pub features: Vec<VesselFeature>,
    }

    /// Everything known of one vessel: identity, position, static and
    /// voyage data, as decoded (open: more fields as they become known).
    #[derive(Serialize, ToSchema)]
    pub struct VesselDetail {
        pub mmsi: u32,
    }

    /// `GET /api/nearest`.
    #[derive(Serialize, ToSchema)]
    pub struct Nearest {
        pub lat: f64,
        pub lon: f64,
        pub vessels: Vec<NearestVessel>,
    }

    /// One candidate, nearest first.
    #[derive(Serialize, ToSchema)]
    pub struct NearestVessel {
        pub vessel: VesselView,
        pub distance_nm: f64,
        pub bearing_deg: f64,
        pub course_to_point_deg: f64,
        /// At its current speed; null when it is not moving.
        #[schema(required = true)]
        pub time_to_reach_min: Option<f64>,
    }

    /// A zone's properties (as in zone files).
    #[derive(Serialize, ToSchema)]
    pub struct ZoneProperties {
        /// Unique, non-empty.
        pub id: String,
        pub name: String,
        /// One word: `patrol_area`, `sar_region`, `watch`, `port` or another.
        pub kind: String,
        /// Default true: false keeps membership without alerts.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub alerts: Option<bool>,
        /// A demonstration polygon, not an authoritative boundary.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub approximate: Option<bool>,
        /// Where the boundary comes from.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub source: Option<String>,
    }

    /// A zone: a GeoJSON Feature with a Polygon or MultiPolygon.
    #[derive(Serialize, ToSchema)]
    pub struct Zone {
        #[serde(rename = "type")]
        pub kind: FeatureType,
        pub geometry: Geometry,
        pub properties: ZoneProperties,
    }

    /// The zones.
    #[derive(Serialize, ToSchema)]
    pub struct ZoneCollection {
        #[serde(rename = "type")]
        pub kind: FeatureCollectionType,
        pub features: Vec<Zone>,
    }

    /// A zone write's answer.
    #[derive(Serialize, ToSchema)]
    pub struct ZoneChange {
        pub id: String,
        /// `saved` or `deleted`.
        pub status: String,
    }

    /// `GET /api/sources`: each feed (and the `status` on the `sources`
    /// WebSocket channel).
    #[derive(Serialize, ToSchema)]
    #[schema(as = Sources)]
    pub struct Sources(pub Vec<Source>);

    /// One feed.
    #[derive(Serialize, ToSchema)]
    pub struct Source {
        pub name: String,
        /// `tcp_client`, `tcp_listener`, `udp`, `file`, `stdin`, `replay`, …
        pub kind: String,
        /// `connected`, `connecting`, `listening`, `finished`, …
        pub state: String,
        pub lines: u64,
        pub messages: u64,
    }

    /// An alert (`a-` and 16 hex digits, stable for the same situation).
    #[derive(Serialize, ToSchema)]
    pub struct Alert {
        pub id: String,
        /// `distress_beacon`, `zone_entry`, `loitering`, `dark`, `encounter`, …
        pub kind: String,
        pub mmsi: u32,
        #[schema(required = true)]
        pub other_mmsi: Option<u32>,
        #[schema(required = true)]
        pub zone: Option<String>,
        /// Message time of the latest change.
        #[schema(format = DateTime)]
        pub time: String,
        #[schema(required = true)]
        pub lat: Option<f64>,
        #[schema(required = true)]
        pub lon: Option<f64>,
        /// `info`, `warning` or `critical`.
        pub severity: String,
        pub message: String,
        pub state: AlertState,
        #[schema(format = DateTime)]
        pub raised_at: String,
        #[schema(required = true, format = DateTime)]
        pub cleared_at: Option<String>,
        #[schema(required = true)]
        pub acknowledged_by: Option<String>,
        #[schema(required = true, format = DateTime)]
        pub acknowledged_at: Option<String>,
        #[schema(required = true)]
        pub note: Option<String>,
    }

    /// The body of `POST /api/alerts/{id}/ack` (may be empty).
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct AckBody {
        pub note: Option<String>,
    }

    /// A time in a body: UNIX ms, or RFC 3339 text; 1970–2199.
    #[derive(Deserialize, ToSchema)]
    #[serde(untagged)]
    pub enum Time {
        Ms(i64),
        Text(String),
    }

    /// How a contact was reported.
    #[derive(Serialize, Deserialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum SightingSource {
        Aircraft,
        Phone,
        Vessel,
        Other,
    }

    /// One report of where a contact was.
    #[derive(Serialize, ToSchema)]
    pub struct Sighting {
        #[schema(format = DateTime)]
        pub time: String,
        pub time_ms: i64,
        pub lat: f64,
        pub lon: f64,
        pub uncertainty_m: f64,
        pub uncertainty_nm: f64,
        #[schema(required = true)]
        pub course_deg: Option<f64>,
        #[schema(required = true)]
        pub speed_kn: Option<f64>,
        pub source: SightingSource,
        pub reported_by: String,
        #[schema(required = true)]
        pub note: Option<String>,
    }

    /// A non-AIS object: its latest sighting at the top level, and its
    /// track.
    #[derive(Serialize, ToSchema)]
    pub struct Contact {
        /// `c-` and six digits.
        pub id: String,
        pub description: String,
        pub status: ContactStatus,
        pub source: SightingSource,
        #[schema(format = DateTime)]
        pub time: String,
        pub time_ms: i64,
        pub lat: f64,
        pub lon: f64,
        pub uncertainty_m: f64,
        pub uncertainty_nm: f64,
        #[schema(required = true)]
        pub course_deg: Option<f64>,
        #[schema(required = true)]
        pub speed_kn: Option<f64>,
        #[schema(format = DateTime)]
        pub created: String,
        pub created_by: String,
        #[schema(format = DateTime)]
        pub updated: String,
        /// Grows by one with each change.
        pub version: u64,
        /// Sightings in time order.
        pub track: Vec<Sighting>,
    }

    /// The body of `POST /api/contacts`.
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct NewContact {
        /// What it is ("rubber boat, ~60 persons").
        pub description: String,
        pub lat: f64,
        pub lon: f64,
        /// When it was seen (default: the picture's clock).
        pub time: Option<Time>,
        /// Radius of the circle it is believed in (or `uncertainty_m`; default 1 NM).
        pub uncertainty_nm: Option<f64>,
        pub uncertainty_m: Option<f64>,
        pub source: Option<SightingSource>,
        /// Drift: course over ground, degrees true.
        pub course_deg: Option<f64>,
        /// Drift: speed over ground, knots.
        pub speed_kn: Option<f64>,
        pub note: Option<String>,
    }

    /// The body of `PUT`/`PATCH /api/contacts/{id}`: description and/or
    /// status, and a sighting when it has `lat`/`lon`.
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct ContactUpdate {
        pub description: Option<String>,
        pub status: Option<ContactStatus>,
        pub lat: Option<f64>,
        pub lon: Option<f64>,
        pub time: Option<Time>,
        pub uncertainty_nm: Option<f64>,
        pub uncertainty_m: Option<f64>,
        pub source: Option<SightingSource>,
        pub course_deg: Option<f64>,
        pub speed_kn: Option<f64>,
        pub note: Option<String>,
    }

    /// The body of `POST /api/contacts/{id}/sightings`.
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct NewSighting {
        pub lat: f64,
        pub lon: f64,
        pub time: Option<Time>,
        pub uncertainty_nm: Option<f64>,
        pub uncertainty_m: Option<f64>,
        pub source: Option<SightingSource>,
        pub course_deg: Option<f64>,
        pub speed_kn: Option<f64>,
        pub note: Option<String>,
    }

    /// A vessel by MMSI, or a named unit without AIS.
    #[derive(Serialize, Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Asset {
        #[serde(skip_serializing_if = "Option::is_none")]
        pub mmsi: Option<u32>,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub name: Option<String>,
    }

    /// An asset assigned to an incident.
    #[derive(Serialize, ToSchema)]
    pub struct AssignedAsset {
        #[schema(required = true)]
        pub mmsi: Option<u32>,
        #[schema(required = true)]
        pub name: Option<String>,
        #[schema(format = DateTime)]
        pub assigned: String,
        pub assigned_by: String,
    }

    /// One line of an incident's log: the action's fields (as in
    /// [`IncidentAction`]; search areas and patterns as summaries with a
    /// `text`) and who did it when.
    #[derive(Serialize, ToSchema)]
    pub struct LogEntry {
        /// From 1.
        pub seq: u64,
        /// `create`, `set_status`, `assign_asset`, …, `search_area`, `search_pattern`.
        pub action: String,
        pub who: String,
        /// The picture's clock when it was done.
        #[schema(format = DateTime)]
        pub time: String,
        /// The server's wall clock when it was recorded.
        #[schema(format = DateTime)]
        pub recorded: String,
    }

    /// A search area of the incident, summarised.
    #[derive(Serialize, ToSchema)]
    pub struct SearchAreaSummary {
        pub n: u64,
        pub seq: u64,
        #[schema(format = DateTime)]
        pub time: String,
        pub who: String,
        pub datum: LatLon,
        pub radius_nm: f64,
        pub error_nm: f64,
    }

    /// A search pattern of the incident, summarised.
    #[derive(Serialize, ToSchema)]
    pub struct PatternSummary {
        pub n: u64,
        pub seq: u64,
        #[schema(format = DateTime)]
        pub time: String,
        pub who: String,
        pub pattern: PatternKind,
        /// IAMSAR's code (`SS`, `VS`, `PS`, `TS`).
        pub code: String,
        #[schema(required = true)]
        pub asset: Option<u32>,
        #[schema(required = true)]
        pub asset_name: Option<String>,
        #[schema(format = DateTime)]
        pub start: String,
        #[schema(format = DateTime)]
        pub end: String,
        pub length_nm: f64,
        pub sweep_width_nm: f64,
    }

    /// One distress case.
    #[derive(Serialize, ToSchema)]
    pub struct Incident {
        /// `i-` and six digits.
        pub id: String,
        pub title: String,
        pub status: IncidentStatus,
        /// Linked contact ids.
        pub contacts: Vec<String>,
        /// Linked alert ids.
        pub alerts: Vec<String>,
        /// MMSIs of linked vessels in distress.
        pub vessels: Vec<u32>,
        pub assets: Vec<AssignedAsset>,
        #[schema(format = DateTime)]
        pub created: String,
        pub created_by: String,
        #[schema(format = DateTime)]
        pub updated: String,
        /// The number of log entries.
        pub version: u64,
        pub search_areas: Vec<SearchAreaSummary>,
        pub patterns: Vec<PatternSummary>,
        pub log: Vec<LogEntry>,
    }

    /// The body of `POST /api/incidents`.
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct NewIncident {
        pub title: String,
        /// Contact ids to link.
        #[serde(default)]
        pub contacts: Vec<String>,
        /// Alert ids to link.
        #[serde(default)]
        pub alerts: Vec<String>,
        /// MMSIs of vessels in distress.
        #[serde(default)]
        pub vessels: Vec<u32>,
        /// A first note.
        pub note: Option<String>,
    }

    /// An action on an incident (`action` says which).
    #[derive(Deserialize, ToSchema)]
    #[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
    pub enum IncidentAction {
        SetStatus {
            status: IncidentStatus,
            reason: Option<String>,
        },
        AssignAsset {
            asset: Asset,
        },
        ReleaseAsset {
            asset: Asset,
        },
        LinkContact {
            contact_id: String,
        },
        UnlinkContact {
            contact_id: String,
        },
        LinkAlert {
            alert_id: String,
        },
        UnlinkAlert {
            alert_id: String,
        },
        LinkVessel {
            mmsi: u32,
        },
        UnlinkVessel {
            mmsi: u32,
        },
        Note {
            text: String,
        },
        /// The operator notified someone (an RCC, a ship, an authority):
        /// the log records who notified whom, when and how.
        Notify {
            to: String,
            by: NotifyMeans,
            text: Option<String>,
        },
        Retitle {
            title: String,
        },
    }

    /// How a notification was made.
    #[derive(Deserialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum NotifyMeans {
        Phone,
        Email,
        Vhf,
        Dsc,
        Satcom,
        Fax,
        Other,
    }

    /// Just a status change (`PATCH /api/incidents/{id}`).
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct StatusChange {
        pub status: IncidentStatus,
        pub reason: Option<String>,
    }

    /// The body of `PATCH /api/incidents/{id}`.
    #[derive(Deserialize, ToSchema)]
    #[serde(untagged)]
    pub enum IncidentPatch {
        Action(IncidentAction),
        Status(StatusChange),
    }

    /// Who can reach it first (open: the model's parameters and the
    /// targets are included).
    #[derive(Serialize, ToSchema)]
    pub struct Intercepts {
        #[schema(format = DateTime)]
        pub time: String,
        #[schema(value_type = Vec<Object>)]
        pub targets: Vec<Value>,
        #[schema(value_type = Object)]
        pub model: Value,
        pub vessels: Vec<InterceptVessel>,
    }

    /// One vessel of the ranking.
    #[derive(Serialize, ToSchema)]
    pub struct InterceptVessel {
        /// The vessel as in `/api/vessels`.
        #[schema(value_type = Object)]
        pub vessel: Value,
        /// The target it reaches first.
        pub target: String,
        pub distance_nm: f64,
        pub reachable: bool,
        #[schema(required = true)]
        pub time_to_intercept_min: Option<f64>,
        pub assigned: bool,
    }

    /// A position.
    #[derive(Serialize, Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct LatLon {
        pub lat: f64,
        pub lon: f64,
    }

    /// A last known position given directly.
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Lkp {
        pub lat: f64,
        pub lon: f64,
        pub time: Time,
        /// Its probable error, NM.
        pub error_nm: Option<f64>,
    }

    /// Wind from a time on (`at` absent: from the start).
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct WindAt {
        pub at: Option<Time>,
        /// Where it blows from, degrees true.
        pub from_deg: f64,
        pub kn: f64,
    }

    /// One wind, or a list each holding until the next.
    #[derive(Deserialize, ToSchema)]
    #[serde(untagged)]
    pub enum Wind {
        One(WindAt),
        Over(Vec<WindAt>),
    }

    /// Total water current.
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Current {
        /// Where it flows towards, degrees true.
        pub set_deg: f64,
        pub kn: f64,
    }

    /// The body of `POST /api/incidents/{id}/search-area`.
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct SearchAreaRequest {
        /// The contact whose latest sighting is the LKP (default: the
        /// incident's most recently sighted contact).
        pub contact: Option<String>,
        /// Or the LKP itself.
        pub lkp: Option<Lkp>,
        /// Leeway category (`person_in_water`, `rubber_boat_overloaded`, …).
        pub object: String,
        pub wind: Wind,
        /// Default: measured by a drifting AIS-SART/MOB/EPIRB-AIS near the LKP.
        pub current: Option<Current>,
        /// The time of interest (commence search time).
        pub at: Time,
        /// 1–5 (default by `search_number`, 1.1 for the first).
        pub safety_factor: Option<f64>,
        pub search_number: Option<u32>,
        /// How the LKP was fixed, for X (default `gps`; `radar`, `visual`,
        /// `celestial`, `loran_c`, `radio_beacon`, `unknown_ship`, …: the
        /// sar crate's `NavFix`).
        pub position_fix: Option<String>,
        /// Initial position error X, NM (overrides `position_fix`).
        pub x_nm: Option<f64>,
        /// The search facility's navigation, for Y (default `gps`).
        pub search_fix: Option<String>,
        /// Search facility navigational error Y, NM.
        pub y_nm: Option<f64>,
        pub drift_error_fraction: Option<f64>,
        pub track_step_min: Option<u32>,
    }

    /// A speed and the direction it moves towards.
    #[derive(Serialize, ToSchema)]
    pub struct SpeedDir {
        pub kn: f64,
        pub deg: f64,
    }

    /// The divergence datums.
    #[derive(Serialize, ToSchema)]
    pub struct Datums {
        pub left: LatLon,
        pub right: LatLon,
    }

    /// A search area: datum, drift, error, radius and the area polygon.
    #[derive(Serialize, ToSchema)]
    pub struct SearchArea {
        pub datum: LatLon,
        pub datums: Datums,
        pub leeway: SpeedDir,
        pub drift: SpeedDir,
        pub error_nm: f64,
        pub radius_nm: f64,
        /// The rectangle coverage is measured against (properties: `kind`
        /// `search_area`, `n`, `incident`, the inputs and the error budget).
        pub area: Feature,
        /// The datum track from the LKP to the time of interest: a
        /// FeatureCollection of three LineStrings (`side` left, right,
        /// datum) with per-point `times` (absent on areas stored before it
        /// existed).
        pub track: Option<FeatureCollection>,
    }

    /// Which search pattern.
    #[derive(Serialize, Deserialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum PatternKind {
        ExpandingSquare,
        Sector,
        Parallel,
        TrackLine,
    }

    /// Which way it turns (default right).
    #[derive(Deserialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum Turn {
        Right,
        Left,
    }

    /// Take the track spacing from the sweep-width table.
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct Sweep {
        pub object: String,
        /// The searching unit: `ship` or `boat` (the sar crate's `SearchUnit`).
        pub unit: String,
        pub visibility_nm: f64,
        #[serde(default)]
        pub wind_kn: f64,
        #[serde(default)]
        pub fatigued: bool,
    }

    /// The body of `POST /api/incidents/{id}/patterns`.
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct PatternRequest {
        /// The assigned searching unit's MMSI (or `asset_name`).
        pub asset: Option<u32>,
        pub asset_name: Option<String>,
        pub pattern: PatternKind,
        /// Commence search point (not with `fill_area`).
        pub csp: Option<LatLon>,
        #[serde(default)]
        pub first_leg_deg: f64,
        /// Track spacing S (or `sweep`).
        pub spacing_nm: Option<f64>,
        pub sweep: Option<Sweep>,
        pub legs: Option<u32>,
        pub speed_kn: f64,
        pub start: Time,
        pub leg_length_nm: Option<f64>,
        pub radius_nm: Option<f64>,
        pub turn: Option<Turn>,
        /// A parallel sweep laid over the current search area.
        pub fill_area: Option<bool>,
        /// The unit's sweep width for the coverage (> 0, ≤ 50).
        pub sweep_width_nm: Option<f64>,
    }

    /// A planned pattern: a Feature LineString whose properties hold the
    /// plan and its timed waypoints.
    #[derive(Serialize, ToSchema)]
    pub struct PatternFeature {
        #[serde(rename = "type")]
        pub kind: FeatureType,
        pub geometry: Geometry,
        #[schema(value_type = Object)]
        pub properties: Value,
    }

    /// Coverage of the current search area.
    #[derive(Serialize, ToSchema)]
    pub struct Coverage {
        pub coverage_factor: f64,
        /// Probability of detection, `1 − e^(−C)`.
        pub pod: f64,
        pub cumulative_pod: f64,
        pub incident: String,
        /// The search area's number.
        pub search_area: u64,
        #[schema(format = DateTime)]
        pub until: String,
        pub swept: Feature,
        #[schema(value_type = Vec<Object>)]
        pub by_asset: Vec<Value>,
    }

    /// A SITREP's sections (`identity`, `position`, `situation`, …) and
    /// `sar_region`.
    #[derive(Serialize, ToSchema)]
    pub struct Sitrep {
        pub identity: String,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use std::collections::BTreeSet;

    fn doc() -> Value {
        serde_json::from_str(&json()).unwrap()
    }

    fn refs(v: &Value, out: &mut BTreeSet<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.insert(r.clone());
                }
                m.values().for_each(|v| refs(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }

    #[test]
    fn every_reference_resolves_and_every_schema_is_used() {
        let d = doc();
        assert_eq!(d["openapi"], "3.1.0");
        let schemas = d["components"]["schemas"].as_object().unwrap();
        let mut seen = BTreeSet::new();
        refs(&d, &mut seen);
        for r in &seen {
            let name = r.strip_prefix("#/components/schemas/").expect(r);
            assert!(schemas.contains_key(name), "{r} is not defined");
        }
        // Reachable from the paths, directly or through other schemas.
        let mut reachable = BTreeSet::new();
        refs(&d["paths"], &mut reachable);
        loop {
            let mut more = BTreeSet::new();
            for r in &reachable {
                let name = r.trim_start_matches("#/components/schemas/");
                refs(&schemas[name], &mut more);
            }
            let before = reachable.len();
            reachable.extend(more);
            if reachable.len() == before {
                break;
            }
        }
        for name in schemas.keys() {
            let r = format!("#/components/schemas/{name}");
            assert!(reachable.contains(&r), "schema {name} is not used");
        }
    }

    #[test]
    fn path_parameters_match_the_paths_and_ids_are_unique() {
        let d = doc();
        let mut ids = BTreeSet::new();
        for (path, item) in d["paths"].as_object().unwrap() {
            let in_path: BTreeSet<&str> = path
                .split('/')
                .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
                .collect();
            for (method, op) in item.as_object().unwrap() {
                assert!(ids.insert(op["operationId"].as_str().unwrap().to_string()));
                let params = op["parameters"].as_array().cloned().unwrap_or_default();
                let declared: BTreeSet<&str> = params
                    .iter()
                    .filter(|p| p["in"] == "path")
                    .map(|p| p["name"].as_str().unwrap())
                    .collect();
                assert_eq!(in_path, declared, "{method} {path}");
                let names: Vec<&str> = params.iter().map(|p| p["name"].as_str().unwrap()).collect();
                let unique: BTreeSet<&&str> = names.iter().collect();
                assert_eq!(unique.len(), names.len(), "{method} {path}: {names:?}");
                assert!(op["security"].is_array(), "{method} {path}");
                let answers = op["responses"].as_object().unwrap();
                assert!(answers.keys().any(|k| k.starts_with('2') || k == "101"));
            }
        }
    }

    #[test]
    fn errors_are_the_one_error_type_and_roles_are_the_scopes() {
        for op in operations() {
            let v = serde_json::to_value(&op.operation).unwrap();
            for (status, r) in v["responses"].as_object().unwrap() {
                if status.starts_with('4') || status.starts_with('5') {
                    assert_eq!(
                        r["content"]["application/json"]["schema"]["$ref"],
                        "#/components/schemas/ApiError",
                        "{} {status}",
                        op.path
                    );
                }
            }
            let want = match op.access {
                _ if op.path == "/ws" => {
                    serde_json::json!([{"bearer": ["viewer"]}, {"query_token": ["viewer"]}])
                }
                Access::Public => serde_json::json!([{}]),
                Access::Viewer => serde_json::json!([{"bearer": ["viewer"]}]),
                Access::Operator => serde_json::json!([{"bearer": ["operator"]}]),
            };
            assert_eq!(v["security"], want, "{}", op.path);
            let has_401 = v["responses"].get("401").is_some();
            assert_eq!(has_401, op.access != Access::Public, "{}", op.path);
        }
    }
}
